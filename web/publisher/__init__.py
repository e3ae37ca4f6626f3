"""The publisher portal (pages under /publisher)."""

from __future__ import annotations

from flask import Blueprint, render_template

from exchange.models import Role
from web.guard import portal

bp = Blueprint("publisher_portal", __name__, url_prefix="/publisher")

# The portal's navigation: (label, endpoint), shown in this order before Reports and API keys.
NAV: list[tuple[str, str]] = [("Dashboard", "publisher_portal.dashboard")]


@bp.get("/")
@portal(Role.PUBLISHER)
def dashboard() -> str:
    return render_template("publisher/dashboard.html")
