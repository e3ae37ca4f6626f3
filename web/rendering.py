"""What every portal template can use: money and number filters, the role's navigation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import Flask, request
from flask_login import current_user

from billing.currency import exponent, format_amount, to_major
from exchange.models import Role


def money(amount: int | None, currency: str | None) -> str:
    """Minor units in the currency's own decimals: 123450 USD -> '1,234.50 USD', VND none."""
    if amount is None or not currency:
        return "—"
    return format_amount(int(amount), currency)


def major(amount: int | None, currency: str) -> str:
    """Minor units as a plain major-unit number for an input's value (no separators)."""
    if amount is None:
        return ""
    return f"{to_major(int(amount), currency):.{exponent(currency)}f}"


def percent(value: float | Decimal | None, digits: int = 1) -> str:
    """A ratio (0.123) as '12.3%'; None (nothing to divide by) as '—'."""
    if value is None:
        return "—"
    return f"{float(value) * 100:.{digits}f}%"


def number(value: int | float | None) -> str:
    return "—" if value is None else f"{value:,}"


def when(value: dt.datetime | dt.date | None) -> str:
    """A timestamp in UTC to the minute ('2026-11-22 14:05 UTC'); a date as ISO."""
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def _nav() -> list[tuple[str, str]]:
    from web.admin import NAV as ADMIN_NAV
    from web.buyer import NAV as BUYER_NAV
    from web.publisher import NAV as PUBLISHER_NAV

    if not current_user.is_authenticated:
        return []
    by_role = {Role.PUBLISHER: PUBLISHER_NAV, Role.BUYER: BUYER_NAV, Role.ADMIN: ADMIN_NAV}
    shared = [("Reports", "reports.index"), ("API keys", "account.keys")]
    shared.append(("Audit trail", "account.audit"))
    return [*by_role[current_user.organization.role], *shared]


def _template_globals() -> dict[str, Any]:
    return {"nav": _nav(), "endpoint": request.endpoint or ""}


def init_rendering(app: Flask) -> None:
    """Install the filters and the navigation context processor."""
    app.jinja_env.filters.update(money=money, major=major, percent=percent, number=number)
    app.jinja_env.filters["when"] = when
    app.context_processor(_template_globals)
