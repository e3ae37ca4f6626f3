"""The payment rail behind a small interface: only the calls the exchange makes.

`StripeGateway` (billing/stripe_gateway.py) implements it on the official SDK; the tests add a
fake for what the localstripe emulator cannot show (Connect transfers, idempotent replays).
The ledger never trusts the gateway for amounts or idempotency: our own rows and keys do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Intent:
    """A PaymentIntent as far as we care: who, how much, and how it stands."""

    id: str
    status: str  # requires_payment_method, requires_confirmation, processing, succeeded, ...
    amount: int
    currency: str  # upper case
    client_secret: str | None = None
    customer: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    failure_code: str | None = None
    failure_message: str | None = None


@dataclass(frozen=True)
class SavedCard:
    """A SetupIntent's outcome: the payment method it saved, if it succeeded."""

    setup_intent_id: str
    status: str
    customer: str | None
    payment_method_id: str | None
    client_secret: str | None = None
    brand: str | None = None
    last4: str | None = None


class InvalidSignature(Exception):
    """A webhook whose Stripe-Signature does not match the raw body, or is too old."""


class PaymentGateway(Protocol):
    """What the exchange asks of a payment provider."""

    publishable_key: str | None

    def create_customer(self, *, name: str, org_id: int, idempotency_key: str) -> str: ...

    def create_payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        customer_id: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> Intent: ...

    def retrieve_payment_intent(self, intent_id: str) -> Intent: ...

    def confirm_payment_intent(self, intent_id: str, payment_method_id: str) -> Intent: ...

    def create_setup_intent(self, *, customer_id: str, idempotency_key: str) -> SavedCard: ...

    def retrieve_setup_intent(self, setup_intent_id: str) -> SavedCard: ...

    def charge_saved_card(
        self,
        *,
        amount: int,
        currency: str,
        customer_id: str,
        payment_method_id: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> Intent: ...

    def refund(self, *, intent_id: str, amount: int, idempotency_key: str) -> str: ...

    def transfer(
        self,
        *,
        amount: int,
        currency: str,
        destination: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> str: ...

    def verify_webhook(self, payload: bytes, signature: str | None) -> dict[str, Any]: ...
