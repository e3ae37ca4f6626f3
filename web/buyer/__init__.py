"""The buyer portal (pages under /buyer)."""

from __future__ import annotations

from flask import Blueprint, render_template

from exchange.models import Role
from web.guard import portal

bp = Blueprint("buyer_portal", __name__, url_prefix="/buyer")

# The portal's navigation: (label, endpoint), shown in this order before Reports and API keys.
NAV: list[tuple[str, str]] = [("Dashboard", "buyer_portal.dashboard")]


@bp.get("/")
@portal(Role.BUYER)
def dashboard() -> str:
    return render_template("buyer/dashboard.html")
