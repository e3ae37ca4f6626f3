"""The fault tests' pieces: a fresh migrated Postgres database, a seeded market (one publisher,
one funded buyer with one campaign), and a burst of lead posts over real HTTP from threads.

These tests run real processes (gunicorn, Celery, Postgres, Redis) and are Postgres only; under
CI=true a missing Postgres or Redis fails them instead of skipping.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import func, select

from billing.checks import check_books
from billing.ledger import balance_of
from billing.models import AccountKind, EntryKind, JournalEntry
from exchange.accounts import create_organization, issue_api_key
from exchange.demo_niches import DEMO_NICHES
from exchange.models import Delivery, IdempotencyKey, Lead, Role, Sale
from exchange.niches import create_niche
from extensions import db
from tests.conftest import IN_CI, MIGRATIONS, empty_database, make_app
from tests.helpers import solar_lead
from tests.support.market import create_campaign, fixed
from tests.support.money import fund
from tests.support.services import ROOT, PostgresCluster, postgres_bindir

PRICE = 2000
FUNDS = 10_000_000
FIRST = ["Maria", "Julia", "Anna", "Clara", "Elena", "Sofia", "Laura", "Nina", "Rosa", "Irene"]
LAST = ["Lopez", "Garcia", "Martin", "Silva", "Moreno", "Romero", "Navarro", "Torres", "Ruiz"]
LAST += ["Ortega", "Castro", "Vargas", "Medina", "Rojas", "Herrera"]
TIMEOUT = 10.0  # seconds a client waits for an answer; a longer wait counts as a hang


def person(n: int) -> dict[str, Any]:
    """A sellable solar lead; every `n` below 2,000 a different person, IP and sub-id (no
    duplicate, velocity or rotation signal)."""
    last, rest = LAST[n % len(LAST)], n // len(LAST)
    return solar_lead(
        n,
        first_name=FIRST[rest % len(FIRST)],
        last_name=f"{last}-{LAST[rest // len(FIRST) % len(LAST)]}",
        ip=f"198.18.{n // 250}.{n % 250 + 1}",  # the benchmarking range
        sub_id=f"aff-{n}",
    )


@dataclass
class Party:
    """An organisation of the seeded market and its API key."""

    id: int
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@dataclass
class Market:
    app: Flask  # in-process, on the same database, for reading what the services wrote
    url: str
    publisher: Party
    buyer: Party
    campaign: dict[str, Any]


def migrated_app(url: str, directory: Path) -> Flask:
    app = make_app(url, directory)
    with app.app_context():
        upgrade(directory=MIGRATIONS)
    return app


def seed_market(app: Flask, url: str, delivery: dict[str, Any]) -> Market:
    """A publisher, a buyer funded with FUNDS and one solar campaign at PRICE (committed)."""
    with app.app_context():
        parties = []
        for role, name in ((Role.PUBLISHER, "Burst Leads"), (Role.BUYER, "Burst Solar")):
            org = create_organization(db.session, name, role)
            _, key = issue_api_key(db.session, org)
            db.session.commit()
            parties.append(Party(org.id, key))
        publisher, buyer = parties
        create_niche(db.session, None, next(n for n in DEMO_NICHES if n["slug"] == "solar"))
        db.session.commit()
        fund(buyer.id, FUNDS)
        campaign = create_campaign(
            app.test_client(), buyer, pricing=fixed(PRICE), delivery=delivery
        )
        db.session.remove()
    return Market(app, url, publisher, buyer, campaign)


@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[tuple[str, Flask]]:
    """A new database on the TEST_POSTGRES_URL server, migrated; dropped afterwards."""
    with empty_database("postgres", tmp_path) as url:
        app = migrated_app(url, tmp_path)
        yield url, app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def pg_cluster() -> Iterator[PostgresCluster]:
    """A private Postgres server of this test's own, which it may stop and start."""
    bindir = postgres_bindir()
    if bindir is None:
        if IN_CI:
            pytest.fail("CI=true but Postgres is not installed: the fault tests must run")
        pytest.skip("Postgres is not installed (apt-get install postgresql)")
    cluster = PostgresCluster(bindir)
    yield cluster
    cluster.destroy()


@dataclass
class Answer:
    key: str
    status: int | None  # None: the connection was cut or timed out (not acknowledged)
    body: Any
    sent: float
    took: float
    error: str = ""


