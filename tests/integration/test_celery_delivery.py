"""Celery delivery (REDIS_URL set): real redis-server, real `celery worker --beat` processes.

A committed sale wakes a worker through the broker; a worker killed with SIGKILL while the
buyer's server is still answering loses nothing: its lease runs out, beat's outbox sweep
hands the delivery to the next worker, and the buyer gets it under the same idempotency key.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from celery_app import init_celery
from database import sqlite_begin_mode
from exchange.models import Delivery, DeliveryAttempt, DeliveryStatus
from extensions import db
from tests.helpers import solar_lead
from tests.support.market import create_campaign, fixed
from tests.support.money import fund
from tests.support.receiver import Receiver
from tests.support.services import CeleryWorker, RedisServer


@pytest.fixture
def celery_mode(ctx: Flask, redis_server: RedisServer) -> Iterator[Flask]:
    """The app as it runs with REDIS_URL: committed sales enqueue the outbox task."""
    ctx.config["REDIS_URL"] = redis_server.url
    init_celery(ctx)
    try:
        yield ctx
    finally:
        ctx.config["REDIS_URL"] = ""
        ctx.extensions.pop("celery", None)
        ctx.extensions.pop("outbox_notify", None)


@pytest.fixture
def workers(
    database_url: str, redis_server: RedisServer, tmp_path: Path
) -> Iterator[Callable[..., CeleryWorker]]:
    started: list[CeleryWorker] = []

    def start(**env: str) -> CeleryWorker:
        log = tmp_path / f"worker-{len(started)}.log"
        worker = CeleryWorker(database_url, redis_server.url, log, **env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def _sell(client: FlaskClient, publisher: Any, buyer: Any, receiver: Receiver) -> int:
    fund(buyer.org.id, 10_000)
    created = create_campaign(
        client, buyer, pricing=fixed(2000), delivery={"method": "webhook", "url": receiver.url}
    )
    receiver.secret = created["signing_secret"]
    lead = client.post("/api/v1/leads", json=solar_lead(), headers=publisher.headers).json
    assert lead["status"] == "sold"
    sqlite_begin_mode.set("DEFERRED")  # the request above left this thread on IMMEDIATE
    db.session.rollback()
    delivery_id = int(db.session.query(Delivery.id).one()[0])
    db.session.rollback()
    return delivery_id


def _wait_delivered(delivery_id: int, seconds: float, logs: list[Path]) -> Delivery:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.rollback()
        delivery = db.session.get(Delivery, delivery_id)
        assert delivery is not None
        if delivery.status != DeliveryStatus.PENDING:
            return delivery
        time.sleep(0.1)
    output = "\n".join(p.read_text(errors="replace")[-3000:] for p in logs if p.exists())
    raise AssertionError(f"delivery {delivery_id} still pending after {seconds} s:\n{output}")


def test_a_committed_sale_wakes_a_celery_worker(
    celery_mode: Flask,
    client: FlaskClient,
    publisher: Any,
    buyer: Any,
    solar: Any,
    receiver: Receiver,
    workers: Callable[..., CeleryWorker],
) -> None:
    # The sweep is an hour away: only the task enqueued after the sale's commit can deliver.
    worker = workers(OUTBOX_SWEEP_SECONDS="3600")
    delivery_id = _sell(client, publisher, buyer, receiver)
    delivery = _wait_delivered(delivery_id, 60, [worker.log])
    assert delivery.status == DeliveryStatus.DELIVERED
    assert receiver.bad_signatures == 0
    assert [a["key"] for a in receiver.accepted] == [f"delivery:{delivery_id}"]
    assert receiver.accepted[0]["body"]["lead"]["email"] == "maria.lopez@gmail.com"
    assert delivery.attempts == 1


def test_a_celery_worker_killed_mid_delivery_loses_nothing(
    celery_mode: Flask,
    client: FlaskClient,
    publisher: Any,
    buyer: Any,
    solar: Any,
    receiver: Receiver,
    workers: Callable[..., CeleryWorker],
) -> None:
    settings = {"DELIVERY_LEASE_SECONDS": "2", "OUTBOX_SWEEP_SECONDS": "0.5"}
    receiver.hang_first = 5.0  # the first worker is still waiting for the answer when killed
    first = workers(**settings)
    delivery_id = _sell(client, publisher, buyer, receiver)
    assert receiver.hanging.wait(60), first.log.read_text(errors="replace")[-3000:]
    first.kill()
    db.session.rollback()
    assert db.session.get(Delivery, delivery_id).status == DeliveryStatus.PENDING  # type: ignore[union-attr]
    second = workers(**settings)
    delivery = _wait_delivered(delivery_id, 60, [first.log, second.log])
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 2  # the killed attempt counted, then the one that worked
    # At least once, always under the same key, so the buyer stores it once.
    assert set(receiver.keys) == {f"delivery:{delivery_id}"} and len(receiver.keys) == 2
    time.sleep(receiver.hang_first)  # let the first (abandoned) request finish on our side
    assert [a["key"] for a in receiver.accepted] == [f"delivery:{delivery_id}"]
    recorded = db.session.query(DeliveryAttempt).filter_by(delivery_id=delivery_id).all()
    assert [a.status_code for a in recorded] == [200]  # the killed attempt left no row
