"""Concurrent requests that must have exactly one effect, on Postgres (row locks, READ
COMMITTED), threads released together against the app:

- the same lead posted at once under one Idempotency-Key: one lead, one sale, one charge,
  one delivery; one 201 and the same answer, unchanged, as 200 for every other;
- the same ping posted at once: likewise, at the ping's promised payout;
- the same return approved at once: see tests/integration/test_returns_concurrency.py
  (`test_concurrent_approvals_of_one_return_move_the_money_once` and the approve-or-reject
  race): one ruling, one refund entry, the money moved once.
"""

from __future__ import annotations

import threading
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
from billing.models import AccountKind, EntryKind, JournalEntry
from exchange.models import Delivery, IdempotencyKey, Lead, Ping, Sale
from extensions import db
from tests.conftest import Account
from tests.helpers import solar_lead
from tests.support.market import create_campaign, fixed
from tests.support.money import fund

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.parametrize("backend", ["postgres"], indirect=True),
]

THREADS = 8
PRICE = 3000
FUNDS = 100_000


def together(app: Flask, work: Callable[[FlaskClient], Any]) -> list[tuple[int, bytes]]:
    """`work(client)` in THREADS threads released at once, each with its own client (its own
    app context and session); the test's own session holds no transaction meanwhile."""
    db.session.rollback()
    barrier = threading.Barrier(THREADS)

    def run(_: int) -> tuple[int, bytes]:
        client = app.test_client()
        barrier.wait(timeout=30)
        response = work(client)
        return response.status_code, response.data

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(run, range(THREADS)))
    db.session.rollback()
    return results


def count(model: Any, *where: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def assert_one_effect(results: list[tuple[int, bytes]], buyer: Account) -> Sale:
    """One 201, every other answer the same body as 200; one lead, sale, charge, delivery."""
    assert Counter(status for status, _ in results) == {201: 1, 200: THREADS - 1}, results
    assert len({body for _, body in results}) == 1  # every answer is the first answer
    assert count(Lead) == 1 and count(Delivery) == 1
    [sale] = db.session.scalars(select(Sale)).all()
    charges = db.session.scalars(
        select(JournalEntry.idempotency_key).where(JournalEntry.kind == EntryKind.SALE)
    ).all()
    assert charges == [f"sale:{sale.id}"]
    assert balance_of(db.session, buyer.org.id, AccountKind.BUYER_BALANCE, "USD") == FUNDS - PRICE
    books = check_books(db.session)
    assert books.ok, books.problems
    db.session.rollback()
    return sale


@pytest.fixture
def market(ctx: Flask, client: FlaskClient, buyer: Account, solar: Any) -> None:
    fund(buyer.org.id, FUNDS)
    create_campaign(client, buyer, pricing=fixed(PRICE))


def test_concurrent_replays_of_one_idempotency_key_sell_and_charge_once(
    ctx: Flask, market: None, publisher: Account, buyer: Account
) -> None:
    headers = {**publisher.headers, "Idempotency-Key": "replay-1"}
    body = solar_lead()

    results = together(ctx, lambda c: c.post("/api/v1/leads", json=body, headers=headers))

    sale = assert_one_effect(results, buyer)
    assert count(IdempotencyKey) == 1
    lead = db.session.get(Lead, sale.lead_id)
    assert lead is not None and lead.status == "sold" and lead.sales_count == 1


def test_concurrent_posts_of_one_ping_sell_and_charge_once(
    ctx: Flask, client: FlaskClient, market: None, publisher: Account, buyer: Account
) -> None:
    ping = client.post(
        "/api/v1/pings",
        json={
            "niche": "solar",
            "country": "US",
            "postal_code": "94103",
            "fields": {"homeowner": True, "monthly_electric_bill": 180, "roof_type": "asphalt"},
        },
        headers=publisher.headers,
    ).json
    assert ping["bid"] == 2100, ping  # 70% of 3,000, promised
    url = f"/api/v1/pings/{ping['ping_id']}/post"
    body = solar_lead()

    results = together(ctx, lambda c: c.post(url, json=body, headers=publisher.headers))

    sale = assert_one_effect(results, buyer)
    assert sale.publisher_amount == 2100
    [row] = db.session.scalars(select(Ping)).all()
    assert row.lead_id == sale.lead_id
