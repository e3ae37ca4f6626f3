"""64 concurrent posts against campaigns whose caps and budgets allow exactly 10 sales."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from itertools import product
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from billing.checks import check_books
from billing.ledger import balance_of
from billing.models import AccountKind
from exchange.models import Lead, Sale
from extensions import db
from tests.conftest import Account
from tests.helpers import solar_lead
from tests.support.money import fund

THREADS = 64
FIRST = ["Maria", "Julia", "Anna", "Clara", "Elena", "Sofia", "Laura", "Nina"]
LAST = ["Lopez", "Garcia", "Smith", "Brown", "Miller", "Davis", "Wilson", "Moore"]


def _campaign(app: Flask, buyer: Account, **rules: Any) -> int:
    body = {
        "name": "CA solar",
        "niche": "solar",
        "geography": {"subdivisions": ["US-CA"]},
        "pricing": {"model": "cpl", "bid": {"type": "fixed", "amount": 2500}},
        "delivery": {"method": "portal"},
        **rules,
    }
    response = app.test_client().post("/api/v1/campaigns", json=body, headers=buyer.headers)
    assert response.status_code == 201, response.json
    return int(response.json["id"])


def test_concurrent_posts_never_oversell_a_cap_or_a_budget(
    ctx: Flask, publisher: Account, make_account: Any, solar: Any
) -> None:
    threads = THREADS
    buyers = [make_account("buyer") for _ in range(3)]
    for i, buyer in enumerate(buyers):
        fund(buyer.org.id, 1_000_000, key=f"fund:{i}")
    capped = _campaign(ctx, buyers[0], caps={"leads": {"total": 4}})
    spend_capped = _campaign(ctx, buyers[1], caps={"spend": {"day": 3 * 2500}})
    budgeted = _campaign(ctx, buyers[2], budget=3 * 2500 + 100)
    # The requests above ran in this thread's app context; end its transaction (on SQLite a
    # write transaction re-opened while rendering would hold the database lock).
    db.session.rollback()
    people = list(product(FIRST, LAST))
    barrier = threading.Barrier(threads)

    def post(n: int) -> int:
        first, last = people[n]
        body = solar_lead(n + 1, first_name=first, last_name=last)
        client = ctx.test_client()
        barrier.wait(timeout=60)
        return client.post("/api/v1/leads", json=body, headers=publisher.headers).status_code

    with ThreadPoolExecutor(threads) as pool:
        statuses = list(pool.map(post, range(threads)))

    assert statuses == [201] * threads
    db.session.rollback()
    per_campaign = dict(
        db.session.execute(select(Sale.campaign_id, func.count()).group_by(Sale.campaign_id)).all()
    )
    assert per_campaign == {capped: 4, spend_capped: 3, budgeted: 3}
    assert sum(per_campaign.values()) == 10
    sold = db.session.scalar(select(func.count()).select_from(Lead).where(Lead.status == "sold"))
    assert 4 <= (sold or 0) <= 10  # shared: one lead can go to up to three buyers
    for buyer, count in zip(buyers, (4, 3, 3), strict=True):
        spent = 1_000_000 - balance_of(db.session, buyer.org.id, AccountKind.BUYER_BALANCE, "USD")
        assert spent == count * 2500
    assert check_books(db.session).ok
