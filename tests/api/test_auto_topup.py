"""Saved cards and auto top-up: a SetupIntent confirmed with the official SDK at localstripe,
a sale that takes the balance under the threshold, and `flask billing auto-topups` charging the
card off-session; a declined card pauses auto top-up instead of being retried in a loop.
"""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from billing.charges import charge
from billing.ledger import Leg, post_entry
from billing.models import (
    AccountKind,
    BillingProfile,
    EntryKind,
    JournalEntry,
    TopUp,
    TopUpStatus,
)
from billing.stripe_gateway import StripeGateway
from exchange.models import AuditEvent
from extensions import db
from tests.support.fake_gateway import FakeGateway
from tests.support.money import fund

BALANCE = "/api/v1/billing/balance"
SETUP = "/api/v1/billing/cards/setup"
CARDS = "/api/v1/billing/cards"
AUTO = "/api/v1/billing/auto-topup"
TOPUPS = "/api/v1/billing/topups"

GOOD_CARD = "4242424242424242"
DECLINING_CARD = "4000000000000341"  # attaches fine; every charge is declined

SETTINGS = {"enabled": True, "currency": "USD", "threshold": 2000, "amount": 10000}


# --- helpers --------------------------------------------------------------------------------


def card_method(gateway: StripeGateway, number: str) -> Any:
    return gateway.client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        }
    )


def save_card(
    client: FlaskClient, account: Any, gateway: StripeGateway, number: str = GOOD_CARD
) -> Any:
    """The browser flow: a SetupIntent from us, confirmCardSetup at Stripe, its id back to us."""
    setup = client.post(SETUP, headers=account.headers)
    assert setup.status_code == 201, setup.json
    method = card_method(gateway, number)
    gateway.client.v1.setup_intents.confirm(
        setup.json["setup_intent_id"], params={"payment_method": method.id}
    )
    saved = client.post(
        CARDS, json={"setup_intent_id": setup.json["setup_intent_id"]}, headers=account.headers
    )
    assert saved.status_code == 200, saved.json
    return method


def turn_on(client: FlaskClient, account: Any, **changes: Any) -> Any:
    response = client.put(AUTO, json={**SETTINGS, **changes}, headers=account.headers)
    assert response.status_code == 200, response.json
    return response.json


def sell(buyer_id: int, price: int, key: str, currency: str = "USD") -> None:
    db.session.rollback()
    charge(
        db.session, key=key, kind=EntryKind.SALE, buyer_id=buyer_id, currency=currency, price=price
    )
    db.session.commit()


def auto_topups(buyer_id: int) -> list[TopUp]:
    db.session.rollback()
    stmt = (
        select(TopUp)
        .where(TopUp.organization_id == buyer_id, TopUp.source == "auto")
        .order_by(TopUp.id)
    )
    return list(db.session.scalars(stmt))


def balance(client: FlaskClient, account: Any) -> dict[str, Any]:
    response = client.get(BALANCE, headers=account.headers)
    assert response.status_code == 200, response.json
    return response.json  # type: ignore[no-any-return]


def usd(client: FlaskClient, account: Any) -> int:
    rows = {row["currency"]: row["balance"] for row in balance(client, account)["balances"]}
    return rows["USD"]


def run_job(ctx: Flask) -> list[str]:
    result = ctx.test_cli_runner().invoke(args=["billing", "auto-topups"])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def declines(buyer_id: int) -> list[AuditEvent]:
    db.session.rollback()
    stmt = select(AuditEvent).where(
        AuditEvent.organization_id == buyer_id, AuditEvent.action == "billing.auto_topup_declined"
    )
    return list(db.session.scalars(stmt))


# --- saving a card --------------------------------------------------------------------------


