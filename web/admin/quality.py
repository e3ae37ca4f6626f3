"""Publishers' quality: volume, rejection, return and conversion rates per publisher, niche
and sub-id, the open flags, and clearing a flag with a note."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from errors import Conflict
from exchange.models import Niche, Role
from exchange.organizations import names_of
from exchange.source_quality import WINDOW_DAYS, clear_flag, list_flags, source_report
from extensions import db
from web.admin import bp
from web.admin.inputs import Fields
from web.guard import current_org, portal


def _page(errors: dict[str, list[str]] | None = None, form: Any = None) -> tuple[str, int]:
    query = Fields(request.args)
    days = query.integer("days", required=False, minimum=1, maximum=366) or WINDOW_DAYS
    by_sub_id = request.args.get("by_sub_id") == "on"
    niches = db.session.execute(select(Niche.id, Niche.slug).order_by(Niche.slug)).all()
    slugs = {niche_id: slug for niche_id, slug in niches}
    niche_slug = query.raw("niche")
    niche_id = next((i for i, s in niches if s == niche_slug), None)
    if niche_slug and niche_id is None:
        query.fail("niche", "No such niche.")
    rows = []
    if not query.errors:
        rows = source_report(db.session, niche_id=niche_id, days=days, by_sub_id=by_sub_id)
    flags = list_flags(db.session, open_only=True)
    names = names_of(
        db.session, [r["publisher_id"] for r in rows] + [f.publisher_id for f in flags]
    )
    html = render_template(
        "admin/quality.html",
        rows=rows,
        flags=flags,
        names=names,
        slugs=slugs,
        filters={"days": query.raw("days") or days, "niche": niche_slug, "by_sub_id": by_sub_id},
        niche_options=[("", "All niches"), *((s, s) for _, s in niches)],
        filter_errors=query.errors,
        errors=errors or {},
        form=form or {},
    )
    return html, 422 if (query.errors or errors) else 200


@bp.get("/quality")
@portal(Role.ADMIN)
def quality() -> tuple[str, int]:
    """The quality table over the last N days and the publishers flagged for returns."""
    return _page()


@bp.post("/flags/<int:flag_id>/clear")
@portal(Role.ADMIN)
def clear_publisher_flag(flag_id: int) -> Response | tuple[str, int]:
    """Clear a flag with a note: the publisher's leads in the niche are scored normally again."""
    form = Fields(request.form)
    note = form.text("note", required=True)
    if form.errors:
        return _page({f"note-{flag_id}": form.errors["note"]}, request.form)
    try:
        clear_flag(db.session, current_org(), flag_id, note)
    except Conflict as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("admin_portal.quality"))
    db.session.commit()
    flash(f"Flag {flag_id} cleared.", "success")
    return redirect(url_for("admin_portal.quality"))
