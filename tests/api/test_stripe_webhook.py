"""Stripe's signed webhook and the top-up API around it: every event verified, every payment
credited once whatever Stripe repeats or reorders, and bad input refused before anything is
stored.

Where the intent's real state matters the official SDK talks to the localstripe emulator
(`stripe_gateway`); where a test needs states on demand it uses `fake_gateway`. No webhook is
registered with the emulator here: the tests post the events themselves.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from billing.models import JournalEntry, StripeEvent, TopUp, TopUpStatus
from billing.stripe_gateway import StripeGateway
from errors import CardDeclined
from extensions import db
from tests.support import fake_gateway as fake
from tests.support import localstripe as ls
from tests.support.fake_gateway import FakeGateway
from tests.support.webhooks import event_body, sign

WEBHOOK = "/billing/stripe/webhook"
TOPUPS = "/api/v1/billing/topups"
BALANCE = "/api/v1/billing/balance"


# --- helpers --------------------------------------------------------------------------------


def count(model: Any) -> int:
    db.session.rollback()  # see what the requests committed, not a stale snapshot
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def topup_row(topup_id: int) -> TopUp:
    db.session.rollback()
    row = db.session.get(TopUp, topup_id)
    assert row is not None
    return row


def usd_balance(client: FlaskClient, account: Any) -> int | None:
    """The buyer's USD balance as the API reports it (None: never credited)."""
    response = client.get(BALANCE, headers=account.headers)
    assert response.status_code == 200, response.json
    rows = {row["currency"]: row for row in response.json["balances"]}
    return rows["USD"]["balance"] if "USD" in rows else None


def post_event(client: FlaskClient, body: bytes, secret: str, **kwargs: Any) -> Any:
    return client.post(
        WEBHOOK,
        data=body,
        headers={"Stripe-Signature": sign(body, secret, **kwargs)},
        content_type="application/json",
    )


def intent_object(intent_id: str, status: str, amount: int = 5000, **extra: Any) -> dict[str, Any]:
    return {
        "id": intent_id,
        "object": "payment_intent",
        "status": status,
        "amount": amount,
        "currency": "usd",
        **extra,
    }


def new_topup(
    client: FlaskClient, account: Any, amount: int = 5000, key: str | None = None
) -> dict[str, Any]:
    headers = {**account.headers, **({"Idempotency-Key": key} if key else {})}
    response = client.post(TOPUPS, json={"amount": amount, "currency": "USD"}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json  # type: ignore[no-any-return]


def pay_with_card(gateway: StripeGateway, intent_id: str, number: str = "4242424242424242") -> str:
    """What Stripe.js does in the browser: a card, then the intent confirmed with it."""
    method = gateway.client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        }
    )
    intent = gateway.confirm_payment_intent(intent_id, method.id)
    return intent.status


@pytest.fixture
def paid_topup(client: FlaskClient, buyer: Any, stripe_gateway: StripeGateway) -> dict[str, Any]:
    """A 50.00 USD top-up whose PaymentIntent succeeded at localstripe (not yet credited)."""
    topup = new_topup(client, buyer)
    assert pay_with_card(stripe_gateway, topup["payment_intent_id"]) == "succeeded"
    return topup


# --- a verified event credits once ----------------------------------------------------------


def test_a_signed_succeeded_event_credits_the_balance_once(
    client: FlaskClient, buyer: Any, paid_topup: dict[str, Any]
) -> None:
    intent_id = paid_topup["payment_intent_id"]
    assert usd_balance(client, buyer) is None  # paying alone credits nothing
    body = event_body("evt_ok_1", "payment_intent.succeeded", intent_object(intent_id, "succeeded"))

    response = post_event(client, body, ls.WEBHOOK_SECRET)

    assert response.status_code == 200, response.json
    assert response.json == {"received": True, "outcome": "credited"}
    assert usd_balance(client, buyer) == 5000
    row = topup_row(paid_topup["id"])
    assert row.status == TopUpStatus.SUCCEEDED
    assert row.entry_id is not None and row.succeeded_at is not None
    event = db.session.get(StripeEvent, "evt_ok_1")
    assert event is not None
    assert (event.type, event.object_id, event.outcome) == (
        "payment_intent.succeeded",
        intent_id,
        "credited",
    )
    assert count(JournalEntry) == 1
    # The top-up no longer hands out its client secret.
    shown = client.get(f"{TOPUPS}/{paid_topup['id']}", headers=buyer.headers).json
    assert (shown["status"], shown["client_secret"]) == ("succeeded", None)