def test_a_card_is_saved_through_a_confirmed_setup_intent(
    client: FlaskClient, buyer: Any, stripe_gateway: StripeGateway
) -> None:
    setup = client.post(SETUP, headers=buyer.headers)
    assert setup.status_code == 201, setup.json
    seti_id = setup.json["setup_intent_id"]
    assert seti_id.startswith("seti_")
    assert setup.json["client_secret"].startswith(seti_id)
    assert setup.json["publishable_key"] == "pk_test_localstripe"

    # Sent back before the card was confirmed: refused, nothing saved.
    early = client.post(CARDS, json={"setup_intent_id": seti_id}, headers=buyer.headers)
    assert early.status_code == 409, early.json
    assert early.json["error"] == "setup_not_succeeded"
    assert balance(client, buyer)["card"] is None

    method = card_method(stripe_gateway, GOOD_CARD)
    confirmed = stripe_gateway.client.v1.setup_intents.confirm(
        seti_id, params={"payment_method": method.id}
    )
    assert confirmed.status == "succeeded"
    saved = client.post(CARDS, json={"setup_intent_id": seti_id}, headers=buyer.headers)

    assert saved.status_code == 200, saved.json
    assert saved.json["card"] == {"brand": "visa", "last4": "4242"}
    assert saved.json["auto_topup"]["enabled"] is False
    assert balance(client, buyer)["card"] == {"brand": "visa", "last4": "4242"}
    db.session.rollback()
    profile = db.session.get(BillingProfile, buyer.org.id)
    assert profile is not None
    assert profile.payment_method_id == method.id
    # The SetupIntent belongs to the buyer's own Stripe customer.
    seti = stripe_gateway.client.v1.setup_intents.retrieve(seti_id)
    assert seti.customer == profile.stripe_customer_id is not None


def test_a_card_declined_while_saving_is_not_kept(
    client: FlaskClient, buyer: Any, stripe_gateway: StripeGateway
) -> None:
    setup = client.post(SETUP, headers=buyer.headers).json
    method = card_method(stripe_gateway, "4000000000000002")  # declined when attached
    with pytest.raises(stripe.CardError):
        stripe_gateway.client.v1.setup_intents.confirm(
            setup["setup_intent_id"], params={"payment_method": method.id}
        )
    # The SetupIntent names the card, but it did not succeed.
    seti = stripe_gateway.client.v1.setup_intents.retrieve(setup["setup_intent_id"])
    assert (seti.payment_method, seti.status) == (method.id, "canceled")

    response = client.post(
        CARDS, json={"setup_intent_id": setup["setup_intent_id"]}, headers=buyer.headers
    )

    assert response.status_code == 409, response.json
    assert response.json["error"] == "setup_not_succeeded"
    assert balance(client, buyer)["card"] is None


def test_every_card_setup_without_a_key_is_a_new_setup_intent(
    client: FlaskClient, buyer: Any, fake_gateway: FakeGateway
) -> None:
    """A buyer replacing a card (say after a decline) needs a fresh SetupIntent: Stripe replays
    a repeated idempotency key with the first, already confirmed one."""
    first = client.post(SETUP, headers=buyer.headers).json
    saved = client.post(
        CARDS, json={"setup_intent_id": first["setup_intent_id"]}, headers=buyer.headers
    )
    assert saved.status_code == 200, saved.json
    db.session.rollback()
    profile = db.session.get(BillingProfile, buyer.org.id)
    assert profile is not None and profile.payment_method_id is not None
    first_method = profile.payment_method_id

    second = client.post(SETUP, headers=buyer.headers).json
    assert second["setup_intent_id"] != first["setup_intent_id"]
    client.post(CARDS, json={"setup_intent_id": second["setup_intent_id"]}, headers=buyer.headers)
    db.session.rollback()
    profile = db.session.get(BillingProfile, buyer.org.id)
    assert profile is not None and profile.payment_method_id not in (None, first_method)

    # With an Idempotency-Key, a retried request is the same SetupIntent.
    keyed = {**buyer.headers, "Idempotency-Key": "setup-page-7"}
    assert (
        client.post(SETUP, headers=keyed).json["setup_intent_id"]
        == client.post(SETUP, headers=keyed).json["setup_intent_id"]
    )


