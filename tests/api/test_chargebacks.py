"""Card disputes on top-ups (Stripe `charge.dispute.created` / `charge.dispute.closed`): the
money leaves the buyer's balance once per dispute (the platform carries what the balance could
not cover), comes back when the dispute is won and stays taken when it is lost."""

from __future__ import annotations

import json
import time
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from billing.ledger import balance_of
from billing.models import AccountKind, Chargeback, EntryKind, JournalEntry, StripeEvent, TopUp
from extensions import db
from tests.conftest import Account
from tests.helpers import solar_lead
from tests.support import fake_gateway as fake
from tests.support.fake_gateway import FakeGateway
from tests.support.market import create_campaign
from tests.support.webhooks import sign

WEBHOOK = "/billing/stripe/webhook"
TOPUP = 5000


def post_event(client: FlaskClient, event_id: str, event_type: str, obj: dict[str, Any]) -> str:
    """Send a signed event; its outcome."""
    body = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "data": {"object": obj},
        }
    ).encode()
    response = client.post(
        WEBHOOK,
        data=body,
        headers={"Stripe-Signature": sign(body, fake.WEBHOOK_SECRET)},
        content_type="application/json",
    )
    assert response.status_code == 200, response.json
    return str(response.json["outcome"])


def credited_topup(client: FlaskClient, buyer: Account, gateway: FakeGateway) -> dict[str, Any]:
    """A 50.00 USD top-up paid and credited through the webhook."""
    created = client.post(
        "/api/v1/billing/topups", json={"amount": TOPUP, "currency": "USD"}, headers=buyer.headers
    )
    assert created.status_code == 201, created.json
    intent_id = created.json["payment_intent_id"]
    gateway.set_status(intent_id, "succeeded")
    intent = {"id": intent_id, "object": "payment_intent", "status": "succeeded"}
    assert post_event(client, "evt_paid", "payment_intent.succeeded", intent) == "credited"
    return dict(created.json)


def dispute(
    intent_id: str, amount: int = 3000, status: str = "needs_response", dp: str = "dp_1"
) -> dict[str, Any]:
    return {
        "id": dp,
        "object": "dispute",
        "amount": amount,
        "currency": "usd",
        "payment_intent": intent_id,
        "status": status,
        "reason": "fraudulent",
    }


def balances(buyer: Account) -> dict[str, int]:
    db.session.rollback()
    return {
        "buyer": balance_of(db.session, buyer.org.id, AccountKind.BUYER_BALANCE, "USD"),
        "adjustments": balance_of(db.session, None, AccountKind.PLATFORM_ADJUSTMENTS, "USD"),
        "clearing": balance_of(db.session, None, AccountKind.STRIPE_CLEARING, "USD"),
    }


def chargebacks() -> list[Chargeback]:
    db.session.rollback()
    return list(db.session.scalars(select(Chargeback).order_by(Chargeback.id)))


def entries(kind: EntryKind) -> int:
    db.session.rollback()
    stmt = select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == kind)
    return int(db.session.scalar(stmt) or 0)


def topup_row(topup_id: int) -> TopUp:
    db.session.rollback()
    row = db.session.get(TopUp, topup_id)
    assert row is not None
    return row


def test_a_dispute_takes_the_money_once_however_often_it_is_reported(
    client: FlaskClient, buyer: Account, fake_gateway: FakeGateway
) -> None:
    topup = credited_topup(client, buyer, fake_gateway)
    before = balances(buyer)
    assert before["buyer"] == TOPUP
    obj = dispute(topup["payment_intent_id"])

    assert post_event(client, "evt_dp_1", "charge.dispute.created", obj) == "chargeback_recorded"
    assert post_event(client, "evt_dp_1", "charge.dispute.created", obj) == "duplicate"
    assert post_event(client, "evt_dp_1b", "charge.dispute.created", obj) == "already_recorded"

    after = balances(buyer)
    assert after == {
        "buyer": TOPUP - 3000,
        "adjustments": 0,
        "clearing": before["clearing"] + 3000,
    }
    [chargeback] = chargebacks()
    assert (chargeback.stripe_dispute_id, chargeback.amount, chargeback.unrecovered) == (
        "dp_1",
        3000,
        0,
    )
    assert (chargeback.status, chargeback.reason, chargeback.topup_id) == (
        "needs_response",
        "fraudulent",
        topup["id"],
    )
    assert chargeback.organization_id == buyer.org.id and chargeback.closed_at is None
    assert entries(EntryKind.CHARGEBACK) == 1
    entry = db.session.get(JournalEntry, chargeback.entry_id)
    assert entry is not None and entry.idempotency_key == "chargeback:dp_1"
    assert topup_row(topup["id"]).refunded_amount == 3000
    outcomes = dict(db.session.execute(select(StripeEvent.id, StripeEvent.outcome)).all())
    assert outcomes["evt_dp_1"] == "chargeback_recorded"
    assert outcomes["evt_dp_1b"] == "already_recorded"
    # What the bank took back can no longer be refunded to the card as well.
    shown = client.get(f"/api/v1/billing/topups/{topup['id']}", headers=buyer.headers).json
    assert shown["refunded_amount"] == 3000


