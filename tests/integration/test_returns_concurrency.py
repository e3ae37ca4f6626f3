"""Returns and card disputes under concurrent requests on Postgres (row locks, READ COMMITTED):
one ruling per return, one open return per sale, the monthly cap held, one chargeback per
dispute; the money moves once and the books balance."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from billing.checks import check_books
from billing.ledger import balance_of
from billing.models import AccountKind, Chargeback, EntryKind, JournalEntry
from exchange.models import Lead, LeadReturn, Sale
from extensions import db
from tests.conftest import Account
from tests.helpers import solar_lead
from tests.support import fake_gateway as fake
from tests.support.fake_gateway import FakeGateway
from tests.support.market import create_campaign
from tests.support.money import fund
from tests.support.webhooks import sign

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.parametrize("backend", ["postgres"], indirect=True),
]

THREADS = 8
PRICE, EARNED = 2500, 1750
FUNDS = 100_000
FIRST = ["Maria", "Julia", "Anna", "Clara", "Elena", "Sofia", "Laura", "Nina"]


def together(app: Flask, work: Callable[[FlaskClient, int], Any]) -> list[Any]:
    """`work(client, i)` in THREADS threads released at once, each request in its own app
    context and session; the test's own session holds no transaction meanwhile."""
    db.session.rollback()
    barrier = threading.Barrier(THREADS)

    def run(i: int) -> Any:
        client = app.test_client()
        barrier.wait(timeout=30)
        return work(client, i)

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(run, range(THREADS)))
    db.session.rollback()
    return results


def outcomes(responses: list[Any]) -> Counter[tuple[int, str | None]]:
    """(status, error code) per response, counted."""
    return Counter(
        (r.status_code, None if r.status_code < 400 else r.json["error"]) for r in responses
    )


def sales_of(client: FlaskClient, publisher: Account, n: int) -> list[int]:
    """Post n leads (distinct people) and return their sales' ids."""
    ids = []
    for i in range(n):
        body = solar_lead(i + 1, first_name=FIRST[i % 8])
        lead = client.post("/api/v1/leads", json=body, headers=publisher.headers).json
        assert lead["status"] == "sold", lead
        ids.append(db.session.scalars(select(Sale.id).where(Sale.lead_id == lead["id"])).one())
    db.session.rollback()
    return ids


def refund_entries() -> int:
    stmt = select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == "return")
    return int(db.session.scalar(stmt) or 0)


def buyer_balance(buyer: Account) -> int:
    return balance_of(db.session, buyer.org.id, AccountKind.BUYER_BALANCE, "USD")


def books_ok() -> None:
    db.session.rollback()
    books = check_books(db.session)
    db.session.rollback()
    assert books.ok, books.problems


@pytest.fixture
def market(client: FlaskClient, buyer: Account, solar: Any) -> int:
    fund(buyer.org.id, FUNDS)
    return int(create_campaign(client, buyer)["id"])


def test_concurrent_approvals_of_one_return_move_the_money_once(
    ctx: Flask,
    client: FlaskClient,
    publisher: Account,
    buyer: Account,
    admin: Account,
    market: int,
) -> None:
    [sale_id] = sales_of(client, publisher, 1)
    ret = client.post(
        f"/api/v1/purchases/{sale_id}/returns",
        json={"reason": "wrong_person"},
        headers=buyer.headers,
    ).json
    assert ret["status"] == "pending"

    def approve(c: FlaskClient, i: int) -> Any:
        return c.post(
            f"/api/v1/admin/returns/{ret['id']}",
            json={"decision": "approve", "note": f"ruling {i}"},
            headers=admin.headers,
        )

    responses = together(ctx, approve)

    assert outcomes(responses) == {(200, None): 1, (409, "already_decided"): THREADS - 1}
    assert refund_entries() == 1
    assert buyer_balance(buyer) == FUNDS
    assert balance_of(db.session, publisher.org.id, AccountKind.PUBLISHER_PENDING, "USD") == 0
    row = db.session.get(LeadReturn, ret["id"])
    assert row is not None and row.refunded == PRICE
    [winner] = [r for r in responses if r.status_code == 200]
    assert row.decision_note == winner.json["decision_note"]
    books_ok()


