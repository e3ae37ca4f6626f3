"""Lead intake, replays, reading and listing."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from exchange.models import IdempotencyKey, Lead
from extensions import db
from tests.conftest import Account
from tests.helpers import solar_lead


def _count(model: Any = Lead) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_post_stores_a_normalised_lead(client: FlaskClient, publisher: Account, solar: Any) -> None:
    response = client.post("/api/v1/leads", json=solar_lead(), headers=publisher.headers)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "unsold"  # accepted by quality, not sold (no buyers yet)
    assert body["quality"]["verdict"] == "accept"
    assert body["quality"]["score"] == 100
    assert body["niche"] == "solar"
    assert body["email"] == "maria.lopez@gmail.com"
    assert body["phone"] == "+14155552671"
    assert (body["region"], body["city"], body["postal_code"]) == (
        "US-CA",
        "San Francisco",
        "94103",
    )
    assert body["latitude"] and body["longitude"]
    assert body["fields"] == {
        "homeowner": True,
        "monthly_electric_bill": 180,
        "roof_type": "asphalt",
    }
    assert body["consent"]["url"] == "https://solar.example.org/quote"
    assert body["findings"] == []
    assert response.headers["Location"].endswith(f"/api/v1/leads/{body['id']}")

    lead = db.session.get(Lead, body["id"])
    assert lead is not None and lead.publisher_id == publisher.org.id
    assert lead.raw_payload["email"] == "Maria.Lopez@Gmail.com"  # the raw payload, as sent
    assert client.get(f"/api/v1/leads/{body['id']}", headers=publisher.headers).json == body


def test_zip_that_contradicts_the_state_is_stored_with_a_finding(
    client: FlaskClient, publisher: Account, solar: Any
) -> None:
    response = client.post(
        "/api/v1/leads",
        json=solar_lead(region="TX", postal_code="90210"),
        headers=publisher.headers,
    )
    assert response.status_code == 201
    assert [f["code"] for f in response.json["findings"]] == ["postal_code_region_mismatch"]


def test_replay_with_the_same_idempotency_key_returns_the_first_answer(
    client: FlaskClient, publisher: Account, solar: Any
) -> None:
    headers = {**publisher.headers, "Idempotency-Key": "order-1"}
    first = client.post("/api/v1/leads", json=solar_lead(), headers=headers)
    again = client.post("/api/v1/leads", json=solar_lead(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.data == first.data
    assert (_count(), _count(IdempotencyKey)) == (1, 1)


def test_same_key_with_another_body_is_a_conflict(
    client: FlaskClient, publisher: Account, solar: Any
) -> None:
    headers = {**publisher.headers, "Idempotency-Key": "order-2"}
    assert client.post("/api/v1/leads", json=solar_lead(), headers=headers).status_code == 201
    other = client.post("/api/v1/leads", json=solar_lead(first_name="Ana"), headers=headers)
    assert other.status_code == 409
    assert other.json["error"] == "idempotency_key_reused"
    assert _count() == 1


def test_replay_with_the_same_external_id_returns_the_first_answer(
    client: FlaskClient, publisher: Account, solar: Any
) -> None:
    first = client.post(
        "/api/v1/leads", json=solar_lead(external_id="crm-77"), headers=publisher.headers
    )
    again = client.post(
        "/api/v1/leads",
        json=solar_lead(external_id="crm-77", first_name="Changed"),
        headers=publisher.headers,
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    assert again.json["external_id"] == "crm-77"
    assert _count() == 1


def test_external_ids_are_per_publisher(client: FlaskClient, make_account: Any, solar: Any) -> None:
    alice, bob = make_account(), make_account()
    a = client.post("/api/v1/leads", json=solar_lead(external_id="same"), headers=alice.headers)
    b = client.post("/api/v1/leads", json=solar_lead(external_id="same"), headers=bob.headers)
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json["id"] != b.json["id"]


def test_another_publishers_lead_is_not_found(
    client: FlaskClient, make_account: Any, solar: Any
) -> None:
    alice, bob = make_account(), make_account()
    lead_id = client.post("/api/v1/leads", json=solar_lead(), headers=alice.headers).json["id"]
    response = client.get(f"/api/v1/leads/{lead_id}", headers=bob.headers)
    assert response.status_code == 404
    assert response.json["error"] == "not_found"
    assert client.get("/api/v1/leads/999999", headers=bob.headers).status_code == 404
    assert client.get("/api/v1/leads", headers=bob.headers).json["items"] == []


def test_admin_reads_any_lead(
    client: FlaskClient, publisher: Account, admin: Account, solar: Any
) -> None:
    lead_id = client.post("/api/v1/leads", json=solar_lead(), headers=publisher.headers).json["id"]
    assert client.get(f"/api/v1/leads/{lead_id}", headers=admin.headers).status_code == 200


def test_buyer_cannot_read_publisher_leads(
    client: FlaskClient, publisher: Account, buyer: Account, solar: Any
) -> None:
    lead_id = client.post("/api/v1/leads", json=solar_lead(), headers=publisher.headers).json["id"]
    assert client.get(f"/api/v1/leads/{lead_id}", headers=buyer.headers).status_code == 403
    assert client.get("/api/v1/leads", headers=buyer.headers).status_code == 403


def test_list_is_cursor_paginated_newest_first(
    client: FlaskClient, publisher: Account, solar: Any
) -> None:
    ids = [
        client.post(
            "/api/v1/leads", json=solar_lead(i, external_id=f"e{i}"), headers=publisher.headers
        ).json["id"]
        for i in range(5)
    ]
    seen, cursor, pages = [], None, 0
    while True:
        url = "/api/v1/leads?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=publisher.headers).json
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    assert pages == 3
    first = client.get("/api/v1/leads?limit=1", headers=publisher.headers).json["items"][0]
    assert (first["external_id"], first["status"]) == ("e4", "unsold")
    assert first["quality"]["verdict"] == "accept"


def test_list_filters_by_status_niche_and_date(
    client: FlaskClient, publisher: Account, solar: Any
) -> None:
    client.post("/api/v1/leads", json=solar_lead(), headers=publisher.headers)
    h = publisher.headers
    assert len(client.get("/api/v1/leads?status=unsold", headers=h).json["items"]) == 1
    assert client.get("/api/v1/leads?status=sold", headers=h).json["items"] == []
    assert len(client.get("/api/v1/leads?niche=solar", headers=h).json["items"]) == 1
    assert client.get("/api/v1/leads?created_to=2000-01-01", headers=h).json["items"] == []
    assert len(client.get("/api/v1/leads?created_from=2000-01-01", headers=h).json["items"]) == 1
    unknown = client.get("/api/v1/leads?niche=nope", headers=h)
    assert unknown.status_code == 422 and "niche" in unknown.json["fields"]


def test_email_only_and_phone_only_leads_are_accepted(
    client: FlaskClient, publisher: Account, solar: Any
) -> None:
    h = publisher.headers
    assert client.post("/api/v1/leads", json=solar_lead(phone=None), headers=h).status_code == 201
    assert client.post("/api/v1/leads", json=solar_lead(email=None), headers=h).status_code == 201
