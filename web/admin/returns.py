"""The returns queue: oldest first with filters, each return with both sides' evidence, and
the ruling (approve: the money goes back once; reject: nothing moves)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from billing.currency import format_amount
from billing.models import JournalEntry
from errors import Conflict, DomainError, InvalidInput
from exchange.models import (
    RETURN_REASONS,
    Campaign,
    Conversion,
    Lead,
    LeadReturn,
    Niche,
    ReturnStage,
    ReturnStatus,
    Role,
    Sale,
)
from exchange.organizations import names_of
from exchange.returns import admin_queue, decide, get_return
from extensions import db
from web.admin import bp
from web.admin.inputs import Fields
from web.forms import field_errors
from web.guard import current_org, portal

STATUSES = ("pending", "approved", "rejected", "all")
STAGES = ("", *(s.value for s in ReturnStage))
DECISIONS = ("approve", "reject")


def _niche_options() -> list[tuple[str, str]]:
    rows = db.session.execute(select(Niche.slug, Niche.name).order_by(Niche.name))
    return [("", "All niches"), *((slug, name) for slug, name in rows)]


@bp.get("/returns")
@portal(Role.ADMIN)
def returns() -> tuple[str, int]:
    """The queue, oldest first: pending by default, filtered by stage, reason and niche."""
    query = Fields(request.args)
    status = query.choice("status", STATUSES, default="pending")
    stage = query.choice("stage", STAGES)
    reason = query.choice("reason", ("", *RETURN_REASONS))
    niche_slug = query.raw("niche")
    niche_id = None
    if niche_slug:
        niche_id = db.session.scalar(select(Niche.id).where(Niche.slug == niche_slug))
        if niche_id is None:
            query.fail("niche", "No such niche.")
    page = None
    if not query.errors:
        page = admin_queue(
            db.session,
            limit=50,
            cursor=request.args.get("cursor") or None,
            status=None if status == "all" else status,
            stage=stage or None,
            reason=reason or None,
            niche_id=niche_id,
        )
    items = page.items if page else []
    names = names_of(db.session, [i for r in items for i in (r.buyer_id, r.publisher_id)])
    niche_ids = {r.niche_id for r in items}
    niches = {n.id: n for n in db.session.scalars(select(Niche).where(Niche.id.in_(niche_ids)))}
    html = render_template(
        "admin/returns.html",
        page=page,
        names=names,
        niches=niches,
        filters={"status": status, "stage": stage, "reason": reason, "niche": niche_slug},
        errors=query.errors,
        reason_options=[("", "Any reason"), *((r, r.replace("_", " ")) for r in RETURN_REASONS)],
        niche_options=_niche_options(),
    )
    return html, 422 if query.errors else 200


def _evidence(return_id: int) -> dict[str, Any]:
    """The return with everything both sides said and what the exchange knows of the sale."""
    ret = get_return(db.session, current_org(), return_id)
    sale = db.session.get(Sale, ret.sale_id)
    lead = db.session.get(Lead, ret.lead_id)
    campaign = db.session.get(Campaign, sale.campaign_id) if sale else None
    conversion = db.session.get(Conversion, ret.conversion_id) if ret.conversion_id else None
    refund = db.session.get(JournalEntry, ret.entry_id) if ret.entry_id else None
    return {
        "ret": ret,
        "sale": sale,
        "lead": lead,
        "campaign": campaign,
        "conversion": conversion,
        "refund": refund,
        "niche": db.session.get(Niche, ret.niche_id),
        "names": names_of(db.session, [ret.buyer_id, ret.publisher_id]),
        "decider": _decider(ret),
    }


def _decider(ret: LeadReturn) -> str | None:
    """Who ruled, in words: "automatic", or the admin organisation's name."""
    by = ret.decided_by or ""
    if by.startswith("admin:") and by[6:].isdigit():
        admin_id = int(by[6:])
        return names_of(db.session, [admin_id]).get(admin_id)
    return by or None


def _detail(return_id: int, *, errors: dict[str, list[str]] | None = None, form: Any = None) -> str:
    return render_template(
        "admin/return.html",
        **_evidence(return_id),
        errors=errors or {},
        form=form or {},
        decisions=DECISIONS,
    )


@bp.get("/returns/<int:return_id>")
@portal(Role.ADMIN)
def return_detail(return_id: int) -> str:
    """One return: the buyer's side, the re-check, the publisher's side, the lead and sale."""
    return _detail(return_id)


@bp.post("/returns/<int:return_id>")
@portal(Role.ADMIN)
def decide_return(return_id: int) -> Response | tuple[str, int]:
    """Rule on a pending return with a note; a second ruling is refused with 409."""
    form = Fields(request.form)
    decision = form.choice("decision", DECISIONS)
    note = form.text("note", required=True)
    if form.errors:
        db.session.rollback()
        return _detail(return_id, errors=form.errors, form=request.form), 422
    try:
        ret: LeadReturn = decide(db.session, current_org(), return_id, decision, note)
    except (InvalidInput, Conflict) as exc:
        db.session.rollback()
        status = 409 if isinstance(exc, Conflict) else 422
        return _detail(return_id, errors=field_errors(exc), form=request.form), status
    except DomainError:
        db.session.rollback()
        raise
    approved = ret.status == ReturnStatus.APPROVED
    refunded = format_amount(ret.refunded, ret.currency)
    db.session.commit()
    if approved:
        flash(f"Return {return_id} approved: {refunded} went back to the buyer.", "success")
    else:
        flash(f"Return {return_id} rejected: nothing moved.", "success")
    return redirect(url_for("admin_portal.return_detail", return_id=return_id))
