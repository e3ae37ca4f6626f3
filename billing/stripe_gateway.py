"""`PaymentGateway` on the official `stripe` SDK (real Stripe, or localstripe in development)."""

from __future__ import annotations

import json
from typing import Any

import stripe

from billing.gateway import Intent, InvalidSignature, SavedCard
from errors import CardDeclined, GatewayError, NotFound


def _plain(obj: Any) -> Any:
    """SDK objects are not dicts (since stripe 15); work on plain data."""
    return obj.to_dict() if hasattr(obj, "to_dict") else obj


def _intent(obj: Any) -> Intent:
    obj = _plain(obj)
    error = obj.get("last_payment_error") or {}
    return Intent(
        id=obj["id"],
        status=obj["status"],
        amount=int(obj["amount"]),
        currency=str(obj["currency"]).upper(),
        client_secret=obj.get("client_secret"),
        customer=obj.get("customer") if isinstance(obj.get("customer"), str) else None,
        metadata={str(k): str(v) for k, v in (obj.get("metadata") or {}).items()},
        failure_code=error.get("code"),
        failure_message=error.get("message"),
    )


def _saved_card(obj: Any, card: Any = None) -> SavedCard:
    obj, card = _plain(obj), _plain(card)
    return SavedCard(
        setup_intent_id=obj["id"],
        status=obj["status"],
        customer=obj.get("customer"),
        payment_method_id=obj.get("payment_method"),
        client_secret=obj.get("client_secret"),
        brand=card.get("brand") if card else None,
        last4=card.get("last4") if card else None,
    )


class StripeGateway:
    """Stripe through `stripe.StripeClient`; every SDK error becomes one of our domain errors."""

    def __init__(
        self,
        secret_key: str,
        *,
        webhook_secret: str | None,
        publishable_key: str | None = None,
        api_base: str | None = None,
        webhook_tolerance: int = 300,
        max_network_retries: int = 2,
    ):
        addresses: Any = {"api": api_base} if api_base else None
        self.client = stripe.StripeClient(
            secret_key, base_addresses=addresses, max_network_retries=max_network_retries
        )
        self.webhook_secret = webhook_secret
        self.webhook_tolerance = webhook_tolerance
        self.publishable_key = publishable_key
        self.api_base = api_base

    def _call(self, fn: Any, *args: Any, missing: str | None = None, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except stripe.CardError as exc:
            raise CardDeclined(
                exc.user_message or "The card was declined.",
                fields={"card": [exc.code or "card_declined"]},
            ) from exc
        except stripe.InvalidRequestError as exc:
            # An id the client sent that Stripe does not know is the client's 404, not an outage.
            if missing and (exc.http_status == 404 or exc.code == "resource_missing"):
                raise NotFound(missing) from exc
            raise GatewayError(
                f"The payment provider refused the request: {exc.user_message or exc}"
            ) from exc
        except stripe.StripeError as exc:
            raise GatewayError(
                f"The payment provider refused the request: {exc.user_message or exc}"
            ) from exc

    def _create(self, service: Any, idempotency_key: str, **params: Any) -> Any:
        """Create a Stripe object under our idempotency key (a retry returns the first)."""
        return self._call(
            service.create, params=params, options={"idempotency_key": idempotency_key}
        )

    def create_customer(self, *, name: str, org_id: int, idempotency_key: str) -> str:
        customer = self._create(
            self.client.v1.customers,
            idempotency_key,
            name=name,
            metadata={"organization_id": str(org_id)},
        )
        return str(customer.id)

    def create_payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        customer_id: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> Intent:
        obj = self._create(
            self.client.v1.payment_intents,
            idempotency_key,
            amount=amount,
            currency=currency.lower(),
            customer=customer_id,
            metadata=metadata,
        )
        return _intent(obj)

    def retrieve_payment_intent(self, intent_id: str) -> Intent:
        return _intent(self._call(self.client.v1.payment_intents.retrieve, intent_id))

    def confirm_payment_intent(self, intent_id: str, payment_method_id: str) -> Intent:
        # Set the method, then confirm: the form Stripe.js would use, done server-side.
        self._call(
            self.client.v1.payment_intents.update,
            intent_id,
            params={"payment_method": payment_method_id},
        )
        return _intent(self._call(self.client.v1.payment_intents.confirm, intent_id))

    def create_setup_intent(self, *, customer_id: str, idempotency_key: str) -> SavedCard:
        obj = self._create(
            self.client.v1.setup_intents, idempotency_key, customer=customer_id, usage="off_session"
        )
        return _saved_card(obj)

    def retrieve_setup_intent(self, setup_intent_id: str) -> SavedCard:
        obj = _plain(
            self._call(
                self.client.v1.setup_intents.retrieve,
                setup_intent_id,
                missing=f"No setup intent {setup_intent_id}.",
            )
        )
        card = None
        if obj.get("payment_method"):
            method = self._call(self.client.v1.payment_methods.retrieve, obj["payment_method"])
            card = _plain(method).get("card")
        return _saved_card(obj, card)

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
        obj = self._create(
            self.client.v1.payment_intents,
            idempotency_key,
            amount=amount,
            currency=currency.lower(),
            customer=customer_id,
            payment_method=payment_method_id,
            confirm=True,
            off_session=True,
            metadata=metadata,
        )
        return _intent(obj)

    def refund(self, *, intent_id: str, amount: int, idempotency_key: str) -> str:
        refund = self._create(
            self.client.v1.refunds, idempotency_key, payment_intent=intent_id, amount=amount
        )
        return str(refund.id)

    def transfer(
        self,
        *,
        amount: int,
        currency: str,
        destination: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> str:
        transfer = self._create(
            self.client.v1.transfers,
            idempotency_key,
            amount=amount,
            currency=currency.lower(),
            destination=destination,
            metadata=metadata,
        )
        return str(transfer.id)

    def verify_webhook(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        return verify_stripe_signature(
            payload, signature, self.webhook_secret, tolerance=self.webhook_tolerance
        )


def verify_stripe_signature(
    payload: bytes, signature: str | None, secret: str | None, *, tolerance: int = 300
) -> dict[str, Any]:
    """The event in `payload` if `signature` (Stripe-Signature) signs it with `secret` recently
    enough; InvalidSignature otherwise."""
    if not secret:
        raise InvalidSignature("No webhook signing secret is configured.")
    if not signature:
        raise InvalidSignature("The Stripe-Signature header is missing.")
    try:
        stripe.WebhookSignature.verify_header(payload.decode("utf-8"), signature, secret, tolerance)
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidSignature(str(exc).split("\n")[0] or "Bad signature.") from exc
    if not isinstance(event, dict) or not isinstance(event.get("id"), str):
        raise InvalidSignature("The payload is not a Stripe event.")
    return event
