"""kill -9 of a gunicorn worker and of a Celery worker in the middle of a burst of posts and
deliveries: nothing acknowledged is lost, nothing is charged twice, everything is delivered.

Real processes: gunicorn (gunicorn.conf.py, 2 workers) and `celery worker --beat` on a fresh
Postgres database and a Redis broker; the buyer's webhook is a real HTTP receiver. Clients
retry what was not acknowledged (a request cut by the kill) with the same Idempotency-Key.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from exchange.models import Delivery, DeliveryStatus
from extensions import db
from tests.faults.conftest import (
    Burst,
    assert_one_lead_per_key,
    assert_sales_charged_once,
    flask_billing_check,
    person,
    seed_market,
    wait_for,
)
from tests.support.receiver import Receiver
from tests.support.services import CeleryWorker, Gunicorn, RedisServer

pytestmark = pytest.mark.postgres_only

LEADS = 150
THREADS = 6
SETTINGS = {"DELIVERY_LEASE_SECONDS": "2", "OUTBOX_SWEEP_SECONDS": "0.5"}


def celery_ready(worker: CeleryWorker) -> bool:
    return " ready." in worker.log.read_text(errors="replace")


def wait_delivered(app: Flask, seconds: float, logs: list[Path]) -> list[Delivery]:
    deadline = time.monotonic() + seconds
    with app.app_context():
        while True:
            deliveries = list(db.session.scalars(select(Delivery).order_by(Delivery.id)))
            db.session.expunge_all()
            db.session.rollback()
            pending = [d for d in deliveries if d.status == DeliveryStatus.PENDING]
            if not pending:
                db.session.remove()
                return deliveries
            if time.monotonic() > deadline:
                tail = "\n".join(p.read_text(errors="replace")[-3000:] for p in logs)
                raise AssertionError(f"{len(pending)} deliveries still pending:\n{tail}")
            time.sleep(0.2)


def test_kill_9_of_a_web_worker_and_a_celery_worker_mid_burst_loses_nothing(
    fresh_database: tuple[str, Flask],
    redis_server: RedisServer,
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    url, app = fresh_database
    market = seed_market(app, url, {"method": "webhook", "url": receiver.url})
    receiver.secret = market.campaign["signing_secret"]
    receiver.hang_first = 3.0  # the first Celery worker is inside a delivery when it is killed
    env = {"DATABASE_URL": url, "REDIS_URL": redis_server.url, **SETTINGS}
    web = Gunicorn(tmp_path / "gunicorn.log", workers=2, **env)
    workers = [CeleryWorker(url, redis_server.url, tmp_path / "celery-1.log", **SETTINGS)]
    try:
        wait_for(lambda: celery_ready(workers[0]), 60, "the first Celery worker")
        burst = Burst(web.url, market.publisher)
        bodies = [person(n) for n in range(LEADS)]  # built once: a retry sends the same body

        def client(t: int) -> None:
            for n in range(t, LEADS, THREADS):
                burst.post_until_answered(f"burst-{n}", bodies[n])

        with ThreadPoolExecutor(THREADS) as pool:
            futures = [pool.submit(client, t) for t in range(THREADS)]

            # The first sale wakes the Celery worker; it is stuck in the buyer's server: kill it.
            assert receiver.hanging.wait(60), workers[0].log.read_text(errors="replace")
            workers[0].kill()
            celery_killed_at = burst.acknowledged()
            # Half-way through the posts, kill one of gunicorn's two workers.
            wait_for(lambda: burst.acknowledged() >= LEADS // 2, 60, "half the burst")
            [victim, *_] = web.worker_pids()
            web.kill_worker(victim)
            web_killed_at = burst.acknowledged()
            workers.append(
                CeleryWorker(url, redis_server.url, tmp_path / "celery-2.log", **SETTINGS)
            )
            for future in futures:
                future.result()

        # Both kills happened while leads were still being posted.
        assert celery_killed_at < LEADS and web_killed_at < LEADS, (celery_killed_at, web_killed_at)
        pids = web.worker_pids()
        assert victim not in pids and len(pids) == 2  # the master replaced the killed worker
        cut = [a for a in burst.answers if a.status is None]
        assert all(a.status in (None, 200, 201) for a in burst.answers), Counter(
            a.status for a in burst.answers
        )

        assert cut, "the killed worker was serving no request: the kill proved nothing"
        # A client that missed the answer posts again: every key is answered as a replay.
        # (A 200 already: the kill came after the commit, before the answer left.)
        first = {a.key: a.body for a in burst.answers if a.status in (200, 201)}
        for n in range(LEADS):
            again = burst.post(f"burst-{n}", bodies[n])
            assert (again.status, again.body) == (200, first[again.key]), again
        leads = assert_one_lead_per_key(market, burst)
        assert len(leads) == LEADS
        assert all(a.body["status"] == "sold" for a in burst.answers if a.status in (200, 201))
        sales = assert_sales_charged_once(market)
        assert len(sales) == LEADS

        logs = [tmp_path / "celery-1.log", tmp_path / "celery-2.log"]
        deliveries = wait_delivered(app, 90, logs)
        assert [d.status for d in deliveries] == [DeliveryStatus.DELIVERED] * LEADS
        keys = {f"delivery:{d.id}": d for d in deliveries}
        # At least once, always under the delivery's own Idempotency-Key, correctly signed.
        assert receiver.bad_signatures == 0
        assert set(receiver.keys) == set(keys)
        assert sorted(a["key"] for a in receiver.accepted) == sorted(keys)
        for accepted in receiver.accepted:
            assert accepted["body"]["sale_id"] == keys[accepted["key"]].sale_id
        # The delivery the killed worker was sending went out again under the same key.
        assert Counter(receiver.keys)[receiver.keys[0]] >= 2
        flask_billing_check(url)
        replays = sum(a.status == 200 for a in burst.answers) - LEADS
        print(f"{len(cut)} request(s) cut by the kill, {replays} answered as replays on retry")
    finally:
        for worker in workers:
            worker.stop()
        web.stop()