def test_another_buyers_setup_intent_cannot_be_saved(
    client: FlaskClient, make_account: Any, stripe_gateway: StripeGateway
) -> None:
    owner, thief = make_account("buyer"), make_account("buyer")
    setup = client.post(SETUP, headers=owner.headers).json
    method = card_method(stripe_gateway, GOOD_CARD)
    stripe_gateway.client.v1.setup_intents.confirm(
        setup["setup_intent_id"], params={"payment_method": method.id}
    )
    client.post(SETUP, headers=thief.headers)  # the thief has a customer of its own

    stolen = client.post(
        CARDS, json={"setup_intent_id": setup["setup_intent_id"]}, headers=thief.headers
    )

    assert stolen.status_code == 404, stolen.json
    assert balance(client, thief)["card"] is None


def test_a_publisher_cannot_save_a_card_or_set_auto_topup(
    client: FlaskClient, publisher: Any, fake_gateway: FakeGateway
) -> None:
    assert client.post(SETUP, headers=publisher.headers).status_code == 403
    assert client.put(AUTO, json=SETTINGS, headers=publisher.headers).status_code == 403
    assert fake_gateway.calls == []


# --- the settings ---------------------------------------------------------------------------


def test_auto_topup_needs_a_saved_card(
    client: FlaskClient, buyer: Any, stripe_gateway: StripeGateway
) -> None:
    response = client.put(AUTO, json=SETTINGS, headers=buyer.headers)

    assert response.status_code == 409, response.json
    assert response.json["error"] == "no_saved_card"
    assert balance(client, buyer)["auto_topup"]["enabled"] is False
    # Turning it off needs no card.
    off = client.put(AUTO, json={"enabled": False}, headers=buyer.headers)
    assert off.status_code == 200, off.json
    assert off.json["auto_topup"]["enabled"] is False


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"enabled": True}, {"currency", "threshold", "amount"}),
        ({"enabled": True, "currency": "USD", "threshold": 2000}, {"amount"}),
        ({"enabled": True, "currency": "USD", "amount": 10000}, {"threshold"}),
        ({"enabled": True, "threshold": 2000, "amount": 10000}, {"currency"}),
        ({"currency": "USD", "threshold": 2000, "amount": 10000}, {"enabled"}),
        ({**SETTINGS, "threshold": -1}, {"threshold"}),
        ({**SETTINGS, "amount": 0}, {"amount"}),
        ({**SETTINGS, "amount": "100"}, {"amount"}),
        ({**SETTINGS, "threshold": 20.5}, {"threshold"}),
        ({**SETTINGS, "currency": "XXY"}, {"currency"}),
        ({**SETTINGS, "enabled": "sometimes"}, {"enabled"}),
    ],
)
def test_bad_auto_topup_settings_are_a_422_naming_the_fields(
    client: FlaskClient,
    buyer: Any,
    stripe_gateway: StripeGateway,
    body: dict[str, Any],
    fields: set[str],
) -> None:
    save_card(client, buyer, stripe_gateway)

    response = client.put(AUTO, json=body, headers=buyer.headers)

    assert response.status_code == 422, response.json
    assert set(response.json["fields"]) == fields
    assert balance(client, buyer)["auto_topup"] == {
        "enabled": False,
        "currency": None,
        "threshold": None,
        "amount": None,
        "last_failure": None,
        "last_failure_at": None,
    }


def test_auto_topup_settings_are_saved_and_shown(
    client: FlaskClient, buyer: Any, stripe_gateway: StripeGateway
) -> None:
    save_card(client, buyer, stripe_gateway)
    body = turn_on(client, buyer, currency="usd")
    expected = {
        "enabled": True,
        "currency": "USD",
        "threshold": 2000,
        "amount": 10000,
        "last_failure": None,
        "last_failure_at": None,
    }
    assert body["auto_topup"] == expected
    assert balance(client, buyer)["auto_topup"] == expected


# --- queueing -------------------------------------------------------------------------------


