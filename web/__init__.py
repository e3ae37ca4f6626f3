"""HTML pages (the portals arrive with issue 7)."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from exchange.models import Niche, User
from extensions import db, login_manager

bp = Blueprint("web", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The logged-in user of a session cookie (portal log-in arrives with issue 7)."""
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.is_active else None


@bp.get("/")
def home() -> str:
    niches = db.session.scalars(select(Niche).where(Niche.is_active).order_by(Niche.name)).all()
    return render_template("home.html", niches=niches)
