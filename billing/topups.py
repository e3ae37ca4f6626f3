"""Top-ups: a buyer adds money through Stripe; the balance moves once Stripe says it succeeded.

The flow is split around the gateway call, so no database lock is held while Stripe answers:
`open_topup` writes the pending row (the caller commits), `attach_intent` creates the
PaymentIntent with `metadata.topup_id` and an idempotency key naming the attempt (the caller
commits again), and `apply_intent` credits the balance, exactly once, when the intent's
current state says it succeeded (from the verified webhook, or a server-side confirmation).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing.currency import format_amount, max_amount, normalise_currency
from billing.gateway import Intent, PaymentGateway
from billing.ledger import Leg, ensure_account, lock_accounts, post_entry
from billing.models import (
    AccountKind,
    BillingProfile,
    EntryKind,
    JournalEntry,
    TopUp,
    TopUpRefund,
    TopUpStatus,
)
from database import utcnow
from errors import Conflict, InvalidInput, NotFound, PaymentRequired


def validate_amount(amount: int, currency: str, field: str = "amount") -> None:
    """InvalidInput unless `amount` is a positive number of minor units within bounds."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidInput(
            "The amount must be a positive whole number of minor units.",
            fields={field: ["A positive integer in minor units (cents; VND and JPY: units)."]},
        )
    if amount > max_amount(currency):
        raise InvalidInput(
            f"The amount is above the limit of {format_amount(max_amount(currency), currency)}.",
            fields={field: ["Too large."]},
        )


def profile_for(session: Session, org_id: int, *, lock: bool = False) -> BillingProfile:
    """The organisation's billing profile, created on first use."""
    stmt = select(BillingProfile).where(BillingProfile.organization_id == org_id)
    profile = session.scalar(stmt.with_for_update() if lock else stmt)
    if profile is not None:
        return profile
    try:
        with session.begin_nested():
            profile = BillingProfile(organization_id=org_id)
            session.add(profile)
    except IntegrityError:
        profile = session.scalars(stmt.with_for_update() if lock else stmt).one()
    return profile


def ensure_customer(
    session: Session, gateway: PaymentGateway, org_id: int, org_name: str
) -> BillingProfile:
    """The profile with a Stripe customer (created once; the key makes a race harmless)."""
    profile = profile_for(session, org_id)
    if profile.stripe_customer_id is None:
        profile.stripe_customer_id = gateway.create_customer(
            name=org_name, org_id=org_id, idempotency_key=f"customer:{org_id}"
        )
        session.flush()
    return profile


def open_topup(
    session: Session, org_id: int, *, amount: int, currency: str, client_key: str | None
) -> tuple[TopUp, bool]:
    """The pending top-up for this request: (row, created). A repeated `client_key` with the
    same amount and currency returns the first row; with others it is a 409."""
    currency = normalise_currency(currency)
    validate_amount(amount, currency)
    if client_key is not None:
        existing = session.scalar(
            select(TopUp).where(TopUp.organization_id == org_id, TopUp.client_key == client_key)
        )
        if existing is not None:
            if (existing.amount, existing.currency) != (amount, currency):
                raise Conflict(
                    "This Idempotency-Key was used for a different top-up.",
                    code="idempotency_key_reused",
                )
            return existing, False
    topup = TopUp(organization_id=org_id, amount=amount, currency=currency, client_key=client_key)
    try:
        with session.begin_nested():
            session.add(topup)
    except IntegrityError:
        # A concurrent request with the same key won; answer with its row.
        return open_topup(session, org_id, amount=amount, currency=currency, client_key=client_key)
    return topup, True


def attach_intent(session: Session, gateway: PaymentGateway, topup: TopUp, org_name: str) -> TopUp:
    """Create the top-up's PaymentIntent if it has none yet (safe to call again)."""
    if topup.payment_intent_id is not None:
        return topup
    profile = ensure_customer(session, gateway, topup.organization_id, org_name)
    assert profile.stripe_customer_id is not None
    intent = gateway.create_payment_intent(
        amount=topup.amount,
        currency=topup.currency,
        customer_id=profile.stripe_customer_id,
        metadata={"topup_id": str(topup.id), "organization_id": str(topup.organization_id)},
        idempotency_key=f"topup:{topup.id}:attempt:{topup.attempt}",
    )
    topup.payment_intent_id = intent.id
    topup.client_secret = intent.client_secret
    session.flush()
    return topup


def get_topup(session: Session, org_id: int | None, topup_id: int) -> TopUp:
    """A top-up of the organisation (any organisation's when `org_id` is None: admins)."""
    topup = session.get(TopUp, topup_id)
    if topup is None or (org_id is not None and topup.organization_id != org_id):
        raise NotFound(f"No top-up {topup_id}.")
    return topup