def test_a_charge_below_the_threshold_queues_exactly_one_auto_topup(
    client: FlaskClient, buyer: Any, stripe_gateway: StripeGateway
) -> None:
    save_card(client, buyer, stripe_gateway)
    turn_on(client, buyer)
    fund(buyer.org.id, 5000)

    sell(buyer.org.id, 3000, "sale-1")  # 2000 left: at the threshold, not under it
    assert auto_topups(buyer.org.id) == []

    sell(buyer.org.id, 1, "sale-2")  # 1999 left
    (queued,) = auto_topups(buyer.org.id)
    assert (queued.status, queued.amount, queued.currency) == (TopUpStatus.PENDING, 10000, "USD")
    assert queued.payment_intent_id is None  # the job charges it, not the sale

    sell(buyer.org.id, 999, "sale-3")  # 1000 left, one already pending
    sell(buyer.org.id, 1000, "sale-4")  # 0 left
    assert [t.id for t in auto_topups(buyer.org.id)] == [queued.id]
    assert usd(client, buyer) == 0


def test_no_auto_topup_is_queued_when_it_is_off_or_for_another_currency(
    client: FlaskClient, buyer: Any, stripe_gateway: StripeGateway
) -> None:
    save_card(client, buyer, stripe_gateway)
    fund(buyer.org.id, 5000)
    post_entry(
        db.session,
        key="fund-eur",
        kind=EntryKind.TOPUP,
        currency="EUR",
        legs=[
            Leg(None, AccountKind.STRIPE_CLEARING, -5000),
            Leg(buyer.org.id, AccountKind.BUYER_BALANCE, 5000),
        ],
    )
    db.session.commit()

    sell(buyer.org.id, 4500, "usd-while-off")  # off: nothing queued
    turn_on(client, buyer)
    sell(buyer.org.id, 4500, "eur-sale", currency="EUR")  # watched currency is USD
    assert auto_topups(buyer.org.id) == []

    sell(buyer.org.id, 100, "usd-while-on")
    assert [(t.amount, t.currency) for t in auto_topups(buyer.org.id)] == [(10000, "USD")]


def test_no_auto_topup_is_queued_once_it_is_turned_off(
    client: FlaskClient, buyer: Any, stripe_gateway: StripeGateway
) -> None:
    save_card(client, buyer, stripe_gateway)
    turn_on(client, buyer)
    off = client.put(AUTO, json={"enabled": False}, headers=buyer.headers)
    assert off.status_code == 200, off.json
    assert off.json["auto_topup"]["enabled"] is False
    fund(buyer.org.id, 5000)

    sell(buyer.org.id, 4500, "sale-1")

    assert auto_topups(buyer.org.id) == []
    assert usd(client, buyer) == 500


# --- the job --------------------------------------------------------------------------------


def test_the_job_charges_the_saved_card_off_session_and_credits_once(
    ctx: Flask, client: FlaskClient, buyer: Any, stripe_gateway: StripeGateway
) -> None:
    method = save_card(client, buyer, stripe_gateway)
    turn_on(client, buyer)
    # Fund the buyer with a real top-up, paid at localstripe and credited by a refresh.
    topup = client.post(TOPUPS, json={"amount": 5000, "currency": "USD"}, headers=buyer.headers)
    assert topup.status_code == 201, topup.json
    paid = stripe_gateway.confirm_payment_intent(
        topup.json["payment_intent_id"], card_method(stripe_gateway, GOOD_CARD).id
    )
    assert paid.status == "succeeded"
    refreshed = client.post(f"{TOPUPS}/{topup.json['id']}/refresh", headers=buyer.headers)
    assert refreshed.json["status"] == "succeeded"
    assert usd(client, buyer) == 5000
    sell(buyer.org.id, 4000, "sale-1")
    (queued,) = auto_topups(buyer.org.id)

    assert run_job(ctx) == [f"top-up {queued.id}: credited"]

    (done,) = auto_topups(buyer.org.id)
    assert done.status == TopUpStatus.SUCCEEDED
    assert done.payment_intent_id is not None and done.entry_id is not None
    assert usd(client, buyer) == 1000 + 10000
    intent = stripe_gateway.client.v1.payment_intents.retrieve(done.payment_intent_id)
    profile = db.session.get(BillingProfile, buyer.org.id)
    assert profile is not None
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 10000, "usd")
    assert intent.customer == profile.stripe_customer_id
    assert intent.payment_method == method.id
    assert intent.metadata.to_dict() == {
        "topup_id": str(done.id),
        "organization_id": str(buyer.org.id),
    }
    entry = db.session.get(JournalEntry, done.entry_id)
    assert entry is not None and entry.kind == EntryKind.TOPUP
    ledger = client.get("/api/v1/billing/ledger", headers=buyer.headers).json["items"]
    assert [(line["kind"], line["amount"]) for line in ledger] == [
        ("topup", 10000),
        ("sale", -4000),
        ("topup", 5000),
    ]
    assert declines(buyer.org.id) == []

    # Running again charges nothing more.
    assert run_job(ctx) == []
    assert usd(client, buyer) == 11000
    # And the next dip under the threshold queues a new one.
    sell(buyer.org.id, 9500, "sale-2")
    assert [t.status for t in auto_topups(buyer.org.id)] == [
        TopUpStatus.SUCCEEDED,
        TopUpStatus.PENDING,
    ]


