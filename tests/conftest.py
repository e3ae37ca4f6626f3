"""Fixtures: the app on SQLite and on Postgres, a clean database per test, keys per role.

Tests that take `app` (or anything built on it) run twice, once per database. The Postgres
run needs TEST_POSTGRES_URL (`make test` starts a throwaway server); under CI=true a missing
Postgres fails the run instead of skipping.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text
from werkzeug.serving import make_server

from app import create_app
from billing.checks import check_books
from billing.stripe_gateway import StripeGateway
from database import Base
from exchange.accounts import create_organization, issue_api_key
from exchange.conversion import clear_model_cache
from exchange.matching import clear_rules_cache
from exchange.models import Organization, Role
from extensions import db, limiter
from tests.support.fake_gateway import FakeGateway
from tests.support.localstripe import SECRET_KEY as LOCALSTRIPE_KEY
from tests.support.localstripe import WEBHOOK_SECRET as LOCALSTRIPE_WEBHOOK_SECRET
from tests.support.localstripe import LocalStripe
from tests.support.services import RedisServer, redis_binary

pytest_plugins = ["tests.support.receiver"]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


def postgres_admin_url() -> str | None:
    url = os.environ.get("TEST_POSTGRES_URL")
    if url:
        return url
    if IN_CI:
        pytest.fail("CI=true but TEST_POSTGRES_URL is not set: the Postgres tests must run")
    return None


class PostgresDatabase:
    """A database created for this test session on the server at TEST_POSTGRES_URL."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.name = f"exchange_test_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')

    @property
    def url(self) -> str:
        base = self.admin_url.rsplit("/", 1)[0]
        return base.replace("postgresql://", "postgresql+psycopg://", 1) + "/" + self.name

    def drop(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextmanager
def empty_database(backend: str, directory: Path) -> Iterator[str]:
    """The URL of a new, empty database of the backend, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / f'{uuid.uuid4().hex[:8]}.db'}"
        return
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip("no TEST_POSTGRES_URL: Postgres tests skipped (make test provides one)")
    database = PostgresDatabase(admin)
    try:
        yield database.url
    finally:
        database.drop()


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with empty_database(backend, tmp_path_factory.mktemp("sqlite")) as url:
        yield url


def make_app(url: str, tmp: Path, **extra: Any) -> Flask:
    config = {
        "SQLALCHEMY_DATABASE_URI": url,
        "TESTING": True,
        "DEMO_KEYS_FILE": str(tmp / "demo_keys.json"),
        **extra,
    }
    return create_app(config)


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app per database, its schema built by the migrations (not by create_all)."""
    application = make_app(database_url, tmp_path_factory.mktemp("instance"))
    with application.app_context():
        upgrade(directory=MIGRATIONS)
    yield application
    with application.app_context():
        db.engine.dispose()


def _wipe(application: Flask) -> None:
    with application.app_context():
        limiter.reset()  # rate-limit counters (log-in attempts) start afresh per test
    clear_model_cache()
    clear_rules_cache()
    with application.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(Base.metadata.sorted_tables):
                    conn.execute(table.delete())


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    """An app context on an empty database; everything is wiped afterwards.

    Before the wipe the books are reconciled (`flask billing check`): whatever a test did
    with money, every entry must balance and every cached balance equal its postings.
    """
    with app.app_context():
        yield app
        db.session.remove()
        books = check_books(db.session)
        db.session.remove()
    _wipe(app)
    assert books.ok, f"the books do not balance after this test: {books.problems}"


@pytest.fixture(scope="session")
def localstripe() -> Iterator[LocalStripe]:
    """The localstripe emulator, on 127.0.0.1 and a free port, for the whole session."""
    emulator = LocalStripe()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """redis-server from the system packages on 127.0.0.1 (CI installs it; never skipped there)."""
    binary = redis_binary()
    if binary is None:
        if IN_CI:
            pytest.fail("CI=true but redis-server is not installed: the Celery tests must run")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    server = RedisServer(binary)
    yield server
    server.stop()


@contextmanager
def gateway_in(app: Flask, gateway: Any) -> Iterator[Any]:
    previous = app.extensions.get("payment_gateway")
    app.extensions["payment_gateway"] = gateway
    try:
        yield gateway
    finally:
        app.extensions["payment_gateway"] = previous


@pytest.fixture
def stripe_gateway(ctx: Flask, localstripe: LocalStripe) -> Iterator[StripeGateway]:
    """The real Stripe gateway (official SDK) pointed at localstripe, installed in the app."""
    gateway = StripeGateway(
        LOCALSTRIPE_KEY,
        webhook_secret=LOCALSTRIPE_WEBHOOK_SECRET,
        publishable_key="pk_test_localstripe",
        api_base=localstripe.url,
        max_network_retries=0,
    )
    with gateway_in(ctx, gateway):
        yield gateway


@pytest.fixture
def fake_gateway(ctx: Flask) -> Iterator[FakeGateway]:
    """The test double for Connect transfers, declines on demand and replayed keys."""
    with gateway_in(ctx, FakeGateway()) as gateway:
        yield gateway


@pytest.fixture
def live_server(ctx: Flask) -> Iterator[str]:
    """The app served over real HTTP on 127.0.0.1 (for webhooks sent by the emulator)."""
    server = make_server("127.0.0.1", 0, ctx, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def client(ctx: Flask) -> FlaskClient:
    return ctx.test_client()


@dataclass
class Account:
    org: Organization
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture
def make_account(ctx: Flask) -> Any:
    """Create an organisation of a role with a fresh API key (committed)."""
    counter = iter(range(1, 1000))

    def _make(role: Role | str = Role.PUBLISHER, name: str | None = None) -> Account:
        role = Role(role)
        org = create_organization(db.session, name or f"{role.value} {next(counter)}", role)
        _, key = issue_api_key(db.session, org)
        db.session.commit()
        return Account(org, key)

    return _make


@pytest.fixture
def publisher(make_account: Any) -> Account:
    return make_account(Role.PUBLISHER)  # type: ignore[no-any-return]


@pytest.fixture
def admin(make_account: Any) -> Account:
    return make_account(Role.ADMIN)  # type: ignore[no-any-return]


@pytest.fixture
def buyer(make_account: Any) -> Account:
    return make_account(Role.BUYER)  # type: ignore[no-any-return]


@pytest.fixture
def solar(ctx: Flask) -> Any:
    """The demo solar niche."""
    from exchange.demo_niches import DEMO_NICHES
    from exchange.niches import create_niche

    spec = next(n for n in DEMO_NICHES if n["slug"] == "solar")
    niche = create_niche(db.session, None, spec)
    db.session.commit()
    return niche
