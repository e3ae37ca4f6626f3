"""The buyer portal (pages under /buyer): campaigns and their wizard, purchases and their
pipeline, returns, and billing (balance, Stripe top-ups, auto top-up, statements)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("buyer_portal", __name__, url_prefix="/buyer")

# The portal's navigation: (label, endpoint), shown in this order before Reports and API keys.
NAV: list[tuple[str, str]] = [
    ("Dashboard", "buyer_portal.dashboard"),
    ("Campaigns", "buyer_portal.campaigns"),
    ("Purchases", "buyer_portal.purchases"),
    ("Returns", "buyer_portal.returns"),
    ("Billing", "buyer_portal.billing"),
    ("Planner", "reports.planner"),
]

# The views register their routes on `bp` when imported.
from web.buyer import billing, campaigns, dashboard, purchases  # noqa: E402, F401
