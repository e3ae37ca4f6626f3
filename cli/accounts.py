"""`flask accounts create`: an organisation, optionally a user, and its first API key."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from exchange.accounts import create_organization, create_user, issue_api_key
from exchange.errors import DomainError
from exchange.models import Role
from extensions import db

accounts = AppGroup("accounts", help="Organisations, users and API keys.")


@accounts.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--email", help="Also create a user who logs in with this e-mail.")
@click.option("--password", help="The user's password (8+ characters).")
@click.option("--currency", default="USD", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print {organization_id, api_key} as JSON.")
def create(
    name: str, role: str, email: str | None, password: str | None, currency: str, as_json: bool
) -> None:
    """Create organisation NAME with a role, print its id and a new API key (shown once)."""
    if bool(email) != bool(password):
        raise click.UsageError("--email and --password go together.")
    try:
        org = create_organization(db.session, name, role, currency=currency)
        if email and password:
            create_user(db.session, org, email, password)
        _, plaintext = issue_api_key(db.session, org, name="cli")
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    if as_json:
        click.echo(json.dumps({"organization_id": org.id, "api_key": plaintext}))
    else:
        click.echo(f"Created {role} organisation {org.id}: {org.name}")
        click.echo(f"API key (shown once): {plaintext}")