def test_the_same_event_delivered_ten_times_credits_once(
    client: FlaskClient, buyer: Any, paid_topup: dict[str, Any]
) -> None:
    obj = intent_object(paid_topup["payment_intent_id"], "succeeded")
    body = event_body("evt_repeated", "payment_intent.succeeded", obj)

    outcomes = []
    for _ in range(10):
        response = post_event(client, body, ls.WEBHOOK_SECRET)
        assert response.status_code == 200, response.json
        outcomes.append(response.json["outcome"])

    assert outcomes == ["credited"] + ["duplicate"] * 9
    assert usd_balance(client, buyer) == 5000
    assert count(StripeEvent) == 1
    assert count(JournalEntry) == 1


def test_ten_different_events_for_one_succeeded_intent_credit_once(
    client: FlaskClient, buyer: Any, paid_topup: dict[str, Any]
) -> None:
    obj = intent_object(paid_topup["payment_intent_id"], "succeeded")

    outcomes = []
    for n in range(10):
        body = event_body(f"evt_distinct_{n}", "payment_intent.succeeded", obj)
        response = post_event(client, body, ls.WEBHOOK_SECRET)
        assert response.status_code == 200, response.json
        outcomes.append(response.json["outcome"])

    assert outcomes == ["credited"] + ["already_credited"] * 9
    assert usd_balance(client, buyer) == 5000
    assert count(StripeEvent) == 10
    assert count(JournalEntry) == 1


# --- unverified events change nothing -------------------------------------------------------


def _refused(
    client: FlaskClient, body: bytes, headers: dict[str, str], buyer: Any, topup_id: int
) -> None:
    response = client.post(WEBHOOK, data=body, headers=headers, content_type="application/json")
    assert response.status_code == 400, response.data
    assert response.json["error"] == "invalid_signature"
    assert count(StripeEvent) == 0
    assert count(JournalEntry) == 0
    assert topup_row(topup_id).status == TopUpStatus.PENDING
    assert usd_balance(client, buyer) is None


@pytest.mark.parametrize("case", ["wrong_secret", "stale", "tampered", "missing", "garbage"])
def test_an_unverified_event_is_refused_and_changes_nothing(
    client: FlaskClient, buyer: Any, paid_topup: dict[str, Any], case: str
) -> None:
    obj = intent_object(paid_topup["payment_intent_id"], "succeeded")
    body = event_body("evt_forged", "payment_intent.succeeded", obj)
    headers: dict[str, str]
    if case == "wrong_secret":
        headers = {"Stripe-Signature": sign(body, "whsec_someone_else")}
    elif case == "stale":
        headers = {"Stripe-Signature": sign(body, ls.WEBHOOK_SECRET, int(time.time()) - 301)}
    elif case == "tampered":
        headers = {"Stripe-Signature": sign(body, ls.WEBHOOK_SECRET)}
        event = json.loads(body)
        event["data"]["object"]["amount"] = 9_999_999
        body = json.dumps(event).encode()
    elif case == "missing":
        headers = {}
    else:
        headers = {"Stripe-Signature": "t=oops,v1=nothing"}

    _refused(client, body, headers, buyer, paid_topup["id"])

    # The genuine event still acts afterwards: the refusals left no trace to collide with.
    good = event_body("evt_forged", "payment_intent.succeeded", obj)
    response = post_event(client, good, ls.WEBHOOK_SECRET)
    assert response.json == {"received": True, "outcome": "credited"}
    assert usd_balance(client, buyer) == 5000


def test_a_signature_just_inside_the_tolerance_is_accepted(
    client: FlaskClient, buyer: Any, paid_topup: dict[str, Any]
) -> None:
    obj = intent_object(paid_topup["payment_intent_id"], "succeeded")
    body = event_body("evt_late_but_ok", "payment_intent.succeeded", obj)
    response = post_event(client, body, ls.WEBHOOK_SECRET, timestamp=int(time.time()) - 240)
    assert response.status_code == 200, response.json
    assert response.json["outcome"] == "credited"
    assert usd_balance(client, buyer) == 5000


# --- the event's copy is not trusted: the intent's current state is -------------------------


