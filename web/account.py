"""Pages every role has: its API keys (create shows the key once, revoke) and its audit trail."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from errors import DomainError
from exchange.accounts import issue_api_key, list_api_keys, revoke_api_key
from exchange.audit import list_events
from extensions import db
from web.forms import ApiKeyForm
from web.guard import current_org, portal

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/keys", methods=["GET", "POST"])
@portal()
def keys() -> str | tuple[str, int]:
    """The organisation's API keys; a new key's plaintext is shown on this response only."""
    form = ApiKeyForm()
    created = None
    if form.validate_on_submit():
        _, created = issue_api_key(
            db.session, current_org(), name=form.name.data or "", actor=current_org()
        )
        db.session.commit()
        form = ApiKeyForm(formdata=None)
    page = list_api_keys(db.session, current_org(), limit=100, cursor=request.args.get("cursor"))
    status = 422 if form.errors else 200
    return render_template("account/keys.html", form=form, page=page, created=created), status


@bp.post("/keys/<int:key_id>/revoke")
@portal()
def revoke(key_id: int) -> Response:
    try:
        key = revoke_api_key(db.session, current_org(), key_id, actor=current_org())
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(f"Key {key.prefix}… is revoked.", "info")
    return redirect(url_for("account.keys"))


@bp.get("/audit")
@portal()
def audit() -> str:
    """The organisation's own audit trail, newest first."""
    page = list_events(db.session, current_org(), limit=50, cursor=request.args.get("cursor"))
    return render_template("account/audit.html", page=page)