def test_concurrent_approvals_and_rejections_of_one_return_rule_once(
    ctx: Flask,
    client: FlaskClient,
    publisher: Account,
    buyer: Account,
    admin: Account,
    market: int,
) -> None:
    [sale_id] = sales_of(client, publisher, 1)
    ret = client.post(
        f"/api/v1/purchases/{sale_id}/returns",
        json={"reason": "disconnected"},
        headers=buyer.headers,
    ).json

    def decide(c: FlaskClient, i: int) -> Any:
        decision = "approve" if i % 2 else "reject"
        return c.post(
            f"/api/v1/admin/returns/{ret['id']}",
            json={"decision": decision, "note": decision},
            headers=admin.headers,
        )

    responses = together(ctx, decide)

    assert outcomes(responses) == {(200, None): 1, (409, "already_decided"): THREADS - 1}
    [winner] = [r for r in responses if r.status_code == 200]
    approved = winner.json["status"] == "approved"
    assert refund_entries() == int(approved)
    assert buyer_balance(buyer) == FUNDS - PRICE + PRICE * approved
    books_ok()


def test_concurrent_filings_for_one_sale_file_one_return(
    ctx: Flask,
    client: FlaskClient,
    publisher: Account,
    buyer: Account,
    market: int,
) -> None:
    [sale_id] = sales_of(client, publisher, 1)

    def file(c: FlaskClient, i: int) -> Any:
        return c.post(
            f"/api/v1/purchases/{sale_id}/returns",
            json={"reason": "wrong_person", "note": f"filing {i}"},
            headers=buyer.headers,
        )

    responses = together(ctx, file)

    assert outcomes(responses) == {(201, None): 1, (409, "return_pending"): THREADS - 1}
    assert db.session.scalar(select(func.count()).select_from(LeadReturn)) == 1
    assert buyer_balance(buyer) == FUNDS - PRICE
    books_ok()


def test_concurrent_provable_filings_for_one_sale_refund_once(
    ctx: Flask,
    client: FlaskClient,
    publisher: Account,
    buyer: Account,
    market: int,
) -> None:
    [sale_id] = sales_of(client, publisher, 1)
    sale = db.session.get(Sale, sale_id)
    assert sale is not None
    lead = db.session.get(Lead, sale.lead_id)
    assert lead is not None
    lead.phone = "+14155550123"  # 555-01xx: the re-check proves it
    db.session.commit()

    def file(c: FlaskClient, i: int) -> Any:
        return c.post(
            f"/api/v1/purchases/{sale_id}/returns",
            json={"reason": "invalid_phone"},
            headers=buyer.headers,
        )

    responses = together(ctx, file)

    assert outcomes(responses) == {(201, None): 1, (409, "already_returned"): THREADS - 1}
    [winner] = [r for r in responses if r.status_code == 201]
    assert winner.json["status"] == "approved"
    assert refund_entries() == 1
    assert buyer_balance(buyer) == FUNDS
    books_ok()


def test_concurrent_filings_on_different_sales_stay_within_the_cap(
    ctx: Flask,
    client: FlaskClient,
    publisher: Account,
    buyer: Account,
    market: int,
) -> None:
    sale_ids = sales_of(client, publisher, THREADS)  # 15% of 8 sales rounds up to 2 returns

    def file(c: FlaskClient, i: int) -> Any:
        return c.post(
            f"/api/v1/purchases/{sale_ids[i]}/returns",
            json={"reason": "wrong_person"},
            headers=buyer.headers,
        )

    responses = together(ctx, file)

    assert outcomes(responses) == {(201, None): 2, (409, "return_cap_reached"): THREADS - 2}
    assert db.session.scalar(select(func.count()).select_from(LeadReturn)) == 2
    books_ok()