@dataclass
class Burst:
    """Posts leads to a live server over HTTP, one connection per request."""

    base_url: str
    publisher: Party
    answers: list[Answer] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def post(self, key: str, body: dict[str, Any]) -> Answer:
        sent = time.monotonic()
        headers = {**self.publisher.headers, "Idempotency-Key": key, "Connection": "close"}
        try:
            r = requests.post(
                f"{self.base_url}/api/v1/leads", json=body, headers=headers, timeout=TIMEOUT
            )
            answer = Answer(key, r.status_code, _json(r), sent, time.monotonic() - sent)
        except requests.RequestException as exc:
            answer = Answer(key, None, None, sent, time.monotonic() - sent, type(exc).__name__)
        with self.lock:
            self.answers.append(answer)
        return answer

    def post_until_answered(self, key: str, body: dict[str, Any], tries: int = 20) -> Answer:
        """Retry, with the same Idempotency-Key, whatever was not acknowledged."""
        for _ in range(tries):
            answer = self.post(key, body)
            if answer.status in (200, 201):
                return answer
            time.sleep(0.2)
        return answer

    def acknowledged(self) -> int:
        with self.lock:
            return sum(a.status == 201 for a in self.answers)

    def by_key(self) -> dict[str, list[Answer]]:
        out: dict[str, list[Answer]] = {}
        for answer in self.answers:
            out.setdefault(answer.key, []).append(answer)
        return out


def wait_for(predicate: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} not within {seconds:g} s")


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]


def assert_one_lead_per_key(market: Market, burst: Burst) -> list[Lead]:
    """Every key ends acknowledged, all its answers name one lead, every lead acknowledged
    with 201 is stored under its key, and there is exactly one lead per key."""
    by_key = burst.by_key()
    with market.app.app_context():
        records = {
            r.key: r.resource_id
            for r in db.session.scalars(
                select(IdempotencyKey).where(IdempotencyKey.scope == "lead")
            )
        }
        leads = db.session.scalars(select(Lead)).all()
        for key, answers in by_key.items():
            ok = [a for a in answers if a.status in (200, 201)]
            assert ok, f"{key} was never acknowledged: {answers}"
            assert len({a.body["id"] for a in ok}) == 1, f"{key} answered with two leads: {ok}"
            assert sum(a.status == 201 for a in ok) <= 1, f"{key} was created twice: {ok}"
            assert records.get(key) == ok[0].body["id"], f"{key}: {records.get(key)} != {ok}"
        assert len(leads) == len(by_key) == len(records)
        db.session.expunge_all()
        db.session.remove()
    return list(leads)


def assert_sales_charged_once(market: Market) -> list[Sale]:
    """Every stored lead sold once and every sale charged once: one ledger entry per sale,
    the buyer's balance down by exactly the sales, and the books balance."""
    with market.app.app_context():
        sales = db.session.scalars(select(Sale)).all()
        lead_ids = db.session.scalars(select(Lead.id)).all()
        assert sorted(s.lead_id for s in sales) == sorted(lead_ids)  # each lead sold exactly once
        entries = db.session.execute(
            select(JournalEntry.id, JournalEntry.idempotency_key, JournalEntry.reference_id).where(
                JournalEntry.kind == EntryKind.SALE
            )
        ).all()
        # One charge per sale: by key, by reference, and the one the sale points at.
        assert sorted(e.idempotency_key for e in entries) == sorted(f"sale:{s.id}" for s in sales)
        assert sorted(e.reference_id for e in entries) == sorted(str(s.id) for s in sales)
        assert sorted(s.entry_id or 0 for s in sales) == sorted(e.id for e in entries)
        deliveries = db.session.scalar(select(func.count()).select_from(Delivery))
        assert deliveries == len(sales)  # every sale queued its delivery in its transaction
        spent = sum(s.price for s in sales)
        balance = balance_of(db.session, market.buyer.id, AccountKind.BUYER_BALANCE, "USD")
        assert balance == FUNDS - spent
        books = check_books(db.session)
        assert books.ok, books.problems
        db.session.expunge_all()
        db.session.remove()
    return list(sales)


def flask_billing_check(url: str) -> None:
    """`flask billing check` as an operator runs it, against the service's database."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "billing", "check"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "The books balance." in done.stdout
