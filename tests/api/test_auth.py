"""API keys: missing, malformed, wrong, revoked, wrong role; creating, listing, revoking."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from exchange.models import ApiKey, AuditEvent
from extensions import db
from tests.conftest import Account


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_api_key"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "invalid_authorization"),
        ({"Authorization": "Bearer"}, "invalid_authorization"),
        ({"Authorization": "Bearer lx_thisKeyDoesNotExist"}, "invalid_api_key"),
        ({"Authorization": "Bearer sk_test_wrongprefix"}, "invalid_api_key"),
    ],
)
def test_requests_without_a_valid_key_get_401(
    client: FlaskClient, headers: dict[str, str], code: str
) -> None:
    response = client.get("/api/v1/leads", headers=headers)
    assert response.status_code == 401
    assert response.json["error"] == code
    assert response.json["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_key_stops_working(client: FlaskClient, publisher: Account) -> None:
    me = client.get("/api/v1/me", headers=publisher.headers)
    assert me.status_code == 200
    key_id = me.json["api_key"]["id"]
    revoked = client.delete(f"/api/v1/keys/{key_id}", headers=publisher.headers)
    assert revoked.status_code == 200
    assert revoked.json["revoked_at"] is not None
    after = client.get("/api/v1/me", headers=publisher.headers)
    assert after.status_code == 401
    assert after.json["error"] == "revoked_api_key"


def test_wrong_role_gets_403(client: FlaskClient, buyer: Account) -> None:
    response = client.post("/api/v1/leads", json={"niche": "x"}, headers=buyer.headers)
    assert response.status_code == 403
    assert response.json["error"] == "forbidden"


def test_me_tells_organisation_and_key(client: FlaskClient, publisher: Account) -> None:
    body = client.get("/api/v1/me", headers=publisher.headers).json
    assert body["organization"] == {
        "id": publisher.org.id,
        "name": publisher.org.name,
        "role": "publisher",
        "currency": "USD",
    }
    assert publisher.key.startswith(body["api_key"]["prefix"])
    assert "api_key" not in body["api_key"] and "key_hash" not in body["api_key"]


def test_last_used_time_is_recorded(client: FlaskClient, publisher: Account) -> None:
    client.get("/api/v1/me", headers=publisher.headers)
    db.session.expire_all()
    key = db.session.scalar(select(ApiKey).where(ApiKey.organization_id == publisher.org.id))
    assert key is not None and key.last_used_at is not None


def test_key_is_shown_once_and_stored_hashed(client: FlaskClient, publisher: Account) -> None:
    created = client.post("/api/v1/keys", json={"name": "crm"}, headers=publisher.headers)
    assert created.status_code == 201
    plaintext = created.json["api_key"]
    assert plaintext.startswith("lx_") and len(plaintext) >= 40  # 256 random bits
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {plaintext}"}).status_code
        == 200
    )
    listing = client.get("/api/v1/keys", headers=publisher.headers).json
    assert [k["name"] for k in listing["items"]] == ["crm", "default"]
    assert all("api_key" not in k for k in listing["items"])
    stored = db.session.scalars(select(ApiKey.key_hash)).all()
    assert plaintext not in stored
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "api_key.created" in actions


def test_a_key_cannot_revoke_another_organisations_key(
    client: FlaskClient, make_account: Any
) -> None:
    alice, bob = make_account(), make_account()
    bob_key = client.get("/api/v1/me", headers=bob.headers).json["api_key"]["id"]
    response = client.delete(f"/api/v1/keys/{bob_key}", headers=alice.headers)
    assert response.status_code == 404
    assert client.get("/api/v1/me", headers=bob.headers).status_code == 200
