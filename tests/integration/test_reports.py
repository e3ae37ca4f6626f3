"""Reports on a small known market built through the API: exact figures for every dimension,
two currencies kept apart, an approved return and a disputed CPA charge netted out, each role
scoped to its own data, and bad parameters named."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from database import utcnow
from exchange.errors import InvalidInput
from exchange.models import Lead, Organization, Role, Sale
from exchange.niches import create_niche
from exchange.reports import ReportRow, lead_report, rejection_reasons
from extensions import db
from tests.conftest import Account
from tests.helpers import solar_lead
from tests.support.market import create_campaign, fixed
from tests.support.money import fund

BAD_PHONE = "+14155550123"  # reserved for fiction: an invalid_phone return is proven
TODAY = utcnow().date()


@dataclass(frozen=True)
class Market:
    p1: Account
    p2: Account
    b1: Account
    b2: Account
    admin: Account


def post(client: FlaskClient, who: Account, body: dict[str, Any], status: str) -> int:
    response = client.post("/api/v1/leads", json=body, headers=who.headers)
    assert response.status_code == 201, response.json
    assert response.json["status"] == status, response.json
    return int(response.json["id"])


def sale_of(lead_id: int) -> int:
    db.session.rollback()
    sale_id = db.session.scalar(select(Sale.id).where(Sale.lead_id == lead_id))
    assert sale_id is not None
    return sale_id


def org(account: Account) -> Organization:
    db.session.rollback()
    found = db.session.get(Organization, account.org.id)
    assert found is not None
    return found


@pytest.fixture
def market(client: FlaskClient, make_account: Any, solar: Any) -> Market:
    """Solar (USD): P1 sells 4 leads to B1 at 25.00 (3 with sub-id aff-12, 1 without), one is
    returned, one converts; P1 has 1 rejected lead. Solar-vn (VND): P2 sells 2 leads (sub-id
    vn-1) to B2 at 100,000 VND."""
    from exchange.demo_niches import DEMO_NICHES

    spec = next(n for n in DEMO_NICHES if n["slug"] == "solar")
    create_niche(db.session, None, {**spec, "slug": "solar-vn", "currency": "VND"})
    db.session.commit()
    m = Market(
        make_account(Role.PUBLISHER, "Pub One"),
        make_account(Role.PUBLISHER, "Pub Two"),
        make_account(Role.BUYER, "Buyer One"),
        make_account(Role.BUYER, "Buyer Two"),
        make_account(Role.ADMIN, "Admin"),
    )
    fund(m.b1.org.id, 100_000)
    fund(m.b2.org.id, 10_000_000, key="topup:vnd", currency="VND")
    create_campaign(client, m.b1)
    create_campaign(client, m.b2, niche="solar-vn", pricing=fixed(100_000))
    sold = [post(client, m.p1, solar_lead(n), "sold") for n in (1, 2, 3)]
    post(client, m.p1, solar_lead(4, sub_id=None), "sold")
    post(client, m.p1, solar_lead(5, form_seconds=0.8), "rejected")
    for n in (11, 12):
        post(client, m.p2, solar_lead(n, niche="solar-vn", sub_id="vn-1"), "sold")

    lead = db.session.get(Lead, sold[0])
    assert lead is not None
    lead.phone = BAD_PHONE
    db.session.commit()
    returned = client.post(
        f"/api/v1/purchases/{sale_of(sold[0])}/returns",
        json={"reason": "invalid_phone"},
        headers=m.b1.headers,
    )
    assert returned.json["status"] == "approved", returned.json
    converted = client.post(
        "/api/v1/conversions",
        json={"sale_id": sale_of(sold[1]), "action": "sale", "transaction_id": "crm-1"},
        headers=m.b1.headers,
    )
    assert converted.status_code == 201, converted.json
    db.session.rollback()
    return m


def report(viewer: Account, by: str, **kw: Any) -> list[ReportRow]:
    kw.setdefault("since", TODAY - dt.timedelta(days=6))
    kw.setdefault("until", TODAY)
    return lead_report(db.session, org(viewer), by=by, **kw)


def row(key: str, currency: str, *counts: int) -> ReportRow:
    names = ("leads", "accepted", "rejected", "sold", "returned", "conversions")
    money = counts[len(names) :]
    return ReportRow(
        key,
        currency,
        **dict(zip(names, counts, strict=False)),
        **dict(zip(("revenue", "payouts"), money, strict=True)),
    )


# Solar in USD, as the admin sees it: 5 leads, 4 accepted, 1 rejected, 4 sales of 25.00
# (one returned, so 75.00 of revenue and 52.50 of payouts), 1 conversion.
SOLAR = (5, 4, 1, 4, 1, 1, 7500, 5250)
VN = (2, 2, 0, 2, 0, 0, 200_000, 140_000)


def test_by_niche_each_currency_apart(market: Market) -> None:
    rows = report(market.admin, "niche")
    assert rows == [row("solar", "USD", *SOLAR), row("solar-vn", "VND", *VN)]
    solar = rows[0]
    assert (solar.margin, solar.acceptance_rate, solar.conversion_rate) == (2250, 0.8, 0.25)
    assert (solar.cost_per_lead, solar.cost_per_acquisition) == (1875, 7500)


def test_by_region_day_publisher_sub_id_and_buyer(market: Market) -> None:
    assert report(market.admin, "region") == [
        row("US-CA", "USD", *SOLAR),
        row("US-CA", "VND", *VN),
    ]
    assert report(market.admin, "day") == [
        row(TODAY.isoformat(), "USD", *SOLAR),
        row(TODAY.isoformat(), "VND", *VN),
    ]
    assert report(market.admin, "publisher") == [
        row("Pub One", "USD", *SOLAR),
        row("Pub Two", "VND", *VN),
    ]
    assert report(market.admin, "sub_id") == [
        row("(none)", "USD", 1, 1, 0, 1, 0, 0, 2500, 1750),
        row("aff-12", "USD", 4, 3, 1, 3, 1, 1, 5000, 3500),
        row("vn-1", "VND", *VN),
    ]
    # By buyer there are no lead-side counts: "leads" are the leads each buyer bought.
    assert report(market.admin, "buyer") == [
        row("Buyer One", "USD", 4, 4, 0, 4, 1, 1, 7500, 5250),
        row("Buyer Two", "VND", 2, 2, 0, 2, 0, 0, 200_000, 140_000),
    ]


def test_a_niche_filter_and_a_period_without_data(market: Market, solar: Any) -> None:
    assert report(market.admin, "publisher", niche_id=solar.id) == [row("Pub One", "USD", *SOLAR)]
    yesterday = TODAY - dt.timedelta(days=1)
    assert (
        report(market.admin, "niche", since=yesterday - dt.timedelta(days=30), until=yesterday)
        == []
    )


def test_a_publisher_sees_its_own_leads_and_earnings_only(market: Market) -> None:
    # Its money is what it earned: the platform's margin stays hidden.
    assert report(market.p1, "niche") == [row("solar", "USD", 5, 4, 1, 4, 1, 1, 5250, 5250)]
    assert report(market.p2, "sub_id") == [row("vn-1", "VND", 2, 2, 0, 2, 0, 0, 140_000, 140_000)]
    # Every non-passing reason of the rejected lead, the failing one first (ties by name).
    reasons = rejection_reasons(db.session, org(market.p1), since=TODAY, until=TODAY)
    assert reasons[0] == ("form_too_fast", 1) and {n for _, n in reasons} == {1}
    assert rejection_reasons(db.session, org(market.p2), since=TODAY, until=TODAY) == []
    with pytest.raises(InvalidInput) as refused:
        report(market.p1, "buyer")
    assert "by" in refused.value.fields


def test_a_buyer_sees_what_it_bought_and_spent_only(market: Market) -> None:
    assert report(market.b1, "niche") == [row("solar", "USD", 4, 4, 0, 4, 1, 1, 7500, 7500)]
    assert report(market.b2, "day") == [
        row(TODAY.isoformat(), "VND", 2, 2, 0, 2, 0, 0, 200_000, 200_000)
    ]
    for by in ("publisher", "sub_id"):
        with pytest.raises(InvalidInput) as refused:
            report(market.b1, by)
        assert "by" in refused.value.fields


def test_bad_parameters_are_named(market: Market) -> None:
    with pytest.raises(InvalidInput) as unknown:
        report(market.admin, "colour")
    assert "by" in unknown.value.fields
    with pytest.raises(InvalidInput) as backwards:
        report(market.admin, "niche", since=TODAY, until=TODAY - dt.timedelta(days=1))
    assert "until" in backwards.value.fields


def test_cpa_charges_count_and_an_approved_dispute_takes_them_back(
    client: FlaskClient, make_account: Any, solar: Any
) -> None:
    publisher, buyer, admin = (
        make_account(Role.PUBLISHER),
        make_account(Role.BUYER),
        make_account(Role.ADMIN),
    )
    fund(buyer.org.id, 100_000)
    create_campaign(client, buyer, pricing={"model": "cpa", "actions": {"sale": 5000}, "cpl": 200})
    sales = [sale_of(post(client, publisher, solar_lead(n), "sold")) for n in (1, 2)]
    conversions = [
        client.post(
            "/api/v1/conversions",
            json={"sale_id": sale_id, "action": "sale", "transaction_id": f"crm-{sale_id}"},
            headers=buyer.headers,
        ).json
        for sale_id in sales
    ]
    # 2 x 2.00 per lead + 2 x 50.00 per sale; the publisher earns 70% of each.
    assert report(admin, "niche") == [row("solar", "USD", 2, 2, 0, 2, 0, 2, 10_400, 7280)]
    dispute = client.post(
        f"/api/v1/conversions/{conversions[0]['id']}/disputes",
        json={"reason": "fake_or_fraud"},
        headers=buyer.headers,
    ).json
    ruled = client.post(
        f"/api/v1/admin/returns/{dispute['id']}",
        json={"decision": "approve", "note": "Order cancelled."},
        headers=admin.headers,
    )
    assert ruled.json["status"] == "approved", ruled.json
    assert report(admin, "niche") == [row("solar", "USD", 2, 2, 0, 2, 0, 2, 5400, 3780)]
