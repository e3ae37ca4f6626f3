"""`flask exchange demo`: load the demo niches and accounts and print their keys."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from exchange.demo import load_demo
from extensions import db

exchange = AppGroup("exchange", help="The marketplace: demo data and maintenance.")


def _read_keys(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


@exchange.command("demo")
@click.option("--json", "as_json", is_flag=True, help="Print the demo accounts as JSON.")
def demo(as_json: bool) -> None:
    """Create the demo niches, a publisher, a buyer and an admin; print their API keys.

    Safe to run again: niches are brought back to the demo definition and keys that still
    work are reused (they are kept in instance/demo_keys.json, readable only by you).
    """
    path = Path(current_app.config["DEMO_KEYS_FILE"])
    accounts = load_demo(db.session, _read_keys(path))
    db.session.commit()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({a.role: a.api_key for a in accounts}, fh)
    if as_json:
        click.echo(json.dumps([a.__dict__ for a in accounts]))
        return
    click.echo(
        f"Demo data loaded. Accounts (password for every portal user: {accounts[0].password}):"
    )
    for a in accounts:
        click.echo(f"  {a.role:<9} org {a.organization_id:<3} {a.email:<22} API key: {a.api_key}")


@exchange.command("rematch")
@click.option("--max-age-days", default=30, show_default=True, help="Oldest lead to offer again.")
def rematch(max_age_days: int) -> None:
    """Offer unsold accepted leads to the campaigns again, at aged-lead prices."""
    import jobs

    offered, sold = jobs.rematch_unsold(max_age_days)
    click.echo(f"Offered {offered} unsold lead(s) again; {sold} sold.")