def test_payment_failed_after_succeeded_leaves_the_topup_succeeded(
    client: FlaskClient, buyer: Any, paid_topup: dict[str, Any]
) -> None:
    intent_id = paid_topup["payment_intent_id"]
    succeeded = event_body(
        "evt_a", "payment_intent.succeeded", intent_object(intent_id, "succeeded")
    )
    failed_obj = intent_object(
        intent_id,
        "requires_payment_method",
        last_payment_error={"code": "card_declined", "message": "Your card was declined."},
    )
    failed = event_body("evt_b", "payment_intent.payment_failed", failed_obj)

    assert post_event(client, succeeded, ls.WEBHOOK_SECRET).json["outcome"] == "credited"
    response = post_event(client, failed, ls.WEBHOOK_SECRET)

    assert response.status_code == 200
    assert response.json["outcome"] == "already_credited"
    row = topup_row(paid_topup["id"])
    assert (row.status, row.failure_code, row.failure_message) == (
        TopUpStatus.SUCCEEDED,
        None,
        None,
    )
    assert usd_balance(client, buyer) == 5000
    assert count(JournalEntry) == 1


def test_a_failure_reported_after_the_credit_cannot_undo_it(
    client: FlaskClient, buyer: Any, fake_gateway: FakeGateway
) -> None:
    """Even if the gateway itself later showed the intent as failed or canceled."""
    topup = new_topup(client, buyer, amount=2500)
    intent_id = topup["payment_intent_id"]
    fake_gateway.set_status(intent_id, "succeeded")
    body = event_body("evt_1", "payment_intent.succeeded", intent_object(intent_id, "succeeded"))
    assert post_event(client, body, fake.WEBHOOK_SECRET).json["outcome"] == "credited"

    fake_gateway.set_status(
        intent_id,
        "requires_payment_method",
        failure_code="card_declined",
        failure_message="Your card was declined.",
    )
    failed = event_body(
        "evt_2",
        "payment_intent.payment_failed",
        intent_object(intent_id, "requires_payment_method"),
    )
    assert post_event(client, failed, fake.WEBHOOK_SECRET).json["outcome"] == "already_credited"
    fake_gateway.set_status(intent_id, "canceled", failure_code=None, failure_message=None)
    canceled = event_body("evt_3", "payment_intent.canceled", intent_object(intent_id, "canceled"))
    assert post_event(client, canceled, fake.WEBHOOK_SECRET).json["outcome"] == "already_credited"

    row = topup_row(topup["id"])
    assert (row.status, row.failure_code) == (TopUpStatus.SUCCEEDED, None)
    assert usd_balance(client, buyer) == 2500


def test_a_stale_event_copy_is_overruled_by_the_intents_current_state(
    client: FlaskClient, buyer: Any, paid_topup: dict[str, Any]
) -> None:
    intent_id = paid_topup["payment_intent_id"]
    stale = intent_object(intent_id, "requires_payment_method")
    body = event_body("evt_stale_copy", "payment_intent.succeeded", stale)

    response = post_event(client, body, ls.WEBHOOK_SECRET)

    assert response.json == {"received": True, "outcome": "credited"}
    assert topup_row(paid_topup["id"]).status == TopUpStatus.SUCCEEDED
    assert usd_balance(client, buyer) == 5000


def test_a_succeeded_copy_of_an_unpaid_intent_credits_nothing(
    client: FlaskClient, buyer: Any, stripe_gateway: StripeGateway
) -> None:
    """The reverse: the event says succeeded, Stripe says the intent is still unpaid."""
    topup = new_topup(client, buyer)
    body = event_body(
        "evt_lying_copy",
        "payment_intent.succeeded",
        intent_object(topup["payment_intent_id"], "succeeded"),
    )

    response = post_event(client, body, ls.WEBHOOK_SECRET)

    assert response.json == {"received": True, "outcome": "waiting (requires_payment_method)"}
    assert topup_row(topup["id"]).status == TopUpStatus.PENDING
    assert count(JournalEntry) == 0
    assert usd_balance(client, buyer) is None


def test_a_declined_payment_is_recorded_on_the_topup_without_money(
    client: FlaskClient, buyer: Any, stripe_gateway: StripeGateway
) -> None:
    topup = new_topup(client, buyer)
    intent_id = topup["payment_intent_id"]
    with pytest.raises(CardDeclined):
        pay_with_card(stripe_gateway, intent_id, "4000000000000341")
    body = event_body(
        "evt_declined",
        "payment_intent.payment_failed",
        intent_object(intent_id, "requires_payment_method"),
    )

    response = post_event(client, body, ls.WEBHOOK_SECRET)

    assert response.json["outcome"] == "failed"
    row = topup_row(topup["id"])
    # A manual top-up stays payable with another card; the decline is shown on it.
    assert row.status == TopUpStatus.PENDING
    assert row.failure_code == "card_declined"
    assert row.failure_message
    assert count(JournalEntry) == 0
    assert usd_balance(client, buyer) is None


