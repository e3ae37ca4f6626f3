"""Flask CLI groups: `flask accounts ...`, `flask exchange ...`."""

from __future__ import annotations

from flask import Flask


def register_cli(app: Flask) -> None:
    from cli.accounts import accounts
    from cli.exchange import exchange

    app.cli.add_command(accounts)
    app.cli.add_command(exchange)
