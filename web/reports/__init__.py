"""Reports and the campaign planner, for every role over its own data (pages under /reports)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

# The views register themselves on `bp`.
from web.reports import planner, views  # noqa: E402

__all__ = ["bp", "planner", "views"]
