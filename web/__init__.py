"""HTML portals for publishers, buyers and admins (server-rendered Jinja on templates/).

Each portal is a blueprint in its own package; `init_web` registers them, the log-in pages,
the account pages every role shares, the money filter and the navigation of each role.
"""

from __future__ import annotations

from flask import Blueprint, Flask, render_template
from sqlalchemy import select

from exchange.models import Niche, User
from extensions import db, login_manager

bp = Blueprint("web", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The logged-in user of a session cookie, while the user and organisation are active."""
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.is_active or not user.organization.is_active:
        return None
    return user


@bp.get("/")
def home() -> str:
    niches = db.session.scalars(select(Niche).where(Niche.is_active).order_by(Niche.name)).all()
    return render_template("home.html", niches=niches)


def init_web(app: Flask) -> None:
    """Register the portal blueprints, template helpers and log-in settings on the app."""
    from web import account, auth, rendering
    from web.admin import bp as admin_bp
    from web.buyer import bp as buyer_bp
    from web.publisher import bp as publisher_bp
    from web.reports import bp as reports_bp

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in to see that page."
    login_manager.login_message_category = "info"
    rendering.init_rendering(app)
    for blueprint in (bp, auth.bp, account.bp, publisher_bp, buyer_bp, admin_bp, reports_bp):
        app.register_blueprint(blueprint)
