"""Logging in and out of the portals: e-mail and password, a session cookie, a rate limit."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from errors import AuthenticationFailed
from exchange.accounts import authenticate_user
from exchange.models import Role
from extensions import db, limiter
from web.forms import LoginForm

bp = Blueprint("auth", __name__)

HOME_OF = {
    Role.PUBLISHER: "publisher_portal.dashboard",
    Role.BUYER: "buyer_portal.dashboard",
    Role.ADMIN: "admin_portal.dashboard",
}


def portal_home() -> str:
    """The landing page of the logged-in user's role."""
    return url_for(HOME_OF[current_user.organization.role])


def _safe_next(target: str | None) -> str | None:
    # Only a path on this site: never an absolute URL or a scheme-relative one.
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and "\\" not in target else None


def _login_limit() -> str:
    return str(current_app.config.get("LOGIN_RATE_LIMIT", "10 per minute"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> str | Response:
    """The log-in form; on success, the page asked for or the role's dashboard."""
    if current_user.is_authenticated:
        return redirect(portal_home())
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = authenticate_user(db.session, form.email.data or "", form.password.data or "")
        except AuthenticationFailed as exc:
            db.session.rollback()
            error = exc.message
        else:
            db.session.commit()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or portal_home())
    status = 401 if error else (422 if form.errors else 200)
    return render_template("login.html", form=form, error=error), status


@bp.post("/logout")
def logout() -> Response:
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