def test_what_the_balance_cannot_cover_is_recorded_as_unrecovered(
    client: FlaskClient,
    buyer: Account,
    publisher: Account,
    solar: Any,
    fake_gateway: FakeGateway,
) -> None:
    topup = credited_topup(client, buyer, fake_gateway)
    create_campaign(client, buyer)  # 25.00 a lead
    lead = client.post("/api/v1/leads", json=solar_lead(), headers=publisher.headers).json
    assert lead["status"] == "sold"
    before = balances(buyer)
    assert before["buyer"] == TOPUP - 2500

    obj = dispute(topup["payment_intent_id"], amount=TOPUP)
    assert post_event(client, "evt_dp", "charge.dispute.created", obj) == "chargeback_recorded"

    after = balances(buyer)
    assert after == {
        "buyer": 0,  # all it had
        "adjustments": before["adjustments"] - 2500,  # the platform's loss, for now
        "clearing": before["clearing"] + TOPUP,
    }
    [chargeback] = chargebacks()
    assert (chargeback.amount, chargeback.unrecovered) == (TOPUP, 2500)

    # Won: the buyer gets back what was taken, the platform its part.
    won = dispute(topup["payment_intent_id"], amount=TOPUP, status="won")
    assert post_event(client, "evt_dp_won", "charge.dispute.closed", won) == "chargeback_won"
    assert balances(buyer) == before
    [chargeback] = chargebacks()
    assert chargeback.status == "won" and chargeback.closed_at is not None
    assert chargeback.reversal_entry_id is not None
    assert entries(EntryKind.CHARGEBACK) == 2
    assert topup_row(topup["id"]).refunded_amount == 0
    again = dispute(topup["payment_intent_id"], amount=TOPUP, status="won")
    assert post_event(client, "evt_dp_won2", "charge.dispute.closed", again) == "already_closed"
    assert balances(buyer) == before and entries(EntryKind.CHARGEBACK) == 2


def test_a_lost_dispute_leaves_the_money_taken(
    client: FlaskClient, buyer: Account, fake_gateway: FakeGateway
) -> None:
    topup = credited_topup(client, buyer, fake_gateway)
    intent = topup["payment_intent_id"]
    assert post_event(client, "evt_1", "charge.dispute.created", dispute(intent)) == (
        "chargeback_recorded"
    )
    taken = balances(buyer)
    assert taken["buyer"] == TOPUP - 3000

    lost = dispute(intent, status="lost")
    assert post_event(client, "evt_2", "charge.dispute.closed", lost) == "chargeback_lost"
    assert balances(buyer) == taken
    [chargeback] = chargebacks()
    assert chargeback.status == "lost" and chargeback.closed_at is not None
    assert chargeback.reversal_entry_id is None
    assert entries(EntryKind.CHARGEBACK) == 1
    # A later "won" for the same dispute changes nothing: it was closed.
    won = dispute(intent, status="won")
    assert post_event(client, "evt_3", "charge.dispute.closed", won) == "already_closed"
    assert balances(buyer) == taken
    assert topup_row(topup["id"]).refunded_amount == 3000


def test_a_dispute_closed_before_it_was_seen_open_is_recorded_and_settled(
    client: FlaskClient, buyer: Account, fake_gateway: FakeGateway
) -> None:
    topup = credited_topup(client, buyer, fake_gateway)
    intent = topup["payment_intent_id"]
    before = balances(buyer)

    lost = dispute(intent, status="lost", dp="dp_late")
    assert post_event(client, "evt_closed", "charge.dispute.closed", lost) == "chargeback_lost"
    late_open = dispute(intent, dp="dp_late")
    assert post_event(client, "evt_opened", "charge.dispute.created", late_open) == (
        "already_recorded"
    )
    assert balances(buyer)["buyer"] == before["buyer"] - 3000
    [chargeback] = chargebacks()
    assert (chargeback.stripe_dispute_id, chargeback.status) == ("dp_late", "lost")
    assert entries(EntryKind.CHARGEBACK) == 1

    won = dispute(intent, status="won", dp="dp_late_won")
    assert post_event(client, "evt_won", "charge.dispute.closed", won) == "chargeback_won"
    assert balances(buyer)["buyer"] == before["buyer"] - 3000  # opened and reversed at once
    assert entries(EntryKind.CHARGEBACK) == 3


def test_a_dispute_that_is_not_ours_moves_nothing(
    client: FlaskClient, buyer: Account, fake_gateway: FakeGateway
) -> None:
    credited_topup(client, buyer, fake_gateway)
    before = balances(buyer)
    stranger = dispute("pi_somebody_else")
    assert post_event(client, "evt_x1", "charge.dispute.created", stranger) == "not_ours"
    closed = dispute("pi_somebody_else", status="lost")
    assert post_event(client, "evt_x2", "charge.dispute.closed", closed) == "not_ours"
    no_intent = {k: v for k, v in dispute("x").items() if k != "payment_intent"}
    assert post_event(client, "evt_x3", "charge.dispute.created", no_intent) == "not_ours"
    no_id = {k: v for k, v in dispute("x").items() if k != "id"}
    assert post_event(client, "evt_x4", "charge.dispute.created", no_id) == "ignored"

    assert balances(buyer) == before
    assert chargebacks() == []
    assert entries(EntryKind.CHARGEBACK) == 0
    outcomes = dict(db.session.execute(select(StripeEvent.id, StripeEvent.outcome)).all())
    assert outcomes["evt_x1"] == "not_ours" and outcomes["evt_x2"] == "not_ours"


def test_a_dispute_never_takes_more_than_the_top_up_brought_in(
    client: FlaskClient, buyer: Account, fake_gateway: FakeGateway
) -> None:
    topup = credited_topup(client, buyer, fake_gateway)
    obj = dispute(topup["payment_intent_id"], amount=TOPUP * 10)
    assert post_event(client, "evt_big", "charge.dispute.created", obj) == "chargeback_recorded"
    [chargeback] = chargebacks()
    assert (chargeback.amount, chargeback.unrecovered) == (TOPUP, 0)
    assert balances(buyer)["buyer"] == 0
