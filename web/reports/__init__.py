"""Reports and the campaign planner, for every role over its own data (pages under /reports)."""

from __future__ import annotations

from flask import Blueprint, render_template

from web.guard import portal

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.get("/")
@portal()
def index() -> str:
    return render_template("reports/index.html")
