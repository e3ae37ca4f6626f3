"""The admin portal (pages under /admin)."""

from __future__ import annotations

from flask import Blueprint, render_template

from exchange.models import Role
from web.guard import portal

bp = Blueprint("admin_portal", __name__, url_prefix="/admin")

# The portal's navigation: (label, endpoint), shown in this order before Reports and API keys.
NAV: list[tuple[str, str]] = [("Dashboard", "admin_portal.dashboard")]


@bp.get("/")
@portal(Role.ADMIN)
def dashboard() -> str:
    return render_template("admin/dashboard.html")