def test_an_event_for_an_intent_that_is_not_ours_is_recorded_and_ignored(
    client: FlaskClient, buyer: Any, stripe_gateway: StripeGateway
) -> None:
    foreign = stripe_gateway.client.v1.payment_intents.create(
        params={"amount": 7000, "currency": "usd", "metadata": {"order": "elsewhere"}}
    )
    assert pay_with_card(stripe_gateway, foreign.id) == "succeeded"
    body = event_body(
        "evt_foreign", "payment_intent.succeeded", intent_object(foreign.id, "succeeded", 7000)
    )

    response = post_event(client, body, ls.WEBHOOK_SECRET)

    assert response.status_code == 200
    assert response.json == {"received": True, "outcome": "not_ours"}
    event = db.session.get(StripeEvent, "evt_foreign")
    assert event is not None and (event.object_id, event.outcome) == (foreign.id, "not_ours")
    assert count(JournalEntry) == 0
    assert count(TopUp) == 0


def test_an_intent_pointing_at_another_topup_is_not_credited_to_it(
    client: FlaskClient, buyer: Any, fake_gateway: FakeGateway
) -> None:
    """metadata.topup_id cannot claim a top-up that already has its own intent."""
    mine = new_topup(client, buyer, amount=1000)
    other = fake_gateway.create_payment_intent(
        amount=1000,
        currency="USD",
        customer_id="cus_other",
        metadata={"topup_id": str(mine["id"])},
        idempotency_key="elsewhere",
    )
    fake_gateway.set_status(other.id, "succeeded")
    body = event_body("evt_claim", "payment_intent.succeeded", intent_object(other.id, "succeeded"))

    assert post_event(client, body, fake.WEBHOOK_SECRET).json["outcome"] == "not_ours"
    assert topup_row(mine["id"]).payment_intent_id == mine["payment_intent_id"]
    assert count(JournalEntry) == 0


def test_an_event_arriving_before_the_intent_id_was_saved_still_credits(
    client: FlaskClient, buyer: Any, fake_gateway: FakeGateway
) -> None:
    """Stripe can answer faster than we commit: metadata.topup_id finds the row."""
    topup = new_topup(client, buyer, amount=1500)
    intent_id = topup["payment_intent_id"]
    row = topup_row(topup["id"])
    row.payment_intent_id = None
    db.session.commit()
    fake_gateway.set_status(intent_id, "succeeded")
    body = event_body(
        "evt_early", "payment_intent.succeeded", intent_object(intent_id, "succeeded")
    )

    assert post_event(client, body, fake.WEBHOOK_SECRET).json["outcome"] == "credited"
    row = topup_row(topup["id"])
    assert (row.payment_intent_id, row.status) == (intent_id, TopUpStatus.SUCCEEDED)
    assert usd_balance(client, buyer) == 1500


def test_an_amount_that_does_not_match_the_topup_credits_nothing(
    client: FlaskClient, buyer: Any, fake_gateway: FakeGateway
) -> None:
    topup = new_topup(client, buyer, amount=1000)
    intent_id = topup["payment_intent_id"]
    fake_gateway.set_status(intent_id, "succeeded", amount=1)
    body = event_body(
        "evt_small", "payment_intent.succeeded", intent_object(intent_id, "succeeded")
    )

    assert post_event(client, body, fake.WEBHOOK_SECRET).json["outcome"] == "amount_mismatch"
    assert topup_row(topup["id"]).status == TopUpStatus.PENDING
    assert count(JournalEntry) == 0


def test_an_unrelated_event_type_is_recorded_and_ignored(
    client: FlaskClient, buyer: Any, fake_gateway: FakeGateway
) -> None:
    body = event_body("evt_customer", "customer.created", {"id": "cus_123", "object": "customer"})

    response = post_event(client, body, fake.WEBHOOK_SECRET)

    assert response.status_code == 200
    assert response.json == {"received": True, "outcome": "ignored"}
    event = db.session.get(StripeEvent, "evt_customer")
    assert event is not None and (event.type, event.outcome) == ("customer.created", "ignored")
    assert fake_gateway.calls == []  # nothing fetched for an event we do not act on
    assert count(JournalEntry) == 0


