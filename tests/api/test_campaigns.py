"""Buyer campaigns: create, read, change, pause/resume; bad rules get 422 naming the field."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from exchange.campaign_rules import filters_match, schedule_open, zips_within
from exchange.models import Campaign, CampaignTarget
from extensions import db

URL = "/api/v1/campaigns"


def campaign_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "California solar, exclusive",
        "niche": "solar",
        "geography": {"subdivisions": ["US-CA"], "postal_codes": ["10001"]},
        "schedule": {
            "timezone": "America/Los_Angeles",
            "days": ["mon", "tue", "wed"],
            "start_hour": 8,
            "end_hour": 18,
        },
        "min_score": 70,
        "exclusive": True,
        "filters": [
            {"field": "credit_rating", "op": "in", "value": ["good", "excellent"]},
            {"field": "monthly_electric_bill", "op": ">=", "value": 100},
        ],
        "caps": {"leads": {"day": 20, "total": 500}, "spend": {"day": 100_000}},
        "budget": 1_000_000,
        "pricing": {"model": "cpl", "bid": {"type": "fixed", "amount": 2500, "max": 4000}},
        "delivery": {"method": "webhook", "url": "http://127.0.0.1:9999/leads"},
    }
    body.update(overrides)
    return body


def targets(campaign_id: int) -> set[tuple[str, str]]:
    rows = db.session.scalars(
        select(CampaignTarget).where(CampaignTarget.campaign_id == campaign_id)
    )
    return {(t.kind, t.value) for t in rows}


def test_a_buyer_creates_reads_and_lists_its_campaign(
    client: FlaskClient, buyer: Any, solar: Any
) -> None:
    created = client.post(URL, json=campaign_body(), headers=buyer.headers)
    assert created.status_code == 201, created.json
    body = created.json
    assert body["niche"] == "solar" and body["status"] == "active" and body["currency"] == "USD"
    assert body["geography"]["subdivisions"] == ["US-CA"]
    assert body["geography"]["postal_codes"] == ["US:10001"]
    assert body["signing_secret"].startswith("whsec_")
    assert created.headers["Location"].endswith(f"/api/v1/campaigns/{body['id']}")
    assert targets(body["id"]) == {("subdivision", "US-CA"), ("postal", "US:10001")}

    again = client.get(f"{URL}/{body['id']}", headers=buyer.headers)
    assert again.status_code == 200 and again.json == body
    listed = client.get(URL, headers=buyer.headers).json
    assert [c["id"] for c in listed["items"]] == [body["id"]]


def test_a_radius_is_written_out_as_the_zip_codes_inside_it(
    client: FlaskClient, buyer: Any, solar: Any
) -> None:
    geo = {"radius": {"postal_code": "94110", "distance": 10, "unit": "mi"}}
    created = client.post(URL, json=campaign_body(geography=geo), headers=buyer.headers)
    assert created.status_code == 201, created.json
    postal = {v for k, v in targets(created.json["id"]) if k == "postal"}
    assert "US:94110" in postal and "US:94103" in postal  # San Francisco
    assert "US:95814" not in postal  # Sacramento, ~75 miles away
    assert postal == {f"US:{z}" for z in zips_within("94110", 10.0)}


def test_other_buyers_and_roles_cannot_see_or_touch_a_campaign(
    client: FlaskClient, buyer: Any, make_account: Any, publisher: Any, solar: Any
) -> None:
    campaign_id = client.post(URL, json=campaign_body(), headers=buyer.headers).json["id"]
    other = make_account("buyer")
    assert client.get(f"{URL}/{campaign_id}", headers=other.headers).status_code == 404
    assert (
        client.patch(f"{URL}/{campaign_id}", json={"name": "mine"}, headers=other.headers)
    ).status_code == 404
    assert client.post(f"{URL}/{campaign_id}/pause", headers=other.headers).status_code == 404
    assert client.get(URL, headers=other.headers).json["items"] == []
    assert client.post(URL, json=campaign_body(), headers=publisher.headers).status_code == 403


def test_pause_resume_and_patch(client: FlaskClient, buyer: Any, solar: Any) -> None:
    campaign_id = client.post(URL, json=campaign_body(), headers=buyer.headers).json["id"]
    paused = client.post(f"{URL}/{campaign_id}/pause", headers=buyer.headers)
    assert paused.status_code == 200 and paused.json["status"] == "paused"
    assert client.get(URL + "?status=active", headers=buyer.headers).json["items"] == []
    resumed = client.post(f"{URL}/{campaign_id}/resume", headers=buyer.headers)
    assert resumed.json["status"] == "active"

    patched = client.patch(
        f"{URL}/{campaign_id}",
        json={"geography": {"countries": ["US"]}, "min_score": 80},
        headers=buyer.headers,
    )
    assert patched.status_code == 200, patched.json
    assert patched.json["min_score"] == 80
    assert patched.json["filters"] == campaign_body()["filters"]  # untouched keys stay
    assert targets(campaign_id) == {("country", "US")}

    bad = client.patch(
        f"{URL}/{campaign_id}",
        json={"pricing": {"model": "cpl", "bid": {"type": "fixed", "amount": 5000, "max": 10}}},
        headers=buyer.headers,
    )
    assert bad.status_code == 422 and "pricing.bid.max" in bad.json["fields"]
    assert (
        client.patch(
            f"{URL}/{campaign_id}", json={"niche": "legal"}, headers=buyer.headers
        ).status_code
        == 422
    )
    db.session.expire_all()
    assert db.session.get(Campaign, campaign_id).min_score == 80


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"geography": {}}, "geography"),
        ({"geography": {"countries": ["XX"]}}, "geography.countries.0"),
        ({"geography": {"subdivisions": ["US-ZZ"]}}, "geography.subdivisions.0"),
        ({"geography": {"postal_codes": ["00000"]}}, "geography.postal_codes.0"),
        (
            {"geography": {"radius": {"postal_code": "99999", "distance": 5}}},
            "geography.radius.postal_code",
        ),
        ({"schedule": {"timezone": "Mars/Olympus"}}, "schedule.timezone"),
        ({"schedule": {"timezone": "UTC", "start_hour": 18, "end_hour": 8}}, "schedule.end_hour"),
        ({"filters": [{"field": "shoe_size", "op": "=", "value": 9}]}, "filters.0.field"),
        ({"filters": [{"field": "roof_type", "op": ">=", "value": "tile"}]}, "filters.0.op"),
        ({"filters": [{"field": "roof_type", "op": "in", "value": ["straw"]}]}, "filters.0.value"),
        (
            {"filters": [{"field": "monthly_electric_bill", "op": ">", "value": "a lot"}]},
            "filters.0.value",
        ),
        ({"pricing": {"model": "cpl"}}, "pricing.bid"),
        ({"pricing": {"model": "cpl", "bid": {"type": "fixed"}}}, "pricing.bid.amount"),
        ({"pricing": {"model": "cpl", "bid": {"type": "relative"}}}, "pricing.bid.percent"),
        ({"pricing": {"model": "cpa"}}, "pricing.actions"),
        ({"pricing": {"model": "cpa", "actions": {"sale": 0}}}, "pricing"),
        ({"delivery": {"method": "webhook"}}, "delivery.url"),
        ({"delivery": {"method": "email"}}, "delivery.email"),
        ({"delivery": {"method": "portal", "url": "http://127.0.0.1/x"}}, "delivery.url"),
        ({"delivery": {"method": "webhook", "url": "ftp://x"}}, "delivery"),
        ({"min_score": 101}, "min_score"),
        ({"min_temperature": "boiling"}, "min_temperature"),
        ({"caps": {"leads": {"day": 0}}}, "caps"),
        ({"budget": -5}, "budget"),
        ({"niche": "no-such-niche"}, "niche"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_invalid_campaigns_name_the_field_and_store_nothing(
    client: FlaskClient, buyer: Any, solar: Any, overrides: dict[str, Any], field: str
) -> None:
    response = client.post(URL, json=campaign_body(**overrides), headers=buyer.headers)
    assert response.status_code == 422, response.json
    assert any(k == field or k.startswith(field + ".") for k in response.json["fields"]), (
        response.json
    )
    assert db.session.query(Campaign).count() == 0
    assert db.session.query(CampaignTarget).count() == 0


def test_filters_and_schedules_apply_as_written() -> None:
    rules = [
        {"field": "credit_rating", "op": "in", "value": ["good", "excellent"]},
        {"field": "monthly_electric_bill", "op": "between", "value": [100, 400]},
    ]
    assert filters_match(rules, {"credit_rating": "good", "monthly_electric_bill": 150})
    assert not filters_match(rules, {"credit_rating": "poor", "monthly_electric_bill": 150})
    assert not filters_match(rules, {"credit_rating": "good", "monthly_electric_bill": 401})
    assert not filters_match(rules, {"credit_rating": "good"})  # missing field fails
    assert not filters_match([{"field": "x", "op": ">", "value": 3}], {"x": "text"})

    office = {"timezone": "America/New_York", "days": ["mon"], "start_hour": 9, "end_hour": 17}
    monday_10_ny = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)  # 10:00 in New York
    assert schedule_open(office, monday_10_ny)
    assert not schedule_open(office, monday_10_ny + dt.timedelta(hours=8))  # 18:00
    assert not schedule_open(office, monday_10_ny + dt.timedelta(days=1))  # Tuesday
    assert schedule_open(None, monday_10_ny)
