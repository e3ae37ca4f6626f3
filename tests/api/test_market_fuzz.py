"""Property: random campaign and ping bodies never cause a 5xx; refusals store nothing."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from exchange.models import Campaign, Ping
from extensions import db
from tests.api.test_intake_fuzz import json_values
from tests.conftest import Account

CAMPAIGN = {
    "name": "CA solar",
    "niche": "solar",
    "geography": {"subdivisions": ["US-CA"], "radius": {"postal_code": "94110", "distance": 5}},
    "schedule": {"timezone": "America/Los_Angeles", "days": ["mon"], "start_hour": 8},
    "filters": [{"field": "roof_type", "op": "in", "value": ["metal"]}],
    "caps": {"leads": {"day": 5}},
    "pricing": {"model": "cpl", "bid": {"type": "fixed", "amount": 2500}},
    "delivery": {"method": "portal"},
}
PING = {"niche": "solar", "country": "US", "postal_code": "94103", "fields": {"homeowner": True}}


def _mutated(base: dict[str, Any], draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 4)) == 0:
        return draw(json_values)
    body: dict[str, Any] = {k: v for k, v in base.items()}
    for key in draw(st.lists(st.sampled_from([*base, "extra"]), max_size=3, unique=True)):
        if draw(st.booleans()):
            body.pop(key, None)
        elif isinstance(body.get(key), dict) and draw(st.booleans()):
            inner = dict(body[key])
            inner[draw(st.sampled_from([*inner, "x"]))] = draw(json_values)
            body[key] = inner
        else:
            body[key] = draw(json_values)
    return body


@st.composite
def campaign_bodies(draw: st.DrawFn) -> Any:
    return _mutated(CAMPAIGN, draw)


@st.composite
def ping_bodies(draw: st.DrawFn) -> Any:
    return _mutated(PING, draw)


def _check(response: Any, before: int, after: int, created: int) -> None:
    event(f"status {response.status_code}")
    assert response.status_code < 500, response.json
    if response.status_code == created:
        assert after == before + 1
    else:
        assert response.status_code in (400, 404, 409, 415, 422), response.json
        assert after == before
        assert set(response.json) == {"error", "message", "fields", "request_id"}


SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(body=campaign_bodies())
def test_random_campaigns_never_cause_a_server_error(
    client: FlaskClient, buyer: Account, solar: Any, body: Any
) -> None:
    count = select(func.count()).select_from(Campaign)
    before = db.session.scalar(count) or 0
    response = client.post("/api/v1/campaigns", json=body, headers=buyer.headers)
    db.session.rollback()
    _check(response, before, db.session.scalar(count) or 0, 201)


@SETTINGS
@given(body=ping_bodies())
def test_random_pings_never_cause_a_server_error(
    client: FlaskClient, publisher: Account, solar: Any, body: Any
) -> None:
    count = select(func.count()).select_from(Ping)
    before = db.session.scalar(count) or 0
    response = client.post("/api/v1/pings", json=body, headers=publisher.headers)
    db.session.rollback()
    _check(response, before, db.session.scalar(count) or 0, 201)
