"""The buyer's campaigns: the list with pacing, the wizard (new and edit), pause/resume, the
live price-book quote and "send test lead"."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from billing.currency import format_amount
from database import utcnow
from errors import Conflict, DomainError, InvalidInput, NotFound
from exchange.campaign_rules import DAYS
from exchange.campaigns import create_campaign, get_campaign, list_campaigns, update_campaign
from exchange.campaigns import set_status as set_campaign_status
from exchange.models import CampaignStatus, Niche, Role
from exchange.niches import get_niche
from exchange.pacing import usage_by_campaign
from exchange.pricing import Quote, place_of, quote
from exchange.test_leads import deliver_test_lead, prepare_test_lead, record_test_lead
from extensions import db
from web.buyer import bp
from web.buyer.campaign_errors import Errors, map_errors, validate
from web.buyer.campaign_form import (
    TIMEZONES,
    form_values,
    new_values,
    parse,
    us_states,
    values_of,
)
from web.guard import current_org, portal
from worker import HttpSender, SmtpMailer

QUOTE_SCORE = 75  # a typical lead: the price book's standard quality tier


def _niches() -> list[Niche]:
    stmt = select(Niche).where(Niche.is_active).order_by(Niche.name)
    return list(db.session.scalars(stmt))


def _niche_or_none(slug: str | None) -> Niche | None:
    if not slug:
        return None
    try:
        return get_niche(db.session, slug)
    except NotFound:
        return None


def price_quote(
    niche: Niche, state: str = "", zip_code: str = "", exclusive: bool = False
) -> Quote:
    """The price book's price for a typical lead of the niche in a state or at a ZIP."""
    try:
        if zip_code:
            place = place_of(None, None, zip_code)
        elif state:
            place = place_of("US", state)
        else:
            place = place_of(None)
    except DomainError:
        place = place_of(None)
    return quote(db.session, niche, place, score=QUOTE_SCORE, exclusive=exclusive)


def _quote_for(niche: Niche | None, values: dict[str, Any]) -> Quote | None:
    if niche is None:
        return None
    states = values.get("states") or []
    zips = (values.get("zips") or "").split()
    zip_code = values.get("radius_zip") or (zips[0] if zips else "")
    return price_quote(
        niche,
        states[0] if states else "",
        "" if states else zip_code,
        values.get("exclusive") == "on",
    )


def _wizard(
    niche: Niche | None,
    values: dict[str, Any],
    errors: Errors,
    *,
    campaign: Any = None,
    status: int = 200,
) -> tuple[str, int]:
    currency = campaign.currency if campaign else (niche.currency if niche else "USD")
    html = render_template(
        "buyer/campaign_form.html",
        niche=niche,
        niches=_niches(),
        values=values,
        errors=errors,
        campaign=campaign,
        currency=currency,
        states=us_states(),
        days=DAYS,
        timezones=TIMEZONES,
        quote=_quote_for(niche, values),
    )
    return html, status


@bp.get("/campaigns")
@portal(Role.BUYER)
def campaigns() -> str:
    """The buyer's campaigns with today's and this month's use against caps and budget."""
    status = (
        request.args.get("status") if request.args.get("status") in ("active", "paused") else None
    )
    try:
        page = list_campaigns(
            db.session, current_org(), limit=50, cursor=request.args.get("cursor"), status=status
        )
    except InvalidInput:
        page = list_campaigns(db.session, current_org(), limit=50, status=status)
    pacing = usage_by_campaign(db.session, page.items, utcnow())
    return render_template("buyer/campaigns.html", page=page, pacing=pacing, status=status)


@bp.route("/campaigns/new", methods=["GET", "POST"])
@portal(Role.BUYER)
def new_campaign() -> Response | tuple[str, int]:
    """The wizard for a new campaign: pick the niche, then everything else on one page."""
    if request.method == "GET":
        niche = _niche_or_none(request.args.get("niche"))
        return _wizard(niche, new_values(), {})
    niche = _niche_or_none(request.form.get("niche"))
    values = form_values(request.form)
    currency = niche.currency if niche else "USD"
    body, errors = parse(request.form, niche, currency, new=True)
    if niche is None:
        errors.setdefault("niche", []).append("Choose the niche this campaign buys in.")
    data, schema_errors = validate(body, new=True)
    for field, messages in schema_errors.items():
        errors.setdefault(field, messages)  # a field's own message first, not twice
    if errors:
        errors.setdefault("_form", ["Please correct the fields marked below."])
        return _wizard(niche, values, errors, status=422)
    try:
        campaign = create_campaign(db.session, current_org(), data)
    except (InvalidInput, Conflict) as exc:
        db.session.rollback()
        return _wizard(
            niche,
            values,
            {"_form": [exc.message], **map_errors(exc.fields, body)},
            status=409 if isinstance(exc, Conflict) else 422,
        )
    db.session.commit()
    flash(
        f"Campaign “{campaign.name}” is live. Send a test lead to check your receiver.", "success"
    )
    return redirect(url_for("buyer_portal.campaign", campaign_id=campaign.id))