# --- payments switched off -------------------------------------------------------------------


def test_without_a_gateway_the_webhook_and_topups_answer_503(
    ctx: Flask, client: FlaskClient, buyer: Any
) -> None:
    previous = ctx.extensions.get("payment_gateway")
    ctx.extensions["payment_gateway"] = None
    try:
        body = event_body(
            "evt_nogw", "payment_intent.succeeded", intent_object("pi_x", "succeeded")
        )
        hook = post_event(client, body, fake.WEBHOOK_SECRET)
        topup = client.post(TOPUPS, json={"amount": 1000, "currency": "USD"}, headers=buyer.headers)
    finally:
        ctx.extensions["payment_gateway"] = previous

    assert hook.status_code == 503, hook.data
    assert hook.json["error"] == "payments_not_configured"
    assert topup.status_code == 503, topup.json
    assert topup.json["error"] == "payments_not_configured"
    assert count(StripeEvent) == 0
    assert count(TopUp) == 0


# --- the top-up API -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 0, "currency": "USD"}, "amount"),
        ({"amount": -500, "currency": "USD"}, "amount"),
        ({"amount": "1000", "currency": "USD"}, "amount"),
        ({"amount": 10.5, "currency": "USD"}, "amount"),
        ({"amount": 1000.0, "currency": "USD"}, "amount"),
        ({"amount": True, "currency": "USD"}, "amount"),
        ({"amount": None, "currency": "USD"}, "amount"),
        ({"currency": "USD"}, "amount"),
        ({"amount": 1000}, "currency"),
        ({"amount": 1000, "currency": "XXY"}, "currency"),
        ({"amount": 1000, "currency": "US"}, "currency"),
        ({"amount": 1000, "currency": 840}, "currency"),
        ({"amount": 10**13, "currency": "USD"}, "amount"),
    ],
)
def test_bad_topup_input_is_a_422_naming_the_field(
    client: FlaskClient, buyer: Any, fake_gateway: FakeGateway, body: dict[str, Any], field: str
) -> None:
    response = client.post(TOPUPS, json=body, headers=buyer.headers)

    assert response.status_code == 422, response.json
    assert response.json["error"] in ("validation_error", "invalid_input")
    assert list(response.json["fields"]) == [field]
    assert count(TopUp) == 0
    assert fake_gateway.calls == []


def test_a_publisher_cannot_top_up(
    client: FlaskClient, publisher: Any, fake_gateway: FakeGateway
) -> None:
    response = client.post(
        TOPUPS, json={"amount": 1000, "currency": "USD"}, headers=publisher.headers
    )
    assert response.status_code == 403, response.json
    assert response.json["error"] == "forbidden"
    assert count(TopUp) == 0
    assert fake_gateway.calls == []


def test_a_lowercase_currency_is_stored_upper_case(
    client: FlaskClient, buyer: Any, fake_gateway: FakeGateway
) -> None:
    response = client.post(TOPUPS, json={"amount": 50000, "currency": "vnd"}, headers=buyer.headers)
    assert response.status_code == 201, response.json
    assert (response.json["amount"], response.json["currency"]) == (50000, "VND")
    intent = fake_gateway.intents[response.json["payment_intent_id"]]
    assert (intent.amount, intent.currency) == (50000, "VND")


def test_an_idempotency_key_replay_returns_the_same_topup(
    client: FlaskClient, buyer: Any, fake_gateway: FakeGateway
) -> None:
    headers = {**buyer.headers, "Idempotency-Key": "order-42"}
    first = client.post(TOPUPS, json={"amount": 3000, "currency": "USD"}, headers=headers)
    again = client.post(TOPUPS, json={"amount": 3000, "currency": "USD"}, headers=headers)

    assert first.status_code == 201, first.json
    assert again.status_code == 200, again.json
    assert again.json["id"] == first.json["id"]
    assert again.json["payment_intent_id"] == first.json["payment_intent_id"]
    assert again.json["client_secret"] == first.json["client_secret"]
    assert fake_gateway.calls.count("create_payment_intent") == 1
    assert list(fake_gateway.intents) == [first.json["payment_intent_id"]]
    assert count(TopUp) == 1


