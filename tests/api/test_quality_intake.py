"""The intake runs the quality module: reports in the response, statuses, duplicates, velocity."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.conftest import Account
from tests.helpers import solar_lead


def _post(client: FlaskClient, account: Account, body: dict[str, Any]) -> Any:
    response = client.post("/api/v1/leads", json=body, headers=account.headers)
    assert response.status_code == 201, response.json
    return response.json


def _codes(body: dict[str, Any]) -> dict[str, str]:
    return {r["code"]: r["severity"] for r in body["quality"]["reasons"] if r["severity"] != "pass"}


def test_the_same_person_again_is_a_rejected_duplicate_across_publishers(
    client: FlaskClient, make_account: Any, solar: Any
) -> None:
    alice, bob = make_account(), make_account()
    first = _post(client, alice, solar_lead())
    again = _post(client, bob, solar_lead(email="someone.else@gmail.com"))  # same phone
    assert first["status"] == "unsold"
    assert again["status"] == "rejected"
    assert _codes(again)["duplicate_lead"] == "fail"
    other_niche_person = _post(client, bob, solar_lead(7))
    assert other_niche_person["status"] == "unsold"


def test_bad_contact_details_are_rejected_with_reasons_kept(
    client: FlaskClient, publisher: Account, solar: Any
) -> None:
    body = _post(client, publisher, solar_lead(email="test@test.com", phone="(212) 555-0123"))
    assert body["status"] == "rejected"
    assert body["quality"]["verdict"] == "reject"
    codes = _codes(body)
    assert codes["email_test_value"] == codes["phone_fictional"] == "fail"
    assert codes["contact_unreachable"] == "fail"
    assert all(r["message"] for r in body["quality"]["reasons"])
    stored = client.get(f"/api/v1/leads/{body['id']}", headers=publisher.headers).json
    assert stored["quality"] == body["quality"]  # rejected leads are kept with their reasons
    listed = client.get("/api/v1/leads?status=rejected", headers=publisher.headers).json["items"]
    assert [lead["id"] for lead in listed] == [body["id"]]


def test_a_single_failed_check_sends_the_lead_to_review(
    client: FlaskClient, publisher: Account, solar: Any
) -> None:
    body = _post(client, publisher, solar_lead(region="TX", postal_code="90210"))
    assert body["status"] == "review"
    assert _codes(body)["postal_code_region_mismatch"] == "fail"


def test_bots_and_busy_ips_are_caught(client: FlaskClient, publisher: Account, solar: Any) -> None:
    bot = _post(client, publisher, solar_lead(1, form_seconds=0.8))
    assert bot["status"] == "rejected" and "form_too_fast" in _codes(bot)
    bodies = [_post(client, publisher, solar_lead(10 + i, ip="198.51.100.9")) for i in range(11)]
    assert "velocity_ip" not in _codes(bodies[3])
    assert _codes(bodies[4])["velocity_ip"] == "warn"
    assert _codes(bodies[10])["velocity_ip"] == "fail"
    assert bodies[10]["status"] == "rejected"


def test_consent_is_required_where_the_niche_says_so(
    client: FlaskClient, publisher: Account, solar: Any
) -> None:
    body = _post(client, publisher, solar_lead(consent=None))
    assert body["status"] == "rejected"
    assert _codes(body)["consent_missing"] == "fail"
