"""Card disputes on top-ups (Stripe `charge.dispute.created` / `charge.dispute.closed`).

When a buyer's bank disputes a top-up, Stripe takes the money back at once: one entry moves
it out of the buyer's balance (as far as the balance goes; the rest is the platform's loss,
`unrecovered`, on the adjustments account) to Stripe clearing, and the top-up can no longer
be refunded for that amount. A dispute closed as won brings it all back in a reversing
entry; lost leaves it taken. Each dispute acts once (key `chargeback:<dispute id>`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.ledger import Leg, ensure_accounts, headroom, lock_accounts, post_entry
from billing.models import AccountKind, Chargeback, EntryKind, TopUp
from database import utcnow


def _topup_for(session: Session, dispute: dict[str, Any]) -> TopUp | None:
    intent = dispute.get("payment_intent")
    if not isinstance(intent, str):
        return None
    return session.scalar(select(TopUp).where(TopUp.payment_intent_id == intent).with_for_update())


def open_chargeback(session: Session, dispute: dict[str, Any]) -> str:
    """Record a new dispute against the buyer's balance; returns the outcome for the event."""
    dispute_id = str(dispute.get("id") or "")
    if not dispute_id:
        return "ignored"
    topup = _topup_for(session, dispute)
    if topup is None:
        return "not_ours"
    # Events for one dispute take turns on the top-up's row: look again behind its lock.
    if session.scalar(select(Chargeback.id).where(Chargeback.stripe_dispute_id == dispute_id)):
        return "already_recorded"
    amount = min(int(dispute.get("amount") or 0), topup.amount)
    if amount <= 0:
        return "ignored"
    buyer, adjustments, clearing = ensure_accounts(
        session,
        [
            (topup.organization_id, AccountKind.BUYER_BALANCE),
            (None, AccountKind.PLATFORM_ADJUSTMENTS),
            (None, AccountKind.STRIPE_CLEARING),
        ],
        topup.currency,
    )
    locked = lock_accounts(session, [buyer.id, adjustments.id, clearing.id])
    room = headroom(locked[buyer.id])
    taken = amount if room is None else min(amount, max(0, room))
    posted = post_entry(
        session,
        key=f"chargeback:{dispute_id}",
        kind=EntryKind.CHARGEBACK,
        currency=topup.currency,
        legs=[
            Leg(None, AccountKind.STRIPE_CLEARING, amount),
            Leg(topup.organization_id, AccountKind.BUYER_BALANCE, -taken),
            Leg(None, AccountKind.PLATFORM_ADJUSTMENTS, -(amount - taken)),
        ],
        reference=("topup", topup.id),
        memo=f"card dispute {dispute_id}: {dispute.get('reason') or 'no reason given'}",
    )
    topup.refunded_amount += amount
    session.add(
        Chargeback(
            stripe_dispute_id=dispute_id,
            topup_id=topup.id,
            organization_id=topup.organization_id,
            amount=amount,
            currency=topup.currency,
            unrecovered=amount - taken,
            status=str(dispute.get("status") or "needs_response")[:24],
            reason=str(dispute.get("reason") or "")[:64] or None,
            entry_id=posted.entry.id,
        )
    )
    session.flush()
    return "chargeback_recorded"


def close_chargeback(session: Session, dispute: dict[str, Any]) -> str:
    """A closed dispute: won gives the money back (reversing entry), lost keeps it taken."""
    dispute_id = str(dispute.get("id") or "")
    chargeback = session.scalar(
        select(Chargeback).where(Chargeback.stripe_dispute_id == dispute_id).with_for_update()
    )
    if chargeback is None:
        # Closed before we saw it open (events can arrive out of order): record it first,
        # unless a concurrent event just did.
        if open_chargeback(session, dispute) not in ("chargeback_recorded", "already_recorded"):
            return "not_ours"
        chargeback = session.scalars(
            select(Chargeback)
            .where(Chargeback.stripe_dispute_id == dispute_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
    if chargeback.closed_at is not None:
        return "already_closed"
    status = str(dispute.get("status") or "")
    chargeback.status = status[:24]
    chargeback.closed_at = utcnow()
    if status != "won":
        session.flush()
        return "chargeback_lost"
    taken = chargeback.amount - chargeback.unrecovered
    topup = session.get(TopUp, chargeback.topup_id, with_for_update=True)
    assert topup is not None
    posted = post_entry(
        session,
        key=f"chargeback-won:{dispute_id}",
        kind=EntryKind.CHARGEBACK,
        currency=chargeback.currency,
        legs=[
            Leg(None, AccountKind.STRIPE_CLEARING, -chargeback.amount),
            Leg(chargeback.organization_id, AccountKind.BUYER_BALANCE, taken),
            Leg(None, AccountKind.PLATFORM_ADJUSTMENTS, chargeback.unrecovered),
        ],
        reference=("topup", topup.id),
        memo=f"card dispute {dispute_id} won",
    )
    chargeback.reversal_entry_id = posted.entry.id
    topup.refunded_amount -= chargeback.amount
    session.flush()
    return "chargeback_won"
