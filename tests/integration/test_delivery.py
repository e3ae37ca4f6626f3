"""Delivering sold leads: a real HTTP receiver on 127.0.0.1 checks our signature; failures are
retried with back-off until the lead arrives once; a worker that dies mid-delivery loses
nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from database import sqlite_begin_mode
from exchange.delivery import claim_due
from exchange.models import Delivery, DeliveryAttempt, DeliveryStatus
from extensions import db
from tests.helpers import solar_lead
from tests.support.market import create_campaign, fixed
from tests.support.money import fund
from tests.support.receiver import Receiver
from worker import deliver_due


@pytest.fixture(autouse=True)
def reads_do_not_lock() -> Iterator[None]:
    # This thread reads the database between worker runs; on SQLite its reads must not take
    # the write lock the worker (a new app context in the same thread) needs.
    token = sqlite_begin_mode.set("DEFERRED")
    yield
    sqlite_begin_mode.reset(token)


def _sell(client: FlaskClient, publisher: Any, buyer: Any, receiver: Receiver) -> int:
    fund(buyer.org.id, 10_000)
    created = create_campaign(
        client,
        buyer,
        pricing=fixed(2000),
        delivery={"method": "webhook", "url": receiver.url},
    )
    receiver.secret = created["signing_secret"]
    lead = client.post("/api/v1/leads", json=solar_lead(), headers=publisher.headers).json
    assert lead["status"] == "sold"
    db.session.rollback()
    sqlite_begin_mode.set("DEFERRED")  # the requests above set this thread to IMMEDIATE
    delivery_id = int(db.session.query(Delivery).one().id)
    db.session.rollback()
    return delivery_id


def _delivery(delivery_id: int) -> Delivery:
    db.session.rollback()
    delivery = db.session.get(Delivery, delivery_id)
    assert delivery is not None
    return delivery


def _make_due(delivery_id: int) -> None:
    delivery = _delivery(delivery_id)
    delivery.next_attempt_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    db.session.commit()


def test_a_signed_lead_arrives_once_after_two_failures(
    ctx: Flask, client: FlaskClient, publisher: Any, buyer: Any, solar: Any, receiver: Receiver
) -> None:
    delivery_id = _sell(client, publisher, buyer, receiver)
    receiver.script = [500, 503]
    for expected in ("pending", "pending", "delivered"):
        assert deliver_due(ctx) == 1
        assert _delivery(delivery_id).status.value == expected
        _make_due(delivery_id) if expected == "pending" else None
    assert receiver.bad_signatures == 0
    assert len(receiver.accepted) == 1
    assert receiver.accepted[0]["body"]["lead"]["email"] == "maria.lopez@gmail.com"
    assert set(receiver.keys) == {f"delivery:{delivery_id}"}  # one key for every try
    attempts = db.session.query(DeliveryAttempt).order_by(DeliveryAttempt.id).all()
    assert [a.status_code for a in attempts] == [500, 503, 200]
    assert _delivery(delivery_id).attempts == 3


def test_back_off_grows_and_a_dead_endpoint_fails_visibly(
    ctx: Flask, client: FlaskClient, publisher: Any, buyer: Any, solar: Any, receiver: Receiver
) -> None:
    ctx.config["DELIVERY_MAX_ATTEMPTS"] = 3
    try:
        delivery_id = _sell(client, publisher, buyer, receiver)
        receiver.script = [500, 500, 500]
        waits = []
        for _ in range(3):
            before = dt.datetime.now(dt.UTC)
            deliver_due(ctx)
            waits.append((_delivery(delivery_id).next_attempt_at - before).total_seconds())
            _make_due(delivery_id)
        delivery = _delivery(delivery_id)
        assert delivery.status == DeliveryStatus.FAILED
        assert delivery.last_error == "HTTP 500"
        assert 25 < waits[0] < 35 and 55 < waits[1] < 65  # 30 s, then 60 s
        assert deliver_due(ctx) == 0  # failed deliveries are not retried
    finally:
        ctx.config["DELIVERY_MAX_ATTEMPTS"] = 5


def test_a_worker_killed_mid_delivery_loses_nothing(
    ctx: Flask, client: FlaskClient, publisher: Any, buyer: Any, solar: Any, receiver: Receiver
) -> None:
    delivery_id = _sell(client, publisher, buyer, receiver)
    # A worker claims the delivery and dies before sending or recording anything.
    assert claim_due(db.session) == [delivery_id]
    db.session.commit()
    assert deliver_due(ctx) == 0  # leased: nobody else takes it yet
    _make_due(delivery_id)  # the lease runs out
    assert deliver_due(ctx) == 1
    assert _delivery(delivery_id).status == DeliveryStatus.DELIVERED
    assert len(receiver.accepted) == 1


def test_a_wrong_secret_is_refused_by_the_receiver_and_not_retried(
    ctx: Flask, client: FlaskClient, publisher: Any, buyer: Any, solar: Any, receiver: Receiver
) -> None:
    delivery_id = _sell(client, publisher, buyer, receiver)
    receiver.secret = "whsec_not_the_campaigns"
    deliver_due(ctx)
    assert receiver.bad_signatures == 1
    assert _delivery(delivery_id).status == DeliveryStatus.FAILED  # 400 is not retried


def test_an_email_campaign_gets_the_lead_by_smtp(
    ctx: Flask, client: FlaskClient, publisher: Any, buyer: Any, solar: Any
) -> None:
    from aiosmtpd.controller import Controller

    from tests.support.localstripe import free_port

    class Inbox:
        def __init__(self) -> None:
            self.messages: list[Any] = []

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            self.messages.append(envelope)
            return "250 OK"

    inbox = Inbox()
    port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    ctx.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    try:
        fund(buyer.org.id, 10_000)
        create_campaign(
            client, buyer, pricing=fixed(2000), delivery={"method": "email", "email": "ops@b.test"}
        )
        lead = client.post("/api/v1/leads", json=solar_lead(), headers=publisher.headers).json
        assert lead["status"] == "sold"
        db.session.rollback()
        sqlite_begin_mode.set("DEFERRED")
        assert deliver_due(ctx) == 1
        delivery = db.session.query(Delivery).one()
        assert delivery.status == DeliveryStatus.DELIVERED
        assert [m.rcpt_tos for m in inbox.messages] == [["ops@b.test"]]
        assert b"maria.lopez@gmail.com" in inbox.messages[0].content
    finally:
        ctx.config.update(SMTP_HOST="", SMTP_PORT=25)
        smtp.stop()
