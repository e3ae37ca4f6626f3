"""The top-up flow for real: our API, the official stripe SDK, the localstripe emulator, and
the emulator's own signed webhook delivered over HTTP to the app."""

from __future__ import annotations

import time
from typing import Any

import requests

from billing.stripe_gateway import StripeGateway
from tests.support.localstripe import LocalStripe


def _wait_for(predicate: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_a_buyer_tops_up_and_the_webhook_credits_the_balance_once(
    buyer: Any, stripe_gateway: StripeGateway, localstripe: LocalStripe, live_server: str
) -> None:
    localstripe.register_webhook(f"{live_server}/billing/stripe/webhook")
    try:
        created = requests.post(
            f"{live_server}/api/v1/billing/topups",
            json={"amount": 5000, "currency": "USD"},
            headers={**buyer.headers, "Idempotency-Key": "first-topup"},
            timeout=10,
        )
        assert created.status_code == 201, created.text
        topup = created.json()
        assert topup["status"] == "pending"
        assert topup["client_secret"].startswith(topup["payment_intent_id"])

        # What Stripe.js would do in the browser: a card, then confirm the intent.
        method = stripe_gateway.client.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {
                    "number": "4242424242424242",
                    "exp_month": 12,
                    "exp_year": 2034,
                    "cvc": "123",
                },
            }
        )
        intent = stripe_gateway.confirm_payment_intent(topup["payment_intent_id"], method.id)
        assert intent.status == "succeeded"

        def credited() -> Any:
            body = requests.get(
                f"{live_server}/api/v1/billing/balance", headers=buyer.headers, timeout=10
            ).json()
            return body["balances"] if body["balances"] else None

        balances = _wait_for(credited)
        assert balances == [
            {
                "currency": "USD",
                "balance": 5000,
                "credit_limit": 0,
                "available": 5000,
                "display": "50.00 USD",
            }
        ]
        after = requests.get(
            f"{live_server}/api/v1/billing/topups/{topup['id']}", headers=buyer.headers, timeout=10
        ).json()
        assert after["status"] == "succeeded"
        # Asking Stripe again (as a lost webhook's fallback) credits nothing more.
        refreshed = requests.post(
            f"{live_server}/api/v1/billing/topups/{topup['id']}/refresh",
            headers=buyer.headers,
            timeout=10,
        )
        assert refreshed.status_code == 200
        assert credited()[0]["balance"] == 5000
    finally:
        localstripe.unregister_webhooks()
