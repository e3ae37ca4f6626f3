"""Postgres stopped and started again in the middle of a burst of posts, gunicorn left alone:
while the database is down every request is a quick 503 (the JSON error, never a 500 or a
hang), nothing half-written remains, and the service recovers by itself.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from exchange import assessment
from exchange.models import Delivery, Lead, LeadStatus, Sale
from extensions import db
from tests.conftest import Account, make_app
from tests.faults.conftest import (
    TIMEOUT,
    Answer,
    Burst,
    assert_one_lead_per_key,
    assert_sales_charged_once,
    flask_billing_check,
    migrated_app,
    person,
    seed_market,
    wait_for,
)
from tests.support.services import Gunicorn, PostgresCluster, RedisServer

pytestmark = pytest.mark.postgres_only

THREADS = 4
QUICK = 5.0  # seconds: a 503 while the database is down comes at least this fast
PROBE = 1999  # the person of the probe posted while the database is down


def get(url: str) -> requests.Response:
    return requests.get(url, timeout=TIMEOUT, headers={"Connection": "close"})


@pytest.fixture
def database(pg_cluster: PostgresCluster, tmp_path: Path) -> tuple[str, Flask]:
    with psycopg.connect(pg_cluster.admin_url, autocommit=True) as conn:
        conn.execute('CREATE DATABASE "exchange"')
    url = pg_cluster.url("exchange")
    return url, migrated_app(url, tmp_path)


def assert_unavailable(answer: Answer) -> None:
    assert answer.status == 503, answer
    assert answer.body["error"] == "service_unavailable", answer.body
    assert answer.took < QUICK, f"the 503 took {answer.took:.1f} s"


def test_postgres_restarted_mid_burst_gives_503s_then_recovers_with_nothing_half_written(
    database: tuple[str, Flask],
    pg_cluster: PostgresCluster,
    redis_server: RedisServer,
    tmp_path: Path,
) -> None:
    url, app = database
    market = seed_market(app, url, {"method": "portal"})
    with app.app_context():
        db.engine.dispose()  # the test's own pool holds no connection across the restart
    web = Gunicorn(
        tmp_path / "gunicorn.log", workers=2, DATABASE_URL=url, REDIS_URL=redis_server.url
    )
    try:
        pids = web.worker_pids()
        burst = Burst(web.url, market.publisher)
        stop = threading.Event()
        bodies: dict[str, dict] = {}

        def client(t: int) -> None:
            n = t
            while not stop.is_set():
                key = f"pg-{n}"
                bodies[key] = person(n)
                if burst.post(key, bodies[key]).status != 201:
                    time.sleep(0.05)  # a client backing off a little
                n += THREADS

        with ThreadPoolExecutor(THREADS) as pool:
            futures = [pool.submit(client, t) for t in range(THREADS)]
            wait_for(lambda: burst.acknowledged() >= 20, 60, "20 leads before the stop")

            pg_cluster.stop("fast")  # sessions cut, open transactions rolled back
            down = time.monotonic()
            time.sleep(1.0)
            sent = time.monotonic()
            ready = get(f"{web.url}/readyz")
            assert ready.status_code == 503 and ready.json()["checks"]["database"] != "ok"
            bodies["probe-down"] = person(PROBE)
            probe = burst.post("probe-down", bodies["probe-down"])
            assert_unavailable(probe)
            assert time.monotonic() - sent < 2 * QUICK
            time.sleep(1.0)
            answers_while_down = [a for a in burst.answers if a.sent > down + 0.5]

            pg_cluster.start()
            up = time.monotonic()
            wait_for(lambda: get(f"{web.url}/readyz").status_code == 200, 30, "/readyz 200")
            acknowledged = burst.acknowledged()
            wait_for(lambda: burst.acknowledged() >= acknowledged + 20, 30, "posts after restart")
            stop.set()
            for future in futures:
                future.result()

        # While the database was down, every post was a quick JSON 503.
        assert len(answers_while_down) >= THREADS, answers_while_down
        for answer in answers_while_down:
            assert_unavailable(answer)
        # Before and after: 201s; around the stop and start, 503s; never a 500, a cut or a hang.
        seen = Counter(a.status for a in burst.answers)
        assert set(seen) <= {201, 503}, seen
        assert [a for a in burst.answers if a.status == 503 and a.sent > up + 5] == []
        # The service recovered by itself: the same gunicorn master and workers.
        assert web.process.poll() is None and web.worker_pids() == pids

        # Retried with their keys, the refused posts are stored once (a 200 means the commit
        # had gone through before the connection was cut).
        for key in {a.key for a in burst.answers if a.status == 503}:
            retried = burst.post(key, bodies[key])
            assert retried.status in (200, 201), retried

        # Nothing half-written: each lead with its quality report, its answer, its sale,
        # its sale's charge and delivery; one lead per key; the books balance.
        leads = assert_one_lead_per_key(market, burst)
        with app.app_context():
            for lead in db.session.scalars(select(Lead)):
                assert lead.quality and lead.intake_response, lead.id
                assert lead.status == LeadStatus.SOLD, (lead.id, lead.status, lead.quality)
            sold = set(db.session.scalars(select(Sale.id)))
            assert set(db.session.scalars(select(Delivery.sale_id))) == sold
            db.session.remove()
        sales = assert_sales_charged_once(market)
        assert len(sales) == len(leads) >= 40  # 20 before the stop, 20 after the start
        flask_billing_check(url)
    finally:
        web.stop()
        with app.app_context():
            db.engine.dispose()


def test_a_database_that_never_answers_is_a_quick_503(tmp_path: Path) -> None:
    """A Postgres host that takes the connection but never answers (a hung server, a network
    dropping packets): without a connect timeout libpq would wait forever and every request
    would hang until gunicorn killed its worker."""
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(64)  # the kernel completes the handshakes; nothing ever answers
    url = f"postgresql+psycopg://postgres@127.0.0.1:{hole.getsockname()[1]}/exchange"
    try:
        app = make_app(url, tmp_path)
        answers: dict[str, tuple[int, Any, float]] = {}

        def ask(path: str) -> None:
            started = time.monotonic()
            response = app.test_client().get(path, headers={"Authorization": "Bearer lx_x"})
            answers[path] = (response.status_code, response.json, time.monotonic() - started)

        threads = [threading.Thread(target=ask, args=(p,)) for p in ("/readyz", "/api/v1/me")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=3 * QUICK)
        assert set(answers) == {"/readyz", "/api/v1/me"}, f"hung: {answers}"
        status, body, took = answers["/api/v1/me"]
        assert (status, body["error"]) == (503, "service_unavailable") and took < QUICK
        status, body, took = answers["/readyz"]
        assert status == 503 and body["checks"]["database"] != "ok" and took < QUICK
    finally:
        hole.close()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_connection_lost_during_the_quality_checks_is_a_503_and_stores_nothing(
    ctx: Flask,
    client: FlaskClient,
    publisher: Account,
    solar: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The quality module turns a check that raises into a warning; a look-up whose database
    connection died must not be one of those (the request then hit PendingRollbackError: a
    500). Deterministic version of what the restart above does by chance."""
    real = assessment.lookups_for
    killed: list[int] = []

    def dropping(session: Any, lead: Any) -> Any:
        lookups = real(session, lead)

        def source() -> Any:
            if not killed:
                pid = session.scalar(text("SELECT pg_backend_pid()"))
                with db.engine.connect() as other:
                    other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                killed.append(pid)
            return lookups.source()

        return dataclasses.replace(lookups, source=source)

    monkeypatch.setattr(assessment, "lookups_for", dropping)
    headers = {**publisher.headers, "Idempotency-Key": "cut-1"}
    body = person(1)
    cut = client.post("/api/v1/leads", json=body, headers=headers)
    assert killed and (cut.status_code, cut.json["error"]) == (503, "service_unavailable")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 0
    again = client.post("/api/v1/leads", json=body, headers=headers)
    assert again.status_code == 201, again.json
