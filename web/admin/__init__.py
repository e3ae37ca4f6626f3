"""The admin portal (pages under /admin): the queues admins work, the price book, niches,
publishers' quality, organisations and credit, and the ledger check."""

from __future__ import annotations

from flask import Blueprint, render_template

from exchange.admin_overview import attention, check_summary, last_book_check
from exchange.models import Role
from extensions import db
from web.guard import portal

bp = Blueprint("admin_portal", __name__, url_prefix="/admin")

# The portal's navigation: (label, endpoint), shown in this order before Reports and API keys.
NAV: list[tuple[str, str]] = [
    ("Dashboard", "admin_portal.dashboard"),
    ("Returns", "admin_portal.returns"),
    ("Reviews", "admin_portal.reviews"),
    ("Niches", "admin_portal.niches"),
    ("Prices", "admin_portal.prices"),
    ("Quality", "admin_portal.quality"),
    ("Organisations", "admin_portal.organizations"),
    ("Ledger", "admin_portal.ledger"),
]


@bp.get("/")
@portal(Role.ADMIN)
def dashboard() -> str:
    """What needs attention: the queues' sizes and the ledger check's last result."""
    return render_template(
        "admin/dashboard.html",
        counts=attention(db.session),
        check=check_summary(last_book_check(db.session)),
    )


# The pages register themselves on `bp` when imported.
from web.admin import (  # noqa: E402
    ledger,
    niches,
    organizations,
    prices,
    quality,
    returns,
    reviews,
)

__all__ = [
    "NAV",
    "bp",
    "ledger",
    "niches",
    "organizations",
    "prices",
    "quality",
    "returns",
    "reviews",
]
