"""Every kind of bad input gets a clear 4xx naming the problem, and nothing is stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from exchange.models import IdempotencyKey, Lead
from extensions import db
from tests.conftest import Account
from tests.helpers import solar_lead


def _without(key: str) -> dict[str, Any]:
    body = solar_lead()
    del body[key]
    return body


def _fields(**fields: Any) -> dict[str, Any]:
    return solar_lead(fields=fields)


# (case id, raw body or JSON-able body, extra headers, status, error code, field named)
CASES: list[tuple[str, Any, dict[str, str], int, str, str | None]] = [
    ("malformed json", b'{"niche": "solar",', {}, 400, "invalid_json", None),
    ("json array", b"[1, 2, 3]", {}, 422, "validation_error", "_schema"),
    ("json string", b'"lead"', {}, 422, "validation_error", "_schema"),
    (
        "form body",
        b"niche=solar",
        {"Content-Type": "application/x-www-form-urlencoded"},
        415,
        "unsupported_media_type",
        None,
    ),
    ("name is a number", solar_lead(first_name=123), {}, 422, "validation_error", "first_name"),
    ("name too long", solar_lead(first_name="x" * 101), {}, 422, "validation_error", "first_name"),
    ("niche missing", _without("niche"), {}, 422, "validation_error", "niche"),
    ("country missing", _without("country"), {}, 422, "validation_error", "country"),
    ("country three letters", solar_lead(country="USA"), {}, 422, "validation_error", "country"),
    ("country unknown", solar_lead(country="XX"), {}, 422, "invalid_input", "country"),
    ("region unknown", solar_lead(region="ZZ"), {}, 422, "invalid_input", "region"),
    ("unknown niche", solar_lead(niche="crypto"), {}, 422, "invalid_input", "niche"),
    (
        "required niche field missing",
        _fields(monthly_electric_bill=100),
        {},
        422,
        "invalid_input",
        "fields",
    ),
    (
        "niche field wrong type",
        _fields(homeowner="yes", monthly_electric_bill=100),
        {},
        422,
        "invalid_input",
        "fields",
    ),
    (
        "niche enum value unknown",
        _fields(homeowner=True, monthly_electric_bill=1, roof_type="straw"),
        {},
        422,
        "invalid_input",
        "fields",
    ),
    (
        "niche field unknown",
        _fields(homeowner=True, monthly_electric_bill=1, pets=2),
        {},
        422,
        "invalid_input",
        "fields",
    ),
    ("fields not an object", solar_lead(fields=[1]), {}, 422, "validation_error", "fields"),
    (
        "unknown top-level field",
        solar_lead(favourite_colour="red"),
        {},
        422,
        "validation_error",
        "favourite_colour",
    ),
    (
        "no email and no phone",
        solar_lead(email="", phone=None),
        {},
        422,
        "validation_error",
        "email",
    ),
    ("bad ip", solar_lead(ip="999.1.1.1"), {}, 422, "validation_error", "ip"),
    (
        "naive consent time",
        solar_lead(consent={"captured_at": "2026-01-01T10:00:00"}),
        {},
        422,
        "validation_error",
        "consent",
    ),
    (
        "NUL in a name",
        solar_lead(first_name="Ma\x00ria"),
        {},
        422,
        "validation_error",
        "first_name",
    ),
    (
        "NUL in a niche field key",
        _fields(**{"home\x00owner": True}),
        {},
        422,
        "validation_error",
        "fields.home\x00owner",
    ),
    (
        "lone surrogate",
        b'{"niche": "solar", "country": "US", "email": "a@example.com", "first_name": "\\ud800"}',
        {},
        422,
        "validation_error",
        "first_name",
    ),
    (
        "infinite number",
        b'{"niche": "solar", "country": "US", "email": "a@example.com", '
        b'"fields": {"homeowner": true, "monthly_electric_bill": 1e999}}',
        {},
        422,
        "invalid_input",
        "fields",
    ),
    (
        "idempotency key too long",
        solar_lead(),
        {"Idempotency-Key": "k" * 300},
        422,
        "validation_error",
        "Idempotency-Key",
    ),
    (
        "idempotency key with spaces",
        solar_lead(),
        {"Idempotency-Key": "a b"},
        422,
        "validation_error",
        "Idempotency-Key",
    ),
    (
        "deeply nested",
        b'{"niche": "solar", "fields": ' + b"[" * 50000 + b"]" * 50000 + b"}",
        {},
        400,
        None,
        None,
    ),
]


@pytest.mark.parametrize(
    ("body", "headers", "status", "code", "field"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_lead_is_refused_and_nothing_is_stored(
    client: FlaskClient,
    publisher: Account,
    solar: Any,
    body: Any,
    headers: dict[str, str],
    status: int,
    code: str | None,
    field: str | None,
) -> None:
    all_headers = {**publisher.headers, "Idempotency-Key": "bad-1", **headers}
    if isinstance(body, bytes):
        all_headers.setdefault("Content-Type", "application/json")
        response = client.post("/api/v1/leads", data=body, headers=all_headers)
    else:
        response = client.post("/api/v1/leads", json=body, headers=all_headers)
    assert response.status_code == status, response.json
    payload = response.json
    assert set(payload) == {"error", "message", "fields", "request_id"}
    if code:
        assert payload["error"] == code
    assert payload["message"]
    if field:
        assert field in payload["fields"], payload
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 0
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


def test_oversized_body_is_refused(client: FlaskClient, publisher: Account, solar: Any) -> None:
    body = json.dumps(solar_lead(address="x" * 400_000))
    response = client.post(
        "/api/v1/leads",
        data=body,
        headers={**publisher.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json["error"] == "payload_too_large"
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 0


def test_closed_niche_refuses_leads(
    client: FlaskClient, publisher: Account, admin: Account, solar: Any
) -> None:
    client.patch("/api/v1/niches/solar", json={"is_active": False}, headers=admin.headers)
    response = client.post("/api/v1/leads", json=solar_lead(), headers=publisher.headers)
    assert response.status_code == 422
    assert "niche" in response.json["fields"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("limit=x", "limit"),
        ("cursor=garbage", "cursor"),
        ("status=lost", "status"),
        ("created_from=yesterday", "created_from"),
        ("colour=red", "colour"),
    ],
)
def test_bad_list_queries_are_422(
    client: FlaskClient, publisher: Account, query: str, field: str
) -> None:
    response = client.get(f"/api/v1/leads?{query}", headers=publisher.headers)
    assert response.status_code == 422
    assert field in response.json["fields"]


@pytest.mark.parametrize(
    "path", ["/api/v1/leads?niche=so%00lar", "/api/v1/returns?x%00=1", "/login?next=%00"]
)
def test_a_nul_in_the_query_string_is_a_400_not_a_500(
    client: FlaskClient, publisher: Account, path: str
) -> None:
    response = client.get(path, headers=publisher.headers)
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("put", "/api/v1/leads", 405, "method_not_allowed"),
        ("get", "/api/v1/nothing-here", 404, "not_found"),
        ("get", "/api/v1/leads/not-a-number", 404, "not_found"),
    ],
)
def test_unknown_routes_answer_json(
    client: FlaskClient, publisher: Account, method: str, path: str, status: int, code: str
) -> None:
    response = getattr(client, method)(path, headers=publisher.headers)
    assert response.status_code == status
    assert response.json["error"] == code
