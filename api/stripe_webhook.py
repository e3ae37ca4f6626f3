"""POST /billing/stripe/webhook: Stripe's signed events (no API key, no CSRF: the signature is
the authentication)."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from api.billing import gateway
from billing.gateway import InvalidSignature
from billing.webhooks import fetch_current, handle_event
from errors import BadRequest
from extensions import csrf, db

log = logging.getLogger("billing.webhook")
bp = Blueprint("stripe_webhook", __name__)
csrf.exempt(bp)


@bp.post("/billing/stripe/webhook")
def stripe_webhook() -> ResponseReturnValue:
    """Verify the Stripe-Signature on the raw body, then act on the event once."""
    gw = gateway()
    payload = request.get_data(cache=False)
    try:
        event = gw.verify_webhook(payload, request.headers.get("Stripe-Signature"))
    except InvalidSignature as exc:
        log.warning("stripe webhook refused: %s", exc)
        raise BadRequest(f"Webhook refused: {exc}", code="invalid_signature") from None
    # Fetch the object's current state before the write transaction starts.
    current = fetch_current(gw, event)
    outcome = handle_event(db.session, event, current)
    db.session.commit()
    log.info("stripe event %s %s: %s", event["id"], event.get("type"), outcome)
    return jsonify(received=True, outcome=outcome), 200
