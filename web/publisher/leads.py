"""The publisher's leads: a filtered list, each lead's quality report in plain words, its sales
(what the publisher earned, never who bought or at what price), and the returns against it
with the form to answer one."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from api.schemas.leads import LeadListQuery
from api.schemas.returns import ResponseIn, ReturnQuery
from exchange.errors import Conflict, InvalidInput
from exchange.leads import get_lead, list_leads
from exchange.models import Lead, LeadReturn, LeadStatus, Niche, Role, Sale
from exchange.pagination import Page
from exchange.reason_text import quality_reasons, reason_text
from exchange.returns import get_return, list_returns, respond
from extensions import db
from web.forms import field_errors
from web.guard import current_org, portal
from web.publisher import bp
from web.publisher.uploads import active_niches

STATUS_OPTIONS = [("", "Any status")] + [(s.value, s.value.title()) for s in LeadStatus]
STATUS_BADGE = {"sold": "good", "unsold": "good", "review": "warn", "rejected": "bad"}
RETURN_REASON_TEXT = {
    "invalid_phone": "the phone number does not work",
    "invalid_email": "the e-mail address does not work",
    "disconnected": "the phone is disconnected",
    "wrong_person": "the contact reached the wrong person",
    "duplicate": "a duplicate of a lead the buyer already had",
    "outside_geography": "outside the buyer's geography",
    "fake_or_fraud": "fake or fraudulent",
    "no_consent": "the person did not consent",
    "other": "another reason (see the note)",
}


def _query(schema: Any, keys: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The list filters from the URL: empty ones dropped, bad ones named."""
    raw = {k: v for k, v in request.args.items() if k in keys and v.strip()}
    unstorable = [k for k, v in raw.items() if "\x00" in v]
    if unstorable:
        return {}, {"_form": ["Check the filters."], **{k: ["Not valid text."] for k in unstorable}}
    try:
        return dict(schema.load(raw)), {}
    except ValidationError as exc:
        errors = {k: v if isinstance(v, list) else [str(v)] for k, v in exc.messages_dict.items()}
        return {}, {"_form": ["Check the filters."], **errors}


@bp.get("/leads")
@portal(Role.PUBLISHER)
def leads() -> Any:
    """The publisher's leads, newest first, filtered by status, niche and day."""
    keys = ("status", "niche", "created_from", "created_to", "cursor")
    query, errors = _query(LeadListQuery(), keys)
    page: Page[Lead] = Page([], None)
    if not errors:
        try:
            page = list_leads(db.session, current_org(), **query)
        except InvalidInput as exc:
            errors = field_errors(exc)
    niches = active_niches()
    return render_template(
        "publisher/leads.html",
        page=page,
        errors=errors,
        args=request.args,
        status_options=STATUS_OPTIONS,
        niche_options=[("", "Any niche"), *((n.slug, n.name) for n in niches)],
        badge=STATUS_BADGE,
        reasons_of=lambda lead: quality_reasons(lead.quality, warnings=False),
    ), (422 if errors else 200)


def _lead_page(lead_id: int, errors: dict[int, dict[str, list[str]]], status: int = 200) -> Any:
    org = current_org()
    lead = get_lead(db.session, org, lead_id)
    sales = db.session.scalars(
        select(Sale).where(Sale.lead_id == lead.id, Sale.publisher_id == org.id).order_by(Sale.id)
    ).all()
    returns = db.session.scalars(
        select(LeadReturn)
        .where(LeadReturn.lead_id == lead.id, LeadReturn.publisher_id == org.id)
        .order_by(LeadReturn.id)
    ).all()
    report = lead.quality or {}
    reasons = [r for r in report.get("reasons") or [] if r.get("severity") != "pass"]
    reasons.sort(key=lambda r: r.get("severity") != "fail")
    passes = [r for r in report.get("reasons") or [] if r.get("severity") == "pass"]
    return render_template(
        "publisher/lead.html",
        lead=lead,
        report=report,
        reasons=[
            (r.get("severity"), reason_text(r.get("code", ""), r.get("message", "")))
            for r in reasons
        ],
        passes=passes,
        sales=sales,
        returns=returns,
        errors=errors,
        form=request.form if errors else {},
        badge=STATUS_BADGE,
        return_reason=RETURN_REASON_TEXT,
    ), status


@bp.get("/leads/<int:lead_id>")
@portal(Role.PUBLISHER)
def lead(lead_id: int) -> Any:
    """One lead: its quality report in plain words, its sales and the returns against it."""
    return _lead_page(lead_id, {})


@bp.post("/returns/<int:return_id>/answer")
@portal(Role.PUBLISHER)
def answer_return(return_id: int) -> Any:
    """The publisher's answer to a return awaiting it, with optional evidence."""
    org = current_org()
    ret = get_return(db.session, org, return_id)
    if ret.publisher_id != org.id:  # a buyer's own return is not the publisher's to answer
        return render_template("error.html", status=404, message=f"No return {return_id}."), 404
    lead_id = ret.lead_id
    evidence = {
        k: v.strip()
        for k in ("text", "reference")
        if (v := request.form.get(f"evidence_{k}", "")).strip()
    }
    body: dict[str, Any] = {"message": request.form.get("message", "").strip()}
    if evidence:
        body["evidence"] = evidence
    try:
        data = ResponseIn().load(body)
        respond(db.session, org, return_id, data)
    except ValidationError as exc:
        db.session.rollback()
        said = [str(m) for m in exc.messages_dict.get("message") or []]
        if said and not body["message"]:
            said = ["Write your answer to the buyer's return."]
        messages = {
            "message": said,
            **{
                f"evidence_{k}": v
                for k, v in (exc.messages_dict.get("evidence") or {}).items()  # type: ignore[union-attr]
            },
        }
        errors = {k: v for k, v in messages.items() if v}
        return _lead_page(lead_id, {return_id: {"_form": ["Check your answer."], **errors}}, 422)
    except (Conflict, InvalidInput) as exc:
        db.session.rollback()
        status = 409 if isinstance(exc, Conflict) else 422
        return _lead_page(lead_id, {return_id: field_errors(exc)}, status)
    db.session.commit()
    flash(f"Your answer to return {return_id} is sent; an admin will rule on it.", "success")
    return redirect(url_for("publisher_portal.lead", lead_id=lead_id) + f"#return-{return_id}")


@bp.get("/returns")
@portal(Role.PUBLISHER)
def returns() -> Any:
    """Returns filed against the publisher's leads, newest first; those awaiting an answer
    are marked."""
    query, errors = _query(ReturnQuery(), ("status", "stage", "cursor"))
    page: Page[LeadReturn] = Page([], None)
    if not errors:
        try:
            page = list_returns(db.session, current_org(), **query)
        except InvalidInput as exc:
            errors = field_errors(exc)
    niche_names = dict(db.session.execute(select(Niche.id, Niche.name)).all())
    return render_template(
        "publisher/returns.html",
        page=page,
        errors=errors,
        args=request.args,
        niche_names=niche_names,
        return_reason=RETURN_REASON_TEXT,
    ), (422 if errors else 200)