def test_an_idempotency_key_reused_for_another_amount_is_a_409(
    client: FlaskClient, buyer: Any, fake_gateway: FakeGateway
) -> None:
    headers = {**buyer.headers, "Idempotency-Key": "order-43"}
    first = client.post(TOPUPS, json={"amount": 3000, "currency": "USD"}, headers=headers)
    other_amount = client.post(TOPUPS, json={"amount": 3001, "currency": "USD"}, headers=headers)
    other_currency = client.post(TOPUPS, json={"amount": 3000, "currency": "EUR"}, headers=headers)

    assert first.status_code == 201
    for response in (other_amount, other_currency):
        assert response.status_code == 409, response.json
        assert response.json["error"] == "idempotency_key_reused"
    assert count(TopUp) == 1
    assert fake_gateway.calls.count("create_payment_intent") == 1


def test_the_same_key_from_another_buyer_is_a_different_topup(
    client: FlaskClient, make_account: Any, fake_gateway: FakeGateway
) -> None:
    one, two = make_account("buyer"), make_account("buyer")
    first = client.post(
        TOPUPS,
        json={"amount": 3000, "currency": "USD"},
        headers={**one.headers, "Idempotency-Key": "same"},
    )
    second = client.post(
        TOPUPS,
        json={"amount": 3000, "currency": "USD"},
        headers={**two.headers, "Idempotency-Key": "same"},
    )
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json["id"] != second.json["id"]
    assert first.json["payment_intent_id"] != second.json["payment_intent_id"]


def test_a_gateway_outage_is_a_502_and_the_retry_completes_the_same_topup(
    client: FlaskClient, buyer: Any, fake_gateway: FakeGateway
) -> None:
    headers = {**buyer.headers, "Idempotency-Key": "during-outage"}
    fake_gateway.down = True
    failed = client.post(TOPUPS, json={"amount": 4000, "currency": "USD"}, headers=headers)

    assert failed.status_code == 502, failed.json
    assert failed.json["error"] == "gateway_error"
    assert count(TopUp) == 1
    (stuck,) = db.session.scalars(select(TopUp)).all()
    assert (stuck.status, stuck.payment_intent_id) == (TopUpStatus.PENDING, None)
    assert fake_gateway.intents == {}

    fake_gateway.down = False
    retried = client.post(TOPUPS, json={"amount": 4000, "currency": "USD"}, headers=headers)

    assert retried.status_code == 200, retried.json
    assert retried.json["id"] == stuck.id
    assert retried.json["payment_intent_id"] is not None
    assert retried.json["client_secret"] is not None
    assert count(TopUp) == 1
    row = topup_row(stuck.id)
    assert row.payment_intent_id == retried.json["payment_intent_id"]
    (intent,) = fake_gateway.intents.values()
    assert intent.metadata["topup_id"] == str(stuck.id)
    assert (intent.amount, intent.currency) == (4000, "USD")


def test_a_refresh_credits_a_paid_topup_once_without_a_webhook(
    client: FlaskClient, buyer: Any, paid_topup: dict[str, Any]
) -> None:
    url = f"{TOPUPS}/{paid_topup['id']}/refresh"
    first = client.post(url, headers=buyer.headers)
    second = client.post(url, headers=buyer.headers)
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json["status"] == second.json["status"] == "succeeded"
    assert usd_balance(client, buyer) == 5000
    # The webhook arriving afterwards finds it credited.
    body = event_body(
        "evt_after_refresh",
        "payment_intent.succeeded",
        intent_object(paid_topup["payment_intent_id"], "succeeded"),
    )
    assert post_event(client, body, ls.WEBHOOK_SECRET).json["outcome"] == "already_credited"
    assert usd_balance(client, buyer) == 5000
    assert count(JournalEntry) == 1


def test_another_buyers_topup_is_not_found(
    client: FlaskClient, make_account: Any, fake_gateway: FakeGateway
) -> None:
    owner, stranger = make_account("buyer"), make_account("buyer")
    topup = new_topup(client, owner, amount=1000)
    assert client.get(f"{TOPUPS}/{topup['id']}", headers=stranger.headers).status_code == 404
    refresh = client.post(f"{TOPUPS}/{topup['id']}/refresh", headers=stranger.headers)
    assert refresh.status_code == 404
    assert fake_gateway.calls.count("retrieve_payment_intent") == 0


def test_a_refused_webhook_answers_json_whatever_its_content_type(
    client: FlaskClient, fake_gateway: FakeGateway
) -> None:
    body = b"not even json"
    response = client.post(
        WEBHOOK, data=body, headers={"Stripe-Signature": "t=1,v1=00", "Content-Type": "text/plain"}
    )
    assert response.status_code == 400
    assert response.json["error"] == "invalid_signature"
    assert count(StripeEvent) == 0
