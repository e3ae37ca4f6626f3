"""Niches: public reading, admin writing, field definitions."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from exchange.models import AuditEvent, Niche
from extensions import db
from tests.conftest import Account

ROOFING = {
    "slug": "roofing",
    "name": "Roofing",
    "currency": "usd",
    "return_window_hours": 48,
    "fields": [
        {"name": "roof_age", "type": "number", "required": True, "minimum": 0, "maximum": 150},
        {"name": "material", "type": "enum", "choices": ["asphalt", "metal"]},
        {"name": "insurance_claim", "type": "boolean"},
        {"name": "notes", "type": "text", "max_length": 200},
        {"name": "storm_date", "type": "date"},
    ],
}


def test_admin_creates_a_niche_that_everyone_can_read(client: FlaskClient, admin: Account) -> None:
    created = client.post("/api/v1/niches", json=ROOFING, headers=admin.headers)
    assert created.status_code == 201, created.json
    body = created.json
    assert (body["slug"], body["currency"], body["return_window_hours"]) == ("roofing", "USD", 48)
    assert body["duplicate_window_days"] == 30  # the default
    assert [f["name"] for f in body["fields"]] == [f["name"] for f in ROOFING["fields"]]
    assert body["fields"][0]["label"] == "Roof age"
    public = client.get("/api/v1/niches/roofing")  # no key needed to read
    assert public.status_code == 200
    assert public.json == body
    listing = client.get("/api/v1/niches").json
    assert [n["slug"] for n in listing["items"]] == ["roofing"]
    assert listing["next_cursor"] is None
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "niche.created")).all()
    assert [(e.actor_organization_id, e.target_id) for e in audit] == [(admin.org.id, "roofing")]


@pytest.mark.parametrize("role", ["publisher", "buyer"])
def test_only_admins_write_niches(client: FlaskClient, make_account: Any, role: str) -> None:
    account = make_account(role)
    assert client.post("/api/v1/niches", json=ROOFING, headers=account.headers).status_code == 403
    assert client.post("/api/v1/niches", json=ROOFING).status_code == 401
    assert db.session.scalar(select(func.count()).select_from(Niche)) == 0


def test_patch_changes_only_what_is_given(client: FlaskClient, admin: Account) -> None:
    client.post("/api/v1/niches", json=ROOFING, headers=admin.headers)
    patched = client.patch(
        "/api/v1/niches/roofing",
        json={"accept_score": 75, "review_score": 50},
        headers=admin.headers,
    )
    assert patched.status_code == 200
    assert (patched.json["accept_score"], patched.json["review_score"]) == (75, 50)
    assert patched.json["return_window_hours"] == 48
    assert len(patched.json["fields"]) == 5


def test_patch_fields_replaces_the_definitions(client: FlaskClient, admin: Account) -> None:
    client.post("/api/v1/niches", json=ROOFING, headers=admin.headers)
    new_fields = [
        {
            "name": "material",
            "type": "enum",
            "choices": ["asphalt", "metal", "tile"],
            "required": True,
        },
        {"name": "roof_age", "type": "number"},
    ]
    patched = client.patch(
        "/api/v1/niches/roofing", json={"fields": new_fields}, headers=admin.headers
    )
    assert patched.status_code == 200, patched.json
    assert [(f["name"], f["required"]) for f in patched.json["fields"]] == [
        ("material", True),
        ("roof_age", False),
    ]
    assert patched.json["fields"][0]["choices"] == ["asphalt", "metal", "tile"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"slug": "Bad Slug"}, "slug"),
        ({"currency": "ZZZ"}, "currency"),
        ({"accept_score": 30, "review_score": 50}, "review_score"),
        ({"fields": [{"name": "x", "type": "enum"}]}, "fields"),
        ({"fields": [{"name": "Bad Name", "type": "text"}]}, "fields"),
        ({"fields": [{"name": "a", "type": "text"}, {"name": "a", "type": "number"}]}, "fields"),
        ({"fields": [{"name": "a", "type": "number", "minimum": 5, "maximum": 1}]}, "fields"),
        ({"fields": [{"name": "a", "type": "text", "choices": ["x"]}]}, "fields"),
        ({"fields": [{"name": "a", "type": "colour"}]}, "fields"),
        ({"return_window_hours": -1}, "return_window_hours"),
    ],
)
def test_invalid_niche_definitions_are_422(
    client: FlaskClient, admin: Account, change: dict[str, Any], field: str
) -> None:
    response = client.post("/api/v1/niches", json={**ROOFING, **change}, headers=admin.headers)
    assert response.status_code == 422, response.json
    assert field in response.json["fields"]
    assert db.session.scalar(select(func.count()).select_from(Niche)) == 0


def test_duplicate_slug_is_409(client: FlaskClient, admin: Account) -> None:
    assert client.post("/api/v1/niches", json=ROOFING, headers=admin.headers).status_code == 201
    again = client.post("/api/v1/niches", json=ROOFING, headers=admin.headers)
    assert again.status_code == 409
    assert again.json["error"] == "slug_taken"


def test_unknown_niche_is_404(client: FlaskClient, admin: Account) -> None:
    assert client.get("/api/v1/niches/nope").status_code == 404
    assert (
        client.patch("/api/v1/niches/nope", json={"name": "x"}, headers=admin.headers).status_code
        == 404
    )