def test_a_declined_card_fails_the_topup_and_pauses_auto_topup(
    ctx: Flask, client: FlaskClient, buyer: Any, stripe_gateway: StripeGateway
) -> None:
    save_card(client, buyer, stripe_gateway, DECLINING_CARD)
    turn_on(client, buyer)
    fund(buyer.org.id, 5000)
    sell(buyer.org.id, 4000, "sale-1")
    (queued,) = auto_topups(buyer.org.id)

    assert run_job(ctx) == [f"top-up {queued.id}: declined"]

    (failed,) = auto_topups(buyer.org.id)
    assert failed.status == TopUpStatus.FAILED
    assert failed.failure_message and "declined" in failed.failure_message
    assert failed.entry_id is None
    shown = balance(client, buyer)
    assert shown["balances"][0]["balance"] == 1000
    assert shown["auto_topup"]["enabled"] is True
    assert shown["auto_topup"]["last_failure"] == failed.failure_message
    assert shown["auto_topup"]["last_failure_at"] is not None
    (event,) = declines(buyer.org.id)
    assert (event.target_type, event.target_id) == ("topup", str(failed.id))
    assert event.data == {"message": failed.failure_message}

    # No retry loop: more sales under the threshold queue nothing, the job charges nothing.
    sell(buyer.org.id, 500, "sale-2")
    sell(buyer.org.id, 500, "sale-3")
    assert [t.id for t in auto_topups(buyer.org.id)] == [failed.id]
    assert run_job(ctx) == []
    assert run_job(ctx) == []
    assert len(declines(buyer.org.id)) == 1
    assert usd(client, buyer) == 0
    assert db.session.scalar(select(func.count()).select_from(JournalEntry)) == 4


def test_saving_a_new_card_resumes_auto_topup_after_a_decline(
    ctx: Flask, client: FlaskClient, buyer: Any, stripe_gateway: StripeGateway
) -> None:
    save_card(client, buyer, stripe_gateway, DECLINING_CARD)
    turn_on(client, buyer)
    fund(buyer.org.id, 5000)
    sell(buyer.org.id, 4000, "sale-1")
    assert run_job(ctx)[0].endswith("declined")
    sell(buyer.org.id, 100, "sale-2")
    assert len(auto_topups(buyer.org.id)) == 1

    new_method = save_card(client, buyer, stripe_gateway, GOOD_CARD)

    assert balance(client, buyer)["auto_topup"]["last_failure"] is None
    sell(buyer.org.id, 100, "sale-3")
    failed, queued = auto_topups(buyer.org.id)
    assert (failed.status, queued.status) == (TopUpStatus.FAILED, TopUpStatus.PENDING)
    assert run_job(ctx) == [f"top-up {queued.id}: credited"]
    assert usd(client, buyer) == 800 + 10000
    db.session.rollback()
    charged = db.session.get(TopUp, queued.id)
    assert charged is not None and charged.payment_intent_id is not None
    intent = stripe_gateway.client.v1.payment_intents.retrieve(charged.payment_intent_id)
    assert intent.payment_method == new_method.id


