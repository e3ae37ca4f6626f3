"""Flask CLI groups: `flask accounts ...`, `flask exchange ...`."""

from __future__ import annotations

from flask import Flask


def register_cli(app: Flask) -> None:
    from cli.accounts import accounts
    from cli.billing import billing
    from cli.deliveries import deliveries
    from cli.exchange import exchange
    from cli.leads import leads
    from cli.outcomes import outcomes
    from cli.quality import quality

    for group in (accounts, billing, deliveries, exchange, leads, outcomes, quality):
        app.cli.add_command(group)
