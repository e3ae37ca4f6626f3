"""App-wide behaviour: SQLite settings, request ids, 503 when the database is away, 500s."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from extensions import db
from tests.conftest import make_app


def test_sqlite_runs_in_wal_mode_with_foreign_keys(ctx: Flask, backend: str) -> None:
    if backend != "sqlite":
        assert db.engine.dialect.name == "postgresql"
        return
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_request_id_is_echoed_or_made(client: FlaskClient) -> None:
    given = client.get("/api/v1/niches", headers={"X-Request-ID": "abc-123"})
    assert given.headers["X-Request-ID"] == "abc-123"
    made = client.get("/api/v1/niches", headers={"X-Request-ID": "bad id with spaces"})
    assert len(made.headers["X-Request-ID"]) == 32


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_database_down_answers_503(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://nobody@127.0.0.1:{_closed_port()}/none?connect_timeout=2"
    app = make_app(url, tmp_path)
    response = app.test_client().get("/api/v1/niches")
    assert response.status_code == 503
    assert response.json["error"] == "service_unavailable"
    assert response.headers["Retry-After"] == "1"


def test_unexpected_errors_answer_500_without_internals(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'x.db'}", tmp_path)

    @app.get("/api/v1/boom")
    def boom() -> str:
        raise RuntimeError("secret internal detail")

    response = app.test_client().get("/api/v1/boom")
    assert response.status_code == 500
    assert response.json["error"] == "internal_error"
    assert "secret" not in response.get_data(as_text=True)
    assert response.json["request_id"] in caplog.text
    html = app.test_client().get("/no-such-page")
    assert html.status_code == 404 and html.mimetype == "text/html"
