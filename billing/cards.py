"""Saving a card for off-session charges (auto top-up) with a SetupIntent."""

from __future__ import annotations

from sqlalchemy.orm import Session

from billing.gateway import PaymentGateway, SavedCard
from billing.models import BillingProfile
from billing.topups import ensure_customer, profile_for
from errors import Conflict, NotFound


def start_card_setup(
    session: Session, gateway: PaymentGateway, org_id: int, org_name: str, *, attempt_key: str
) -> SavedCard:
    """A SetupIntent for the organisation's customer; the client confirms it with Stripe.js."""
    profile = ensure_customer(session, gateway, org_id, org_name)
    assert profile.stripe_customer_id is not None
    return gateway.create_setup_intent(
        customer_id=profile.stripe_customer_id,
        idempotency_key=f"setup:{org_id}:{attempt_key}",
    )


def finish_card_setup(
    session: Session, gateway: PaymentGateway, org_id: int, setup_intent_id: str
) -> BillingProfile:
    """Keep the card a succeeded SetupIntent of this organisation's customer saved."""
    profile = profile_for(session, org_id, lock=True)
    saved = gateway.retrieve_setup_intent(setup_intent_id)
    if profile.stripe_customer_id is None or saved.customer != profile.stripe_customer_id:
        raise NotFound(f"No setup intent {setup_intent_id} for your organisation.")
    if saved.status != "succeeded" or saved.payment_method_id is None:
        raise Conflict(
            f"The setup intent is {saved.status}; confirm it with the card first.",
            code="setup_not_succeeded",
        )
    profile.payment_method_id = saved.payment_method_id
    profile.card_brand = saved.brand
    profile.card_last4 = saved.last4
    # A new card is a fresh start after a decline.
    profile.auto_topup_failure = None
    profile.auto_topup_failed_at = None
    session.flush()
    return profile
