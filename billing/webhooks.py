"""Stripe webhooks: each verified event acts once, in the same transaction as its record.

The event's own copy of an object can be stale or arrive out of order, so for payment intents
we fetch the intent's current state from the gateway and act on that.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing.gateway import Intent, PaymentGateway
from billing.models import StripeEvent
from billing.topups import apply_intent

INTENT_EVENTS = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "payment_intent.processing",
        "payment_intent.requires_action",
    }
)


def event_object_id(event: dict[str, Any]) -> str | None:
    obj = (event.get("data") or {}).get("object") or {}
    value = obj.get("id") if isinstance(obj, dict) else None
    return value if isinstance(value, str) else None


def fetch_current(gateway: PaymentGateway, event: dict[str, Any]) -> Intent | None:
    """The current state of the object an event is about, when we act on it (no DB access,
    so the caller can fetch before its write transaction begins)."""
    object_id = event_object_id(event)
    if event.get("type") in INTENT_EVENTS and object_id:
        return gateway.retrieve_payment_intent(object_id)
    return None


def handle_event(session: Session, event: dict[str, Any], current: Intent | None) -> str:
    """Record the event and apply it; a repeated event id changes nothing ("duplicate")."""
    record = StripeEvent(
        id=str(event["id"])[:255],
        type=str(event.get("type", ""))[:100],
        object_id=event_object_id(event),
        outcome="pending",
    )
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:
        return "duplicate"
    if current is not None:
        record.outcome = apply_intent(session, current)
    else:
        record.outcome = "ignored"
    session.flush()
    return record.outcome
