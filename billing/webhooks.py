"""Stripe webhooks: each verified event acts once, in the same transaction as its record.

The event's own copy of an object can be stale or arrive out of order, so for payment intents
we fetch the intent's current state from the gateway and act on that.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing.chargebacks import close_chargeback, open_chargeback
from billing.gateway import Intent, PaymentGateway
from billing.models import Payout, PayoutStatus, StripeEvent
from billing.payouts import fail_payout
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


# A card dispute on a top-up: recorded against the buyer's balance, reversed if won.
DISPUTE_EVENTS = {"charge.dispute.created": "open", "charge.dispute.closed": "close"}

# A Connect transfer taken back after it was made: the payout failed after all.
TRANSFER_REVERSED_EVENTS = frozenset({"transfer.reversed"})


def _transfer_reversed(session: Session, transfer_id: str) -> str:
    payout = session.scalar(
        select(Payout).where(Payout.transfer_id == transfer_id).with_for_update()
    )
    if payout is None:
        return "not_ours"
    if payout.status == PayoutStatus.FAILED:
        return "already_reversed"
    fail_payout(session, payout, "The transfer was reversed.")
    return "payout_reversed"


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
    elif record.type in TRANSFER_REVERSED_EVENTS and record.object_id:
        record.outcome = _transfer_reversed(session, record.object_id)
    elif record.type in DISPUTE_EVENTS:
        dispute = (event.get("data") or {}).get("object") or {}
        if not isinstance(dispute, dict):
            record.outcome = "ignored"
        elif DISPUTE_EVENTS[record.type] == "open":
            record.outcome = open_chargeback(session, dispute)
        else:
            record.outcome = close_chargeback(session, dispute)
    else:
        record.outcome = "ignored"
    session.flush()
    return record.outcome
