"""The publisher portal (pages under /publisher): dashboard, leads with their quality reports,
returns to answer, CSV upload, payouts and posting instructions."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("publisher_portal", __name__, url_prefix="/publisher")

# The portal's navigation: (label, endpoint), shown in this order before Reports and API keys.
NAV: list[tuple[str, str]] = [
    ("Dashboard", "publisher_portal.dashboard"),
    ("Leads", "publisher_portal.leads"),
    ("Upload", "publisher_portal.uploads"),
    ("Returns", "publisher_portal.returns"),
    ("Payouts", "publisher_portal.payouts"),
    ("Posting instructions", "publisher_portal.instructions"),
]

# The pages register their routes on `bp` when imported.
from web.publisher import dashboard, instructions, leads, payouts, uploads  # noqa: E402, F401
