"""A payment gateway for what the localstripe emulator cannot show: Connect transfers, replayed
idempotency keys, declines on demand, and over-refunds it would happily accept."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Any

from billing.gateway import Intent, SavedCard
from billing.stripe_gateway import verify_stripe_signature
from errors import CardDeclined, GatewayError, NotFound

WEBHOOK_SECRET = "whsec_fake_gateway"


@dataclass
class FakeGateway:
    """Remembers every call; a repeated idempotency key returns the first result, as Stripe's
    does. It does not limit refunds: our own code must."""

    publishable_key: str | None = "pk_test_fake"
    webhook_secret: str = WEBHOOK_SECRET
    declined_methods: set[str] = field(default_factory=set)
    failing_destinations: set[str] = field(default_factory=set)
    down: bool = False
    intents: dict[str, Intent] = field(default_factory=dict)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    transfers: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    _by_key: dict[str, Any] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def _once(self, key: str, make: Any) -> Any:
        if self.down:
            raise GatewayError("The payment provider could not be reached (fake outage).")
        if key not in self._by_key:
            self._by_key[key] = make()
        return self._by_key[key]

    def _id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids)}"

    def create_customer(self, *, name: str, org_id: int, idempotency_key: str) -> str:
        self.calls.append("create_customer")
        return self._once(idempotency_key, lambda: self._id("cus"))  # type: ignore[no-any-return]

    def create_payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        customer_id: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> Intent:
        self.calls.append("create_payment_intent")

        def make() -> Intent:
            intent_id = self._id("pi")
            intent = Intent(
                intent_id,
                "requires_payment_method",
                amount,
                currency.upper(),
                f"{intent_id}_secret_x",
                customer_id,
                dict(metadata),
            )
            self.intents[intent_id] = intent
            return intent

        return self._once(idempotency_key, make)  # type: ignore[no-any-return]

    def retrieve_payment_intent(self, intent_id: str) -> Intent:
        self.calls.append("retrieve_payment_intent")
        if self.down:
            raise GatewayError("fake outage")
        return self.intents[intent_id]

    def set_status(self, intent_id: str, status: str, **changes: Any) -> Intent:
        """Move an intent, as a customer paying (or failing to) would."""
        self.intents[intent_id] = replace(self.intents[intent_id], status=status, **changes)
        return self.intents[intent_id]

    def confirm_payment_intent(self, intent_id: str, payment_method_id: str) -> Intent:
        self.calls.append("confirm_payment_intent")
        if payment_method_id in self.declined_methods:
            return self.set_status(
                intent_id,
                "requires_payment_method",
                failure_code="card_declined",
                failure_message="Your card was declined.",
            )
        return self.set_status(intent_id, "succeeded")

    def create_setup_intent(self, *, customer_id: str, idempotency_key: str) -> SavedCard:
        self.calls.append("create_setup_intent")
        return self._once(  # type: ignore[no-any-return]
            idempotency_key,
            lambda: SavedCard(
                self._id("seti"),
                "succeeded",
                customer_id,
                self._id("pm"),
                "seti_secret",
                "visa",
                "4242",
            ),
        )

    def retrieve_setup_intent(self, setup_intent_id: str) -> SavedCard:
        for value in self._by_key.values():
            if isinstance(value, SavedCard) and value.setup_intent_id == setup_intent_id:
                return value
        raise NotFound(f"No setup intent {setup_intent_id}.")  # as the Stripe gateway answers

    def charge_saved_card(
        self,
        *,
        amount: int,
        currency: str,
        customer_id: str,
        payment_method_id: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> Intent:
        self.calls.append("charge_saved_card")

        def make() -> Intent:
            if payment_method_id in self.declined_methods:
                raise CardDeclined("Your card was declined.")
            intent_id = self._id("pi")
            intent = Intent(
                intent_id, "succeeded", amount, currency.upper(), None, customer_id, dict(metadata)
            )
            self.intents[intent_id] = intent
            return intent

        return self._once(idempotency_key, make)  # type: ignore[no-any-return]

    def refund(self, *, intent_id: str, amount: int, idempotency_key: str) -> str:
        self.calls.append("refund")

        def make() -> str:
            refund_id = self._id("re")
            self.refunds.append({"id": refund_id, "intent": intent_id, "amount": amount})
            return refund_id

        return self._once(idempotency_key, make)  # type: ignore[no-any-return]

    def transfer(
        self,
        *,
        amount: int,
        currency: str,
        destination: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> str:
        self.calls.append("transfer")

        def make() -> str:
            if destination in self.failing_destinations:
                raise GatewayError(f"Transfers to {destination} are not possible.")
            transfer_id = self._id("tr")
            self.transfers.append(
                {
                    "id": transfer_id,
                    "amount": amount,
                    "currency": currency,
                    "destination": destination,
                    "key": idempotency_key,
                }
            )
            return transfer_id

        try:
            return self._once(idempotency_key, make)  # type: ignore[no-any-return]
        except GatewayError:
            self._by_key.pop(idempotency_key, None)
            raise

    def verify_webhook(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        return verify_stripe_signature(payload, signature, self.webhook_secret)
