"""Concurrent identical posts store one lead: threads against the real database."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from api.schemas.leads import LeadOut
from exchange.intake import Intake, submit_lead
from exchange.models import IdempotencyKey, Lead, Organization
from extensions import db
from tests.conftest import Account
from tests.helpers import solar_lead

THREADS = 16


def _post_concurrently(app: Flask, body: dict[str, Any], headers: dict[str, str]) -> list[Any]:
    barrier = threading.Barrier(THREADS)

    def post(_: int) -> tuple[int, bytes]:
        client = app.test_client()
        barrier.wait(timeout=30)
        response = client.post("/api/v1/leads", json=body, headers=headers)
        return response.status_code, response.data

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(post, range(THREADS)))


def _lead_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Lead)) or 0


def test_concurrent_posts_with_one_idempotency_key_store_one_lead(
    ctx: Flask, publisher: Account, solar: Any
) -> None:
    results = _post_concurrently(ctx, solar_lead(), {**publisher.headers, "Idempotency-Key": "k-1"})
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * (THREADS - 1) + [201]
    assert len({body for _, body in results}) == 1  # every answer is the first answer
    assert _lead_count() == 1
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1


def test_concurrent_posts_with_one_external_id_store_one_lead(
    ctx: Flask, publisher: Account, solar: Any
) -> None:
    results = _post_concurrently(ctx, solar_lead(external_id="crm-1"), publisher.headers)
    assert sorted(status for status, _ in results) == [200] * (THREADS - 1) + [201]
    assert len({body for _, body in results}) == 1
    assert _lead_count() == 1


def test_losing_the_insert_race_returns_the_winners_lead(
    ctx: Flask, backend: str, publisher: Account, solar: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A has inserted but not committed when B arrives.

    On Postgres B's replay check cannot see A's row, so B's insert blocks on the unique index
    and collides once A commits; B must recover inside its savepoint. On SQLite B's BEGIN
    IMMEDIATE waits for A's commit and B's replay check finds the row. Either way: one lead.
    """
    data = {**solar_lead(external_id="race"), "ip": None, "consent": None}
    render = LeadOut().dump
    caplog.set_level(logging.INFO, logger="exchange.intake")
    winner = submit_lead(db.session, publisher.org, data, render=render)  # flushed, not committed
    outcome: dict[str, Intake | BaseException] = {}

    def loser() -> None:
        with ctx.app_context():
            try:
                org = db.session.get(Organization, publisher.org.id)
                assert org is not None
                outcome["b"] = submit_lead(db.session, org, data, render=render)
                outcome["b_id"] = outcome["b"].lead.id  # type: ignore[union-attr,assignment]
                db.session.commit()
            except BaseException as exc:
                outcome["error"] = exc

    thread = threading.Thread(target=loser)
    thread.start()
    time.sleep(0.5)  # B is now blocked behind A's uncommitted row
    assert thread.is_alive()
    db.session.commit()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert "error" not in outcome, outcome.get("error")
    result = outcome["b"]
    assert isinstance(result, Intake)
    assert result.replayed
    assert outcome["b_id"] == winner.lead.id
    assert _lead_count() == 1
    if backend == "postgres":
        assert "intake race lost" in caplog.text  # the savepoint recovery really ran
