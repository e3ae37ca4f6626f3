"""`flask deliveries run`: deliver sold leads from the outbox in the foreground."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup

from exchange.delivery import pending_count
from extensions import db
from worker import deliver_due

deliveries = AppGroup("deliveries", help="The outbox of sold leads.")


@deliveries.command("run")
@click.option("--once", is_flag=True, help="Deliver what is due now, then stop.")
def run(once: bool) -> None:
    """Deliver due leads (signed webhooks, retries with back-off); loops unless --once."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    while True:
        tried = deliver_due(app)
        if once:
            click.echo(f"Tried {tried} delivery(ies); {pending_count(db.session)} pending.")
            return
        if not tried:
            time.sleep(1)