def test_setting_auto_topup_again_resumes_it_after_a_decline(
    ctx: Flask, client: FlaskClient, buyer: Any, stripe_gateway: StripeGateway
) -> None:
    save_card(client, buyer, stripe_gateway, DECLINING_CARD)
    turn_on(client, buyer)
    fund(buyer.org.id, 5000)
    sell(buyer.org.id, 4000, "sale-1")
    assert run_job(ctx)[0].endswith("declined")

    again = turn_on(client, buyer, threshold=500, amount=2500)

    assert again["auto_topup"]["last_failure"] is None
    sell(buyer.org.id, 600, "sale-2")  # 400 left, under the new threshold
    failed, queued = auto_topups(buyer.org.id)
    assert (failed.status, queued.status, queued.amount) == (
        TopUpStatus.FAILED,
        TopUpStatus.PENDING,
        2500,
    )
    # Still the declining card: declined once more, and paused once more.
    assert run_job(ctx) == [f"top-up {queued.id}: declined"]
    assert len(declines(buyer.org.id)) == 2
    sell(buyer.org.id, 100, "sale-3")
    assert len(auto_topups(buyer.org.id)) == 2


def test_a_gateway_outage_leaves_the_auto_topup_pending_for_the_next_run(
    ctx: Flask, client: FlaskClient, buyer: Any, fake_gateway: FakeGateway
) -> None:
    setup = client.post(SETUP, headers=buyer.headers).json
    saved = client.post(
        CARDS, json={"setup_intent_id": setup["setup_intent_id"]}, headers=buyer.headers
    )
    assert saved.status_code == 200, saved.json
    turn_on(client, buyer)
    fund(buyer.org.id, 5000)
    sell(buyer.org.id, 4000, "sale-1")
    (queued,) = auto_topups(buyer.org.id)

    fake_gateway.down = True
    assert run_job(ctx) == [f"top-up {queued.id}: gateway_error"]
    (still,) = auto_topups(buyer.org.id)
    assert (still.status, still.payment_intent_id) == (TopUpStatus.PENDING, None)
    assert declines(buyer.org.id) == []
    assert balance(client, buyer)["auto_topup"]["last_failure"] is None

    fake_gateway.down = False
    assert run_job(ctx) == [f"top-up {queued.id}: credited"]
    assert fake_gateway.calls.count("charge_saved_card") == 2
    assert len(fake_gateway.intents) == 1
    assert usd(client, buyer) == 11000


def test_turning_auto_topup_off_before_the_job_runs_charges_nothing(
    ctx: Flask, client: FlaskClient, buyer: Any, fake_gateway: FakeGateway
) -> None:
    setup = client.post(SETUP, headers=buyer.headers).json
    client.post(CARDS, json={"setup_intent_id": setup["setup_intent_id"]}, headers=buyer.headers)
    turn_on(client, buyer)
    fund(buyer.org.id, 5000)
    sell(buyer.org.id, 4000, "sale-1")
    (queued,) = auto_topups(buyer.org.id)

    off = client.put(AUTO, json={"enabled": False}, headers=buyer.headers)
    assert off.status_code == 200, off.json

    assert run_job(ctx) == [f"top-up {queued.id}: canceled"]
    assert "charge_saved_card" not in fake_gateway.calls
    (canceled,) = auto_topups(buyer.org.id)
    assert (canceled.status, canceled.payment_intent_id) == (TopUpStatus.CANCELED, None)
    assert usd(client, buyer) == 1000
    assert declines(buyer.org.id) == []
    assert run_job(ctx) == []


def test_the_job_needs_a_gateway(ctx: Flask, buyer: Any) -> None:
    previous = ctx.extensions.get("payment_gateway")
    ctx.extensions["payment_gateway"] = None
    try:
        result = ctx.test_cli_runner().invoke(args=["billing", "auto-topups"])
    finally:
        ctx.extensions["payment_gateway"] = previous
    assert result.exit_code == 1
    assert "No payment gateway" in result.output