def _dispute_event(
    event_id: str,
    intent_id: str,
    event_type: str = "charge.dispute.created",
    status: str = "needs_response",
) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "data": {
                "object": {
                    "id": "dp_race",
                    "object": "dispute",
                    "amount": 3000,
                    "currency": "usd",
                    "payment_intent": intent_id,
                    "status": status,
                    "reason": "fraudulent",
                }
            },
        }
    ).encode()


def _send(client: FlaskClient, body: bytes) -> Any:
    return client.post(
        "/billing/stripe/webhook",
        data=body,
        headers={"Stripe-Signature": sign(body, fake.WEBHOOK_SECRET)},
        content_type="application/json",
    )


def _credited_topup(client: FlaskClient, buyer: Account, gateway: FakeGateway) -> str:
    """A 50.00 USD top-up credited through the webhook; its payment intent's id."""
    created = client.post(
        "/api/v1/billing/topups", json={"amount": 5000, "currency": "USD"}, headers=buyer.headers
    ).json
    intent_id = str(created["payment_intent_id"])
    gateway.set_status(intent_id, "succeeded")
    paid = json.dumps(
        {
            "id": "evt_paid",
            "type": "payment_intent.succeeded",
            "data": {"object": {"id": intent_id, "object": "payment_intent"}},
        }
    ).encode()
    credited = _send(client, paid)
    assert credited.json["outcome"] == "credited", credited.json
    return intent_id


def test_one_dispute_sent_in_concurrent_events_is_charged_back_once(
    ctx: Flask, client: FlaskClient, buyer: Account, fake_gateway: FakeGateway
) -> None:
    intent_id = _credited_topup(client, buyer, fake_gateway)

    def send(c: FlaskClient, i: int) -> Any:
        # Half the threads repeat one event id, the others carry the dispute in events of
        # their own.
        return _send(c, _dispute_event("evt_same" if i % 2 else f"evt_{i}", intent_id))

    responses = together(ctx, send)

    assert [r.status_code for r in responses] == [200] * THREADS, [r.json for r in responses]
    seen = Counter(r.json["outcome"] for r in responses)
    assert seen["chargeback_recorded"] == 1
    assert set(seen) <= {"chargeback_recorded", "already_recorded", "duplicate"}
    assert db.session.scalar(select(func.count()).select_from(Chargeback)) == 1
    stmt = select(func.count()).where(JournalEntry.kind == EntryKind.CHARGEBACK)
    assert db.session.scalar(stmt) == 1
    assert buyer_balance(buyer) == 5000 - 3000
    books_ok()


def test_a_dispute_opened_and_won_in_concurrent_events_is_settled_once(
    ctx: Flask, client: FlaskClient, buyer: Account, fake_gateway: FakeGateway
) -> None:
    intent_id = _credited_topup(client, buyer, fake_gateway)

    def send(c: FlaskClient, i: int) -> Any:
        if i % 2:
            return _send(c, _dispute_event(f"evt_open_{i}", intent_id))
        closed = _dispute_event(f"evt_won_{i}", intent_id, "charge.dispute.closed", "won")
        return _send(c, closed)

    responses = together(ctx, send)

    assert [r.status_code for r in responses] == [200] * THREADS, [r.json for r in responses]
    seen = Counter(r.json["outcome"] for r in responses)
    assert seen["chargeback_won"] == 1 and seen["chargeback_recorded"] <= 1
    allowed = {"chargeback_recorded", "already_recorded", "chargeback_won", "already_closed"}
    assert set(seen) <= allowed
    [chargeback] = db.session.scalars(select(Chargeback)).all()
    assert chargeback.status == "won" and chargeback.closed_at is not None
    stmt = select(func.count()).where(JournalEntry.kind == EntryKind.CHARGEBACK)
    assert db.session.scalar(stmt) == 2  # taken, and given back
    assert buyer_balance(buyer) == 5000
    books_ok()