@bp.route("/campaigns/<int:campaign_id>", methods=["GET", "POST"])
@portal(Role.BUYER)
def campaign(campaign_id: int) -> Response | tuple[str, int]:
    """One campaign in the wizard: change it, send a test lead, see its signing secret."""
    found = get_campaign(db.session, current_org(), campaign_id)
    if request.method == "GET":
        return _wizard(found.niche, values_of(found), {}, campaign=found)
    values = form_values(request.form)
    body, errors = parse(request.form, found.niche, found.currency, new=False)
    data, schema_errors = validate(body, new=False)
    for field, messages in schema_errors.items():
        errors.setdefault(field, messages)  # a field's own message first, not twice
    if errors:
        errors.setdefault("_form", ["Please correct the fields marked below."])
        return _wizard(found.niche, values, errors, campaign=found, status=422)
    try:
        update_campaign(db.session, current_org(), campaign_id, data)
    except (InvalidInput, Conflict) as exc:
        db.session.rollback()
        found = get_campaign(db.session, current_org(), campaign_id)
        return _wizard(
            found.niche,
            values,
            {"_form": [exc.message], **map_errors(exc.fields, body)},
            campaign=found,
            status=409 if isinstance(exc, Conflict) else 422,
        )
    db.session.commit()
    flash("Campaign saved.", "success")
    return redirect(url_for("buyer_portal.campaign", campaign_id=campaign_id))


def _set_status(campaign_id: int, status: CampaignStatus) -> Response:
    found = set_campaign_status(db.session, current_org(), campaign_id, status)
    db.session.commit()
    word = "paused" if status == CampaignStatus.PAUSED else "buying again"
    flash(f"Campaign “{found.name}” is {word}.", "success")
    back = request.form.get("next", "")
    target = back if back.startswith("/buyer/") else url_for("buyer_portal.campaigns")
    return redirect(target)


@bp.post("/campaigns/<int:campaign_id>/pause")
@portal(Role.BUYER)
def pause_campaign(campaign_id: int) -> Response:
    return _set_status(campaign_id, CampaignStatus.PAUSED)


@bp.post("/campaigns/<int:campaign_id>/resume")
@portal(Role.BUYER)
def resume_campaign(campaign_id: int) -> Response:
    return _set_status(campaign_id, CampaignStatus.ACTIVE)


@bp.post("/campaigns/<int:campaign_id>/test-lead")
@portal(Role.BUYER)
def test_lead(campaign_id: int) -> Response:
    """Send a signed sample lead to the campaign's destination; show what the receiver said."""
    org = current_org()
    prepared = prepare_test_lead(db.session, org, campaign_id)
    db.session.rollback()  # no transaction open while the buyer's server answers
    cfg = current_app.config
    mailer = SmtpMailer(cfg) if cfg.get("SMTP_HOST") else None
    result = deliver_test_lead(prepared, HttpSender(), mailer=mailer, timeout=5.0)
    record_test_lead(db.session, current_org(), campaign_id, result)
    db.session.commit()
    if result.method == "portal":
        flash("Portal delivery: leads appear under Purchases; there is nothing to send.", "info")
    elif result.ok:
        flash(
            f"Test lead delivered to {result.target}: the receiver answered "
            f"{result.status_code} in {result.duration_ms} ms.",
            "success",
        )
    else:
        said = f"answered {result.status_code}" if result.status_code else f"failed: {result.error}"
        flash(f"Test lead to {result.target} {said}.", "error")
    return redirect(url_for("buyer_portal.campaign", campaign_id=campaign_id) + "#delivery")


@bp.get("/quote")
@portal(Role.BUYER)
def live_quote() -> Response:
    """The price book's price for the wizard (session-authenticated JSON)."""
    niche = _niche_or_none(request.args.get("niche"))
    if niche is None:
        return jsonify(priced=False, message="Choose a niche.")
    found = price_quote(
        niche,
        request.args.get("state", "")[:8],
        request.args.get("zip", "")[:10],
        request.args.get("exclusive") in ("1", "true", "on"),
    )
    if found.rule_place is None:
        return jsonify(
            priced=False, currency=found.currency, message="No price-book rule here yet."
        )
    return jsonify(
        priced=True,
        currency=found.currency,
        price=found.price,
        floor=found.floor,
        price_display=format_amount(found.price, found.currency),
        floor_display=format_amount(found.floor, found.currency),
        place=found.rule_place or "whole niche",
    )
