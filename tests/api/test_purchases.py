"""Purchases with the full lead, the buyer's pipeline, and CPA conversions charged once."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from billing.ledger import balance_of
from billing.models import AccountKind, EntryKind, JournalEntry
from exchange.models import Conversion, LeadOutcome
from extensions import db
from tests.helpers import solar_lead
from tests.support.market import create_campaign
from tests.support.money import fund


def _campaign(client: FlaskClient, buyer: Any, pricing: dict[str, Any]) -> int:
    return int(create_campaign(client, buyer, pricing=pricing)["id"])


def _bought(client: FlaskClient, publisher: Any, n: int = 0) -> dict[str, Any]:
    lead = client.post("/api/v1/leads", json=solar_lead(n), headers=publisher.headers).json
    assert lead["status"] == "sold", lead
    return lead


def test_a_buyer_sees_what_it_bought_and_moves_it_along_its_pipeline(
    client: FlaskClient, publisher: Any, buyer: Any, make_account: Any, solar: Any
) -> None:
    fund(buyer.org.id, 10_000)
    _campaign(client, buyer, {"model": "cpl", "bid": {"type": "fixed", "amount": 2000}})
    lead = _bought(client, publisher)
    page = client.get("/api/v1/purchases", headers=buyer.headers).json
    assert len(page["items"]) == 1
    purchase = page["items"][0]
    assert purchase["lead"]["email"] == "maria.lopez@gmail.com"
    assert purchase["lead"]["id"] == lead["id"] and purchase["price"] == 2000
    assert purchase["pipeline_status"] == "new"

    moved = client.patch(
        f"/api/v1/purchases/{purchase['id']}", json={"status": "qualified"}, headers=buyer.headers
    )
    assert moved.status_code == 200 and moved.json["pipeline_status"] == "qualified"
    lost = client.patch(
        f"/api/v1/purchases/{purchase['id']}",
        json={"status": "lost", "lost_reason": "chose a competitor"},
        headers=buyer.headers,
    )
    assert lost.json["lost_reason"] == "chose a competitor"
    outcomes = [o.outcome.value for o in db.session.scalars(select(LeadOutcome))]
    assert outcomes == ["qualified", "lost"]

    other = make_account("buyer")
    assert (
        client.get(f"/api/v1/purchases/{purchase['id']}", headers=other.headers).status_code == 404
    )
    assert client.get("/api/v1/purchases", headers=other.headers).json["items"] == []
    bad = client.patch(
        f"/api/v1/purchases/{purchase['id']}",
        json={"status": "qualified", "lost_reason": "x"},
        headers=buyer.headers,
    )
    assert bad.status_code == 422 and "lost_reason" in bad.json["fields"]


def test_a_cpa_conversion_charges_once_however_often_it_is_reported(
    client: FlaskClient, publisher: Any, buyer: Any, solar: Any
) -> None:
    fund(buyer.org.id, 50_000)
    _campaign(client, buyer, {"model": "cpa", "actions": {"sale": 15_000}, "cpl": 200})
    lead = _bought(client, publisher)
    assert balance_of(db.session, buyer.org.id, AccountKind.BUYER_BALANCE, "USD") == 49_800

    body = {"lead_id": lead["id"], "action": "sale", "transaction_id": "crm-77", "value": 900_00}
    answers = [
        client.post("/api/v1/conversions", json=body, headers=buyer.headers) for _ in range(5)
    ]
    assert [a.status_code for a in answers] == [201, 200, 200, 200, 200]
    assert answers[0].json["amount"] == 15_000
    assert len({a.json["id"] for a in answers}) == 1
    assert db.session.query(Conversion).count() == 1
    charges = db.session.scalars(
        select(JournalEntry).where(JournalEntry.kind == EntryKind.CONVERSION)
    ).all()
    assert len(charges) == 1
    assert balance_of(db.session, buyer.org.id, AccountKind.BUYER_BALANCE, "USD") == 34_800
    # 70% of the 200 CPL and of the 15,000 CPA, held for the return window.
    assert balance_of(db.session, publisher.org.id, AccountKind.PUBLISHER_PENDING, "USD") == (
        140 + 10_500
    )
    reused = client.post(
        "/api/v1/conversions", json={**body, "action": "appointment"}, headers=buyer.headers
    )
    assert reused.status_code == 409


def test_conversions_for_leads_the_buyer_did_not_buy_are_404(
    client: FlaskClient, publisher: Any, buyer: Any, make_account: Any, solar: Any
) -> None:
    fund(buyer.org.id, 10_000)
    _campaign(client, buyer, {"model": "cpl", "bid": {"type": "fixed", "amount": 2000}})
    lead = _bought(client, publisher)
    stranger = make_account("buyer")
    response = client.post(
        "/api/v1/conversions",
        json={"lead_id": lead["id"], "action": "sale", "transaction_id": "t1"},
        headers=stranger.headers,
    )
    assert response.status_code == 404
    both = client.post(
        "/api/v1/conversions",
        json={"lead_id": lead["id"], "sale_id": 1, "action": "sale", "transaction_id": "t2"},
        headers=buyer.headers,
    )
    assert both.status_code == 422
    # A CPL campaign records the conversion (for the model) and charges nothing more.
    ok = client.post(
        "/api/v1/conversions",
        json={"lead_id": lead["id"], "action": "sale", "transaction_id": "t3"},
        headers=buyer.headers,
    )
    assert ok.status_code == 201 and ok.json["amount"] == 0
    assert balance_of(db.session, buyer.org.id, AccountKind.BUYER_BALANCE, "USD") == 8000
