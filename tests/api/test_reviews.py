"""The review queue end to end: a lead lands in review, an admin decides, the audit log knows."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from exchange.models import AuditEvent
from extensions import db
from tests.conftest import Account
from tests.helpers import solar_lead


def _review_lead(client: FlaskClient, publisher: Account, n: int = 0) -> int:
    body = client.post(
        "/api/v1/leads",
        json=solar_lead(n, region="TX", postal_code="90210"),
        headers=publisher.headers,
    ).json
    assert body["status"] == "review"
    return int(body["id"])


def test_queue_lists_review_leads_oldest_first_with_filters(
    client: FlaskClient, publisher: Account, admin: Account, solar: Any
) -> None:
    first, second = _review_lead(client, publisher, 1), _review_lead(client, publisher, 2)
    client.post("/api/v1/leads", json=solar_lead(3), headers=publisher.headers)  # accepted
    queue = client.get("/api/v1/admin/reviews", headers=admin.headers).json
    assert [item["id"] for item in queue["items"]] == [first, second]
    assert queue["items"][0]["publisher_id"] == publisher.org.id
    h = admin.headers
    by_reason = client.get("/api/v1/admin/reviews?reason=postal_code_region_mismatch", headers=h)
    assert len(by_reason.json["items"]) == 2
    assert client.get("/api/v1/admin/reviews?reason=phone_invalid", headers=h).json["items"] == []
    assert (
        client.get(f"/api/v1/admin/reviews?publisher_id={publisher.org.id + 99}", headers=h).json[
            "items"
        ]
        == []
    )
    assert len(client.get("/api/v1/admin/reviews?niche=solar", headers=h).json["items"]) == 2
    page = client.get("/api/v1/admin/reviews?limit=1", headers=h).json
    rest = client.get(f"/api/v1/admin/reviews?limit=1&cursor={page['next_cursor']}", headers=h).json
    assert [page["items"][0]["id"], rest["items"][0]["id"]] == [first, second]


def test_admin_accepts_and_rejects_with_audit(
    client: FlaskClient, publisher: Account, admin: Account, solar: Any
) -> None:
    a, b = _review_lead(client, publisher, 1), _review_lead(client, publisher, 2)
    accepted = client.post(
        f"/api/v1/admin/reviews/{a}",
        json={"decision": "accept", "note": "ZIP typo, checked by phone"},
        headers=admin.headers,
    )
    assert accepted.status_code == 200
    assert accepted.json["status"] == "unsold"
    assert accepted.json["quality"]["review"]["note"] == "ZIP typo, checked by phone"
    rejected = client.post(
        f"/api/v1/admin/reviews/{b}", json={"decision": "reject"}, headers=admin.headers
    )
    assert rejected.json["status"] == "rejected"
    again = client.post(
        f"/api/v1/admin/reviews/{a}", json={"decision": "reject"}, headers=admin.headers
    )
    assert again.status_code == 409
    mine = client.get(f"/api/v1/leads/{b}", headers=publisher.headers).json
    assert mine["status"] == "rejected"  # the publisher sees the outcome
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("review.%")).order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.target_id, e.actor_organization_id) for e in events] == [
        ("review.accept", str(a), admin.org.id),
        ("review.reject", str(b), admin.org.id),
    ]
    assert client.get("/api/v1/admin/reviews", headers=admin.headers).json["items"] == []


def test_only_admins_review(
    client: FlaskClient, publisher: Account, buyer: Account, solar: Any
) -> None:
    lead = _review_lead(client, publisher)
    for account in (publisher, buyer):
        assert client.get("/api/v1/admin/reviews", headers=account.headers).status_code == 403
        response = client.post(
            f"/api/v1/admin/reviews/{lead}", json={"decision": "accept"}, headers=account.headers
        )
        assert response.status_code == 403


def test_bad_decisions_are_refused(
    client: FlaskClient, publisher: Account, admin: Account, solar: Any
) -> None:
    lead = _review_lead(client, publisher)
    bad = client.post(
        f"/api/v1/admin/reviews/{lead}", json={"decision": "maybe"}, headers=admin.headers
    )
    assert bad.status_code == 422 and "decision" in bad.json["fields"]
    missing = client.post(
        "/api/v1/admin/reviews/999999", json={"decision": "accept"}, headers=admin.headers
    )
    assert missing.status_code == 404


def test_reassess_after_a_niche_change(
    client: FlaskClient, publisher: Account, admin: Account, solar: Any
) -> None:
    lead = client.post(
        "/api/v1/leads", json=solar_lead(consent=None), headers=publisher.headers
    ).json
    assert lead["status"] == "rejected"
    client.patch("/api/v1/niches/solar", json={"consent_required": False}, headers=admin.headers)
    redone = client.post(f"/api/v1/admin/leads/{lead['id']}/reassess", headers=admin.headers)
    assert redone.status_code == 200, redone.json
    assert redone.json["status"] == "unsold"
    assert "consent_missing" not in {r["code"] for r in redone.json["quality"]["reasons"]}
    again = client.post(f"/api/v1/admin/leads/{lead['id']}/reassess", headers=admin.headers)
    assert again.status_code == 200  # re-running twice replaces the reasons, no duplicates


def test_reassess_keeps_one_row_per_reason(
    client: FlaskClient, publisher: Account, admin: Account, solar: Any
) -> None:
    from exchange.models import LeadReason

    lead = _review_lead(client, publisher)
    for _ in range(2):
        redone = client.post(f"/api/v1/admin/leads/{lead}/reassess", headers=admin.headers)
        assert redone.status_code == 200 and redone.json["status"] == "review"
    db.session.rollback()
    codes = db.session.scalars(select(LeadReason.code).where(LeadReason.lead_id == lead)).all()
    assert codes == ["postal_code_region_mismatch"]
