"""The buyer's money: balances, top-up by card through Stripe.js, auto top-up, statements and
CSV exports.

A top-up from the page: Stripe.js confirms a SetupIntent with the card element (the card is
then saved on the buyer's Stripe customer, which auto top-up also uses); `/topups` opens the
top-up, creates its PaymentIntent and confirms it with that card server-side, then credits the
balance from the intent's state (`apply_intent`, exactly once, as the webhook would). A card
asking for 3-D Secure comes back `requires_action` with the intent's client secret for
`stripe.confirmCardPayment`, and `/topups/<id>/refresh` credits it afterwards.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from api.billing import LEDGER_CSV_COLUMNS, csv_response
from api.billing import gateway as payment_gateway
from billing.autotopup import configure_auto_topup
from billing.cards import finish_card_setup, start_card_setup
from billing.models import BillingProfile, Posting, TopUp, TopUpStatus
from billing.statements import balances, ledger_lines, line_dict, statement
from billing.topups import apply_intent, attach_intent, get_topup, open_topup
from database import utcnow
from errors import Conflict, DomainError, InvalidInput, PaymentsUnavailable
from exchange.models import Role
from extensions import db
from web.buyer import bp
from web.buyer.money import parse_major
from web.forms import field_errors
from web.guard import current_org, portal

LEDGER_COLUMNS = LEDGER_CSV_COLUMNS


def stripe_js_url(gateway: Any) -> str | None:
    """Stripe.js from Stripe, or from the localstripe emulator the gateway points at."""
    if gateway is None:
        return None
    base = getattr(gateway, "api_base", None)
    return f"{base.rstrip('/')}/js.stripe.com/v3/" if base else "https://js.stripe.com/v3/"


def _currencies() -> list[str]:
    org = current_org()
    return sorted({org.currency, *(b["currency"] for b in balances(db.session, org.id))})


def _page(*, auto_errors: dict[str, list[str]] | None = None, auto_values: Any = None) -> str:
    org = current_org()
    gateway = current_app.extensions.get("payment_gateway")
    profile = db.session.get(BillingProfile, org.id)
    topups = db.session.scalars(
        select(TopUp).where(TopUp.organization_id == org.id).order_by(TopUp.id.desc()).limit(10)
    ).all()
    auto = auto_values or {
        "enabled": "on" if profile and profile.auto_topup_enabled else "",
        "currency": (profile and profile.auto_topup_currency) or org.currency,
        "threshold": profile.auto_topup_threshold if profile else None,
        "amount": profile.auto_topup_amount if profile else None,
    }
    return render_template(
        "buyer/billing.html",
        balances=balances(db.session, org.id),
        currencies=_currencies(),
        profile=profile,
        topups=topups,
        stripe_js=stripe_js_url(gateway),
        publishable_key=getattr(gateway, "publishable_key", None),
        auto=auto,
        auto_errors=auto_errors or {},
        this_month=utcnow().strftime("%Y-%m"),
    )


@bp.get("/billing")
@portal(Role.BUYER)
def billing() -> str:
    """Balances, the top-up form with the card element, auto top-up, statements."""
    return _page()


def _json_error(exc: DomainError, status: int) -> tuple[Response, int]:
    db.session.rollback()
    return jsonify(error=exc.code, message=exc.message, fields=field_errors(exc)), status


def _status_of(exc: DomainError) -> int:
    if isinstance(exc, InvalidInput):
        return 422
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, PaymentsUnavailable):
        return 503
    return 402 if exc.code in ("card_declined", "insufficient_funds") else 502


@bp.post("/billing/card-setup")
@portal(Role.BUYER)
def card_setup() -> tuple[Response, int]:
    """A SetupIntent's client secret for Stripe.js's confirmCardSetup (JSON)."""
    org = current_org()
    try:
        saved = start_card_setup(
            db.session, payment_gateway(), org.id, org.name, attempt_key=uuid.uuid4().hex
        )
    except DomainError as exc:
        return _json_error(exc, _status_of(exc))
    db.session.commit()
    return jsonify(setup_intent_id=saved.setup_intent_id, client_secret=saved.client_secret), 201


def _topup_json(topup: TopUp) -> dict[str, Any]:
    org_balances = {
        b["currency"]: b["display"] for b in balances(db.session, topup.organization_id)
    }
    return {
        "id": topup.id,
        "status": topup.status.value,
        "amount": topup.amount,
        "currency": topup.currency,
        "failure_message": topup.failure_message,
        "client_secret": topup.client_secret if topup.status == TopUpStatus.PENDING else None,
        "balance": org_balances.get(topup.currency),
    }


@bp.post("/billing/topups")
@portal(Role.BUYER)
def create_topup() -> tuple[Response, int]:
    """Top up with the card a SetupIntent just saved: open, create the intent, confirm, credit."""
    org = current_org()
    body = request.get_json(silent=True) or {}
    currency = str(body.get("currency") or org.currency)
    try:
        gateway = payment_gateway()
        amount = parse_major(str(body.get("amount") or ""), currency, "amount")
        profile = finish_card_setup(db.session, gateway, org.id, str(body.get("setup_intent_id")))
        method = profile.payment_method_id
        key = str(body.get("key") or "")[:200] or None
        topup, _ = open_topup(db.session, org.id, amount=amount, currency=currency, client_key=key)
        db.session.commit()  # the row exists before Stripe is called
        if topup.status == TopUpStatus.PENDING and topup.payment_intent_id is None:
            attach_intent(db.session, gateway, topup, org.name)
            db.session.commit()
        intent_id = topup.payment_intent_id
        topup_id = topup.id
        db.session.rollback()  # no lock held while Stripe answers
        assert intent_id is not None and method is not None
        intent = gateway.confirm_payment_intent(intent_id, method)
        apply_intent(db.session, intent)
        db.session.commit()
    except DomainError as exc:
        return _json_error(exc, _status_of(exc))
    result = _topup_json(get_topup(db.session, org.id, topup_id))
    result["next"] = "authenticate" if intent.status == "requires_action" else None
    return jsonify(result), 201


@bp.post("/billing/topups/<int:topup_id>/refresh")
@portal(Role.BUYER)
def refresh_topup(topup_id: int) -> tuple[Response, int]:
    """Ask Stripe how the top-up stands and credit it if it succeeded (after 3-D Secure)."""
    org = current_org()
    topup = get_topup(db.session, org.id, topup_id)
    intent_id = topup.payment_intent_id
    db.session.rollback()
    try:
        if intent_id is not None:
            apply_intent(db.session, payment_gateway().retrieve_payment_intent(intent_id))
            db.session.commit()
    except DomainError as exc:
        return _json_error(exc, _status_of(exc))
    return jsonify(_topup_json(get_topup(db.session, org.id, topup_id))), 200


@bp.post("/billing/auto-topup")
@portal(Role.BUYER)
def auto_topup() -> Response | tuple[str, int]:
    """Turn auto top-up on (threshold and amount, in the chosen currency) or off."""
    org = current_org()
    form = request.form
    enabled = form.get("enabled") == "on"
    currency = form.get("currency") or org.currency
    values = {k: form.get(k, "") for k in ("enabled", "currency", "threshold", "amount")}
    try:
        threshold = amount = None
        if enabled:
            threshold = parse_major(form.get("threshold", ""), currency, "threshold", zero=True)
            amount = parse_major(form.get("amount", ""), currency, "amount")
        configure_auto_topup(
            db.session,
            org.id,
            enabled=enabled,
            currency=currency if enabled else None,
            threshold=threshold,
            amount=amount,
        )
    except (InvalidInput, Conflict) as exc:
        db.session.rollback()
        status = 409 if isinstance(exc, Conflict) else 422
        return _page(auto_errors=field_errors(exc), auto_values=values), status
    db.session.commit()
    flash("Auto top-up is on." if enabled else "Auto top-up is off.", "success")
    return redirect(url_for("buyer_portal.billing"))


@bp.get("/billing/statements/<period>")
@portal(Role.BUYER)
def statement_page(period: str) -> Response | tuple[str, int]:
    """A month's (or a day's) statement in one currency; `format=csv` downloads it."""
    org = current_org()
    currency = request.args.get("currency") or org.currency
    try:
        result = statement(db.session, org.id, period, currency)
    except InvalidInput as exc:
        flash(exc.message, "error")
        return redirect(url_for("buyer_portal.billing"))
    if request.args.get("format") == "csv":
        columns = [*LEDGER_COLUMNS, "balance_after"]
        return csv_response(result.lines, columns, f"statement-{period}-{result.currency}.csv")
    start = result.start
    previous = (start - dt.timedelta(days=1)).strftime("%Y-%m")
    following = (start + dt.timedelta(days=32)).strftime("%Y-%m")
    html = render_template(
        "buyer/statement.html",
        result=result,
        currencies=_currencies(),
        previous=previous,
        following=following if following <= utcnow().strftime("%Y-%m") else None,
    )
    return html, 200


@bp.get("/billing/statements")
@portal(Role.BUYER)
def statement_pick() -> Response:
    """The month picker's target: on to that month's statement."""
    period = (request.args.get("period") or "").strip()[:10] or utcnow().strftime("%Y-%m")
    currency = request.args.get("currency") or current_org().currency
    return redirect(url_for("buyer_portal.statement_page", period=period, currency=currency))


@bp.get("/billing/ledger.csv")
@portal(Role.BUYER)
def ledger_csv() -> Response:
    """Every ledger line of the buyer, oldest first."""
    stmt = ledger_lines(current_org().id)
    stmt = stmt.options(joinedload(Posting.entry)).order_by(Posting.id)
    rows = db.session.scalars(stmt).yield_per(500)
    return csv_response((line_dict(p) for p in rows), LEDGER_COLUMNS, "ledger.csv")
