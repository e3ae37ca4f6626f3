"""Auto top-up: a saved card charged off-session when a sale takes a balance under a threshold.

A charge that leaves the balance under the buyer's threshold queues one pending auto top-up
(never a second while one is pending). `run_auto_topups` (a job) charges the saved card. A
decline is recorded on the top-up and the profile and switches auto top-up off until the buyer
saves a card or changes the settings: a declined card is never retried in a loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.currency import normalise_currency
from billing.gateway import PaymentGateway
from billing.models import BillingProfile, LedgerAccount, TopUp, TopUpStatus
from billing.topups import apply_intent, profile_for, validate_amount
from database import utcnow
from errors import CardDeclined, Conflict, GatewayError, InvalidInput


def configure_auto_topup(
    session: Session,
    org_id: int,
    *,
    enabled: bool,
    currency: str | None = None,
    threshold: int | None = None,
    amount: int | None = None,
) -> BillingProfile:
    """Turn auto top-up on (with a threshold and an amount) or off; clears a past decline."""
    profile = profile_for(session, org_id, lock=True)
    if enabled:
        if profile.payment_method_id is None:
            raise Conflict("Save a card before turning auto top-up on.", code="no_saved_card")
        missing = {
            name: ["Required when enabled is true."]
            for name, value in (
                ("currency", currency),
                ("threshold", threshold),
                ("amount", amount),
            )
            if value is None
        }
        if missing:
            raise InvalidInput(
                "Auto top-up needs a currency, a threshold and an amount.", fields=missing
            )
        assert currency is not None and threshold is not None and amount is not None
        currency = normalise_currency(currency)
        validate_amount(amount, currency)
        if isinstance(threshold, bool) or threshold < 0:
            raise InvalidInput("The threshold cannot be negative.", fields={"threshold": ["≥ 0."]})
        profile.auto_topup_currency = currency
        profile.auto_topup_threshold = threshold
        profile.auto_topup_amount = amount
    profile.auto_topup_enabled = enabled
    profile.auto_topup_failure = None
    profile.auto_topup_failed_at = None
    session.flush()
    return profile


def note_balance_after_charge(session: Session, buyer_id: int, account: LedgerAccount) -> None:
    """Queue an auto top-up if this charge took the balance under the buyer's threshold."""
    profile = session.get(BillingProfile, buyer_id)
    if (
        profile is None
        or not profile.auto_topup_enabled
        or profile.auto_topup_failed_at is not None
        or profile.auto_topup_currency != account.currency
        or profile.auto_topup_threshold is None
        or profile.auto_topup_amount is None
        or account.balance >= profile.auto_topup_threshold
    ):
        return
    pending = session.scalar(
        select(TopUp.id).where(
            TopUp.organization_id == buyer_id,
            TopUp.source == "auto",
            TopUp.status == TopUpStatus.PENDING,
        )
    )
    if pending is None:
        session.add(
            TopUp(
                organization_id=buyer_id,
                amount=profile.auto_topup_amount,
                currency=account.currency,
                source="auto",
            )
        )


@dataclass(frozen=True)
class AutoTopUpResult:
    topup_id: int
    organization_id: int
    outcome: str  # credited, declined, gateway_error, no_card, canceled
    message: str | None = None


def pending_auto_topups(session: Session, limit: int = 100) -> list[int]:
    """Ids of auto top-ups waiting for their charge."""
    stmt = (
        select(TopUp.id)
        .where(TopUp.source == "auto", TopUp.status == TopUpStatus.PENDING)
        .order_by(TopUp.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def run_auto_topup(session: Session, gateway: PaymentGateway, topup_id: int) -> AutoTopUpResult:
    """Charge the saved card for one pending auto top-up; the caller commits afterwards.

    The gateway call carries `topup:<id>:attempt:<n>`, so a crash and a rerun charge once.
    """
    topup = session.scalar(select(TopUp).where(TopUp.id == topup_id).with_for_update())
    if topup is None or topup.status != TopUpStatus.PENDING:
        return AutoTopUpResult(topup_id, topup.organization_id if topup else 0, "skipped")
    profile = profile_for(session, topup.organization_id, lock=True)
    if not profile.auto_topup_enabled:
        # Turned off after this was queued: the buyer no longer agrees to the charge.
        topup.status = TopUpStatus.CANCELED
        return AutoTopUpResult(topup.id, topup.organization_id, "canceled")
    if profile.payment_method_id is None or profile.stripe_customer_id is None:
        return _declined(topup, profile, "no_card", "No saved card to charge.")
    try:
        intent = gateway.charge_saved_card(
            amount=topup.amount,
            currency=topup.currency,
            customer_id=profile.stripe_customer_id,
            payment_method_id=profile.payment_method_id,
            metadata={"topup_id": str(topup.id), "organization_id": str(topup.organization_id)},
            idempotency_key=f"topup:{topup.id}:attempt:{topup.attempt}",
        )
    except CardDeclined as exc:
        return _declined(topup, profile, "declined", exc.message)
    except GatewayError as exc:
        # Unknown outcome: leave it pending; the next run repeats the same idempotency key.
        return AutoTopUpResult(topup.id, topup.organization_id, "gateway_error", exc.message)
    topup.payment_intent_id = intent.id
    session.flush()
    outcome = apply_intent(session, intent)
    if outcome == "failed":
        return _declined(topup, profile, "declined", intent.failure_message or "Declined.")
    return AutoTopUpResult(topup.id, topup.organization_id, outcome)


def _declined(topup: TopUp, profile: BillingProfile, outcome: str, message: str) -> AutoTopUpResult:
    topup.status = TopUpStatus.FAILED
    topup.failure_message = message
    profile.auto_topup_failure = message
    profile.auto_topup_failed_at = utcnow()
    return AutoTopUpResult(topup.id, topup.organization_id, outcome, message)
