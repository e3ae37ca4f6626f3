"""The review queue: leads the quality checks could not decide. Accept or reject one with a
note, or tick several and decide them together (each in its own savepoint: one lead that
cannot be decided, e.g. decided meanwhile by another admin, does not stop the others)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from errors import DomainError, InvalidInput
from exchange.models import Niche, Organization, Role
from exchange.organizations import names_of
from exchange.reviews import decide_review, list_reviews
from extensions import db
from web.admin import bp
from web.admin.inputs import Fields
from web.guard import current_org, portal

DECISIONS = ("accept", "reject")
DONE = {"accept": "accepted", "reject": "rejected"}
MAX_BULK = 200


def _filters(args: MultiDict[str, str]) -> tuple[dict[str, Any], Fields]:
    query = Fields(args)
    niche = query.text("niche", max_len=64)
    reason = query.text("reason", max_len=64)
    publisher_id = query.integer("publisher", required=False, minimum=1)
    return {"niche": niche, "reason": reason, "publisher": publisher_id}, query


def _queue(errors: dict[str, list[str]] | None = None, form: Any = None) -> tuple[str, int]:
    filters, query = _filters(request.args)
    page = None
    if not query.errors:
        try:
            page = list_reviews(
                db.session,
                current_org(),
                limit=50,
                cursor=request.args.get("cursor") or None,
                niche=filters["niche"] or None,
                publisher_id=filters["publisher"],
                reason=filters["reason"] or None,
            )
        except InvalidInput as exc:
            for name, messages in exc.fields.items():
                query.errors.setdefault(name, []).extend(messages)
    items = page.items if page else []
    publishers = db.session.execute(
        select(Organization.id, Organization.name)
        .where(Organization.role == Role.PUBLISHER)
        .order_by(Organization.name)
    ).all()
    niches = db.session.execute(select(Niche.slug, Niche.name).order_by(Niche.name)).all()
    html = render_template(
        "admin/reviews.html",
        page=page,
        names=names_of(db.session, [lead.publisher_id for lead in items]),
        filters={k: ("" if v is None else v) for k, v in filters.items()},
        filter_errors=query.errors,
        errors=errors or {},
        form=form or MultiDict(),
        niche_options=[("", "All niches"), *niches],
        publisher_options=[("", "All publishers"), *publishers],
    )
    return html, 422 if (query.errors or errors) else 200


@bp.get("/reviews")
@portal(Role.ADMIN)
def reviews() -> tuple[str, int]:
    """Leads in review, oldest first, filtered by niche, publisher and reason code."""
    return _queue()


def _back() -> Response:
    args = {k: v for k, v in request.args.items() if k in ("niche", "reason", "publisher")}
    return redirect(url_for("admin_portal.reviews", **args))


@bp.post("/reviews/<int:lead_id>/decide")
@portal(Role.ADMIN)
def decide_one(lead_id: int) -> Response | tuple[str, int]:
    """Accept or reject one lead with the note typed above the queue."""
    form = Fields(request.form)
    decision = form.choice("decision", DECISIONS)
    note = form.text("note")
    if form.errors:
        return _queue(form.errors, request.form)
    try:
        decide_review(db.session, current_org(), lead_id, decision, note)
    except DomainError as exc:
        db.session.rollback()
        if exc.code == "not_found":
            raise
        flash(exc.message, "error")
        return _back()
    db.session.commit()
    flash(f"Lead {lead_id} {DONE[decision]}.", "success")
    return _back()


@bp.post("/reviews/decide")
@portal(Role.ADMIN)
def decide_many() -> Response | tuple[str, int]:
    """Decide every ticked lead the same way; each lead's result is reported."""
    form = Fields(request.form)
    decision = form.choice("decision", DECISIONS)
    note = form.text("note")
    ids: list[int] = []
    for raw in request.form.getlist("lead"):
        if not raw.isdigit() or int(raw) < 1:
            form.fail("lead", f"{raw!r} is not a lead id.")
        elif int(raw) not in ids:
            ids.append(int(raw))
    if not ids and "lead" not in form.errors:
        form.fail("lead", "Tick at least one lead.")
    if len(ids) > MAX_BULK:
        form.fail("lead", f"At most {MAX_BULK} leads at once.")
    if form.errors:
        return _queue(form.errors, request.form)
    done, failed = [], []
    for lead_id in ids:
        try:
            with db.session.begin_nested():
                decide_review(db.session, current_org(), lead_id, decision, note)
        except DomainError as exc:
            failed.append(f"Lead {lead_id}: {exc.message}")
        else:
            done.append(lead_id)
    db.session.commit()
    if done:
        listed = ", ".join(str(i) for i in done)
        flash(
            f"{len(done)} lead{'s' if len(done) != 1 else ''} {DONE[decision]}: {listed}.",
            "success",
        )
    for message in failed:
        flash(message, "error")
    return _back()
