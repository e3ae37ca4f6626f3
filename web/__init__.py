"""HTML pages (the portals arrive with issue 7)."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from exchange.models import Niche
from extensions import db, login_manager

bp = Blueprint("web", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> None:
    # Sessions for the portals arrive with issue 7; until then nobody is logged in.
    return None


@bp.get("/")
def home() -> str:
    niches = db.session.scalars(select(Niche).where(Niche.is_active).order_by(Niche.name)).all()
    return render_template("home.html", niches=niches)
