"""Probes, metrics and JSON logs (observability/)."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from exchange.tally import note, take
from extensions import db
from tests.conftest import make_app
from tests.helpers import solar_lead


def sample(client: FlaskClient, name: str, **labels: str) -> float:
    """One sample's value from /metrics (0 when absent)."""
    text = client.get("/metrics").get_data(as_text=True)
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = rf"^{name}{{{wanted}}} (\S+)$" if labels else rf"^{name} (\S+)$"
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_health_and_readiness_answer(client: FlaskClient) -> None:
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json == {"status": "ready", "checks": {"database": "ok"}}


def test_readiness_is_503_while_the_database_is_down(tmp_path: Any) -> None:
    down = make_app("postgresql://nobody@127.0.0.1:1/none", tmp_path)
    response = down.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"] == "unavailable"
    assert down.test_client().get("/healthz").status_code == 200


def test_readiness_reports_redis_when_configured(tmp_path: Any, database_url: str) -> None:
    app = make_app(database_url, tmp_path, REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"] == {"database": "ok", "redis": "unavailable"}


def test_metrics_count_requests_committed_leads_and_sales(
    client: FlaskClient, publisher: Any, solar: Any
) -> None:
    before = sample(client, "exchange_leads_total", verdict="accept")
    requests_before = sample(
        client, "exchange_http_requests_total", endpoint="leads.Leads", method="POST", status="201"
    )
    assert (
        client.post("/api/v1/leads", json=solar_lead(1), headers=publisher.headers).status_code
        == 201
    )
    bad = client.post("/api/v1/leads", json={"niche": "solar"}, headers=publisher.headers)
    assert bad.status_code == 422
    assert sample(client, "exchange_leads_total", verdict="accept") == before + 1
    assert (
        sample(
            client,
            "exchange_http_requests_total",
            endpoint="leads.Leads",
            method="POST",
            status="201",
        )
        == requests_before + 1
    )
    text = client.get("/metrics").get_data(as_text=True)
    assert "exchange_http_request_seconds_bucket" in text
    assert sample(client, "exchange_delivery_backlog") == 0
    assert sample(client, "exchange_ledger_check_ok") == 1


def test_a_rolled_back_savepoint_or_transaction_counts_nothing(ctx: Flask) -> None:
    session = db.session
    session.begin()
    note(session, "lead", "kept")
    savepoint = session.begin_nested()
    note(session, "lead", "undone")
    savepoint.rollback()
    with session.begin_nested():
        note(session, "lead", "released")
    assert take(session) == [("lead", "kept"), ("lead", "released")]
    note(session, "lead", "gone")
    session.rollback()
    assert take(session) == []


def test_json_logs_carry_the_request_id(
    tmp_path: Any, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(database_url, tmp_path, LOG_FORMAT="json")
    try:
        app.test_client().get("/healthz", headers={"X-Request-ID": "req-42"})
        err = capsys.readouterr().err.splitlines()
        lines = [json.loads(line) for line in err if line.startswith("{")]
        access = [line for line in lines if line.get("logger") == "exchange.access"]
        assert access and access[-1]["request_id"] == "req-42"
        assert access[-1]["status"] == 200 and access[-1]["level"] == "INFO"
    finally:
        logging.getLogger().handlers[:] = [
            h for h in logging.getLogger().handlers if not getattr(h, "_exchange", False)
        ]