def topup_for_intent(session: Session, intent: Intent) -> TopUp | None:
    """The top-up an intent pays for, locked; None when the intent is not one of ours."""
    stmt = select(TopUp).where(TopUp.payment_intent_id == intent.id).with_for_update()
    topup = session.scalar(stmt)
    if topup is None and intent.metadata.get("topup_id", "").isdigit():
        # The webhook can arrive before attach_intent committed the intent id.
        candidate = session.scalar(
            select(TopUp).where(TopUp.id == int(intent.metadata["topup_id"])).with_for_update()
        )
        if candidate is not None and candidate.payment_intent_id in (None, intent.id):
            topup = candidate
            topup.payment_intent_id = intent.id
    return topup


def apply_intent(session: Session, intent: Intent) -> str:
    """Bring our top-up in line with the intent's current state; credit once on success.

    Returns what happened, for the webhook log: credited, already_credited, failed, ...
    """
    topup = topup_for_intent(session, intent)
    if topup is None:
        return "not_ours"
    if (intent.amount, intent.currency) != (topup.amount, topup.currency):
        return "amount_mismatch"
    if intent.status == "succeeded":
        posted = post_entry(
            session,
            key=f"topup:{topup.id}",
            kind=EntryKind.TOPUP,
            currency=topup.currency,
            legs=[
                Leg(None, AccountKind.STRIPE_CLEARING, -topup.amount),
                Leg(topup.organization_id, AccountKind.BUYER_BALANCE, topup.amount),
            ],
            reference=("topup", topup.id),
            memo=f"Top-up by card ({intent.id})",
        )
        topup.status = TopUpStatus.SUCCEEDED
        topup.entry_id = posted.entry.id
        topup.succeeded_at = topup.succeeded_at or utcnow()
        topup.failure_code = topup.failure_message = None
        session.flush()
        return "already_credited" if posted.replayed else "credited"
    if topup.status == TopUpStatus.SUCCEEDED:
        return "already_credited"
    if intent.status == "canceled":
        topup.status = TopUpStatus.CANCELED
        return "canceled"
    if intent.failure_code or intent.failure_message:
        topup.failure_code = intent.failure_code
        topup.failure_message = intent.failure_message
        if topup.source == "auto":
            topup.status = TopUpStatus.FAILED
        return "failed"
    return f"waiting ({intent.status})"


def refund_topup(
    session: Session,
    gateway: PaymentGateway,
    topup: TopUp,
    amount: int,
    *,
    actor_org_id: int | None = None,
    memo: str | None = None,
) -> TopUpRefund:
    """Send `amount` of a succeeded top-up back to its card: never more than it brought in
    (our rows say so, whatever the gateway allows), and never more than the buyer's own
    balance (credit granted by an admin is not refundable).

    The ledger entry is written before the gateway call and the caller commits after it: a
    refused refund rolls everything back.
    """
    locked = session.scalar(select(TopUp).where(TopUp.id == topup.id).with_for_update())
    assert locked is not None
    validate_amount(amount, locked.currency)
    if locked.status != TopUpStatus.SUCCEEDED or locked.payment_intent_id is None:
        raise Conflict("Only a succeeded top-up can be refunded.", code="not_refundable")
    left = locked.amount - locked.refunded_amount
    if amount > left:
        raise Conflict(
            f"A refund of {format_amount(amount, locked.currency)} exceeds what is left of "
            f"this top-up ({format_amount(left, locked.currency)}).",
            code="refund_exceeds_charge",
            fields={"amount": [f"At most {left}."]},
        )
    # Only the buyer's own money goes back to a card, never credit granted by an admin.
    account = ensure_account(
        session, locked.organization_id, AccountKind.BUYER_BALANCE, locked.currency
    )
    # Both accounts of the entry, in id order like every other movement (no deadlock).
    clearing = ensure_account(session, None, AccountKind.STRIPE_CLEARING, locked.currency)
    account = lock_accounts(session, [account.id, clearing.id])[account.id]
    if account.balance < amount:
        raise PaymentRequired(
            f"A refund of {format_amount(amount, locked.currency)} is more than the balance "
            f"({format_amount(max(account.balance, 0), locked.currency)}).",
            fields={"amount": [f"At most {max(account.balance, 0)}."]},
        )
    refund = TopUpRefund(topup_id=locked.id, amount=amount)
    session.add(refund)
    session.flush()
    posted = post_entry(
        session,
        key=f"topup-refund:{refund.id}",
        kind=EntryKind.TOPUP_REFUND,
        currency=locked.currency,
        legs=[
            Leg(locked.organization_id, AccountKind.BUYER_BALANCE, -amount),
            Leg(None, AccountKind.STRIPE_CLEARING, amount),
        ],
        reference=("topup", locked.id),
        memo=memo or "Refund to card",
        reverses=session.get(JournalEntry, locked.entry_id) if locked.entry_id else None,
        actor_org_id=actor_org_id,
    )
    refund.entry_id = posted.entry.id
    locked.refunded_amount += amount
    refund.gateway_refund_id = gateway.refund(
        intent_id=locked.payment_intent_id,
        amount=amount,
        idempotency_key=f"topup-refund:{refund.id}",
    )
    session.flush()
    return refund
