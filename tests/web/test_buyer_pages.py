"""The buyer portal through the test client, part 1: each page with real content and empty
states, the campaign wizard and its errors, the live quote, pause/resume and the tenant wall
(part 2 is test_buyer_purchases.py)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from exchange.models import Campaign, CampaignStatus, LeadReturn, Niche, Role, Sale
from exchange.pricing import set_rule
from extensions import db
from tests.browser.buyer_steps import shop_fixture  # noqa: F401  (the shop fixture)
from tests.web.conftest import csrf_token, post_form

WIZARD: dict[str, Any] = {
    "niche": "solar",
    "name": "Bay Area solar",
    "states": ["US-CA", "US-NV"],
    "zips": "10001, 94103",
    "radius_zip": "60601",
    "radius_miles": "25",
    "radius_unit": "mi",
    "schedule": "on",
    "timezone": "America/Los_Angeles",
    "days": ["mon", "tue", "wed"],
    "start_hour": "8",
    "end_hour": "18",
    "min_score": "60",
    "filter.roof_type": ["asphalt", "tile"],
    "filter.homeowner": "yes",
    "filter.monthly_electric_bill.min": "100",
    "filter.monthly_electric_bill.max": "",
    "pricing_model": "cpl",
    "bid_type": "fixed",
    "bid_amount": "25.50",
    "bid_max": "40",
    "cap_leads_day": "10",
    "cap_spend_month": "1,000",
    "budget": "5000",
    "delivery_method": "webhook",
    "delivery_url": "https://crm.example.com/leads",
}


def count(model: Any) -> int:
    db.session.rollback()
    total = int(db.session.scalar(select(func.count()).select_from(model)) or 0)
    db.session.rollback()
    return total


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def field_error(html: str, field: str) -> str:
    """The message shown next to a field (the `e-<field>` element), or ''."""
    match = re.search(rf'id="e-{re.escape(field)}"[^>]*>([^<]*)<', html)
    return match.group(1) if match else ""


# --- pages ---------------------------------------------------------------------------------


def test_each_page_shows_the_buyers_own_content(client: FlaskClient, shop: Any) -> None:
    sale = shop.sale_ids[0]
    pages = {
        "/buyer/": ["950.00 USD", "Campaigns buying", "James Lopez"],
        "/buyer/campaigns": ["CA solar", "active", "2 leads", "Pause"],
        "/buyer/campaigns/new": ["Solar", "Next"],
        "/buyer/campaigns/new?niche=solar": ["roof_type", "price book", "US states", "California"],
        f"/buyer/campaigns/{shop.campaign}": ["CA solar", "whsec_", "Send test lead"],
        "/buyer/purchases": ["Aiko Lopez", "maria.lopez1@gmail.com", "25.00 USD", "contacted"],
        f"/buyer/purchases/{sale}": ["maria.lopez1@gmail.com", "+1415555", "File a return"],
        "/buyer/returns": ["No returns"],
        "/buyer/billing": ["950.00 USD", "not configured", "Auto top-up"],
    }
    for path, wanted in pages.items():
        response = client.get(path)
        assert response.status_code == 200, path
        html = text(response)
        for snippet in wanted:
            assert snippet in html, f"{snippet!r} not on {path}"
    month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
    statement = client.get(f"/buyer/billing/statements/{month}")
    assert statement.status_code == 200
    assert "-25.00 USD" in text(statement) and "1,000.00 USD" in text(statement)
    assert client.get("/buyer/billing/statements?period=2020-13").status_code == 302


def test_a_new_buyer_sees_empty_states(client: FlaskClient, login: Any, portal_user: Any) -> None:
    login(portal_user(Role.BUYER))
    for path, message in {
        "/buyer/": "Nothing bought yet",
        "/buyer/campaigns": "No campaigns yet",
        "/buyer/purchases": "No purchases yet",
        "/buyer/returns": "No returns",
        "/buyer/billing": "No money yet",
        "/buyer/campaigns/new": "No niche is open",
    }.items():
        response = client.get(path)
        assert response.status_code == 200 and message in text(response), path


def test_the_pages_are_for_buyers_only(client: FlaskClient, login: Any, portal_user: Any) -> None:
    login(portal_user(Role.PUBLISHER))
    assert client.get("/buyer/campaigns").status_code == 403
    assert client.get("/buyer/purchases").status_code == 403


# --- the wizard ----------------------------------------------------------------------------


def test_the_wizard_creates_the_campaign_it_was_given(
    client: FlaskClient, login: Any, portal_user: Any, solar: Any
) -> None:
    login(portal_user(Role.BUYER))
    response = post_form(client, "/buyer/campaigns/new", WIZARD)
    assert response.status_code == 302, field_errors_of(text(response))
    db.session.rollback()
    campaign = db.session.scalars(select(Campaign)).one()
    assert response.headers["Location"].endswith(f"/buyer/campaigns/{campaign.id}")
    assert campaign.name == "Bay Area solar"
    assert campaign.geography == {
        "countries": [],
        "subdivisions": ["US-CA", "US-NV"],
        "postal_codes": ["US:10001", "US:94103"],
        "radius": {"postal_code": "60601", "distance": 25.0, "unit": "mi"},
    }
    assert campaign.schedule == {
        "timezone": "America/Los_Angeles",
        "days": ["mon", "tue", "wed"],
        "start_hour": 8,
        "end_hour": 18,
    }
    assert sorted(campaign.filters, key=lambda f: f["field"]) == [
        {"field": "homeowner", "op": "=", "value": True},
        {"field": "monthly_electric_bill", "op": ">=", "value": 100},
        {"field": "roof_type", "op": "in", "value": ["asphalt", "tile"]},
    ]
    assert campaign.pricing == {
        "model": "cpl",
        "bid": {"type": "fixed", "amount": 2550, "max": 4000},
    }
    assert campaign.caps == {"leads": {"day": 10}, "spend": {"month": 100_000}}
    assert campaign.budget == 500_000
    assert campaign.min_score == 60
    assert campaign.delivery == {"method": "webhook", "url": "https://crm.example.com/leads"}
    db.session.rollback()
    # The edit page shows what was stored, ready to change.
    html = text(client.get(f"/buyer/campaigns/{campaign.id}"))
    assert 'value="25.50"' in html and "10001\n94103" in html and 'value="60601"' in html


def field_errors_of(html: str) -> list[str]:
    return re.findall(r'class="error"[^>]*>([^<]*)<', html)


BAD_INPUTS = [
    ({"niche": ""}, "niche", "Choose the niche"),
    ({"zips": "00000"}, "zips", "not a known US ZIP"),
    ({"radius_zip": "", "radius_miles": "10"}, "radius_zip", "needs the ZIP"),
    ({"radius_miles": ""}, "radius_miles", "How far"),
    ({"bid_amount": "-5"}, "bid_amount", "more than zero"),
    ({"bid_amount": "abc"}, "bid_amount", "Enter an amount"),
    ({"bid_amount": "25.555"}, "bid_amount", "decimals"),
    ({"bid_amount": ""}, "bid_amount", "needs an amount"),
    ({"bid_max": "10"}, "bid_max", "cannot be below the bid"),
    ({"cap_leads_day": "-1"}, "cap_leads_day", "1 or more"),
    ({"cap_spend_month": "-3"}, "cap_spend_month", "more than zero"),
    ({"budget": "0"}, "budget", "more than zero"),
    ({"delivery_url": "not a url"}, "delivery_url", "Not a valid URL"),
    ({"delivery_url": ""}, "delivery_url", "needs a URL"),
    ({"delivery_method": "email", "delivery_email": "nope"}, "delivery_email", "Not a valid email"),
    ({"timezone": "Mars/Olympus"}, "timezone", "IANA time zone"),
    ({"start_hour": "20", "end_hour": "8"}, "end_hour", "after start_hour"),
    ({"min_score": "101"}, "min_score", "less than or equal to 100"),
    ({"filter.monthly_electric_bill.min": "lots"}, "filter.monthly_electric_bill", "numbers"),
    ({"filter.roof_type": ["thatch"]}, "filter.roof_type", "not one of"),
    ({"states": [], "zips": "", "radius_zip": "", "radius_miles": ""}, "geography", "at least one"),
    ({"name": ""}, "name", "Give the campaign a name"),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_INPUTS)
def test_bad_wizard_input_is_named_next_to_its_field_and_nothing_is_stored(
    client: FlaskClient,
    login: Any,
    portal_user: Any,
    solar: Any,
    change: dict[str, Any],
    field: str,
    message: str,
) -> None:
    login(portal_user(Role.BUYER))
    form = {**WIZARD, **change}
    response = post_form(client, "/buyer/campaigns/new", form)
    html = text(response)
    assert response.status_code == 422, html[:300]
    assert message.lower() in field_error(html, field).lower(), field_errors_of(html)
    assert count(Campaign) == 0
    # What the buyer typed is still there.
    if form["name"]:
        assert f'value="{form["name"]}"' in html


def test_a_bad_change_to_a_campaign_keeps_the_old_one(client: FlaskClient, shop: Any) -> None:
    path = f"/buyer/campaigns/{shop.campaign}"
    response = post_form(client, path, {**WIZARD, "niche": "", "bid_amount": "-1"})
    assert response.status_code == 422
    assert "more than zero" in field_error(text(response), "bid_amount")
    db.session.rollback()
    campaign = db.session.get(Campaign, shop.campaign)
    assert campaign is not None and campaign.pricing["bid"]["amount"] == 2500
    db.session.rollback()
    ok = post_form(client, path, {**WIZARD, "name": "Renamed", "bid_amount": "30"})
    assert ok.status_code == 302
    db.session.rollback()
    campaign = db.session.get(Campaign, shop.campaign)
    assert campaign is not None and campaign.name == "Renamed"
    assert campaign.pricing["bid"]["amount"] == 3000 and campaign.niche.slug == "solar"


def test_the_live_quote_reads_the_price_book(client: FlaskClient, shop: Any) -> None:
    niche = db.session.scalars(select(Niche).where(Niche.slug == "solar")).one()
    set_rule(db.session, niche, "US-CA", base_cpl=3000, floor=1000)
    db.session.commit()
    body = client.get("/buyer/quote?niche=solar&state=US-CA").json
    assert body["priced"] is True and body["price_display"] == "30.00 USD"
    assert body["floor_display"] == "10.00 USD" and body["place"] == "US-CA"
    assert client.get("/buyer/quote?niche=solar&state=US-TX").json["priced"] is False
    assert client.get("/buyer/quote?niche=nope").json["priced"] is False
    html = text(client.get("/buyer/campaigns/new?niche=solar"))
    assert "No price-book rule" not in html and "price book has no price" in html


# --- pause / resume and the tenant wall -----------------------------------------------------


def status_of(campaign_id: int) -> CampaignStatus:
    db.session.rollback()
    status = db.session.scalar(select(Campaign.status).where(Campaign.id == campaign_id))
    db.session.rollback()
    assert status is not None
    return status


def test_pause_and_resume(client: FlaskClient, shop: Any) -> None:
    paused = post_form(client, f"/buyer/campaigns/{shop.campaign}/pause", {})
    assert paused.status_code == 302
    assert status_of(shop.campaign) == CampaignStatus.PAUSED
    assert "Resume" in text(client.get("/buyer/campaigns?status=paused"))
    assert "No active campaigns" in text(client.get("/buyer/campaigns?status=active"))
    post_form(client, f"/buyer/campaigns/{shop.campaign}/resume", {})
    assert status_of(shop.campaign) == CampaignStatus.ACTIVE


def test_another_buyers_records_are_404_and_untouched(
    client: FlaskClient, shop: Any, portal_user: Any, login: Any
) -> None:
    sale = shop.sale_ids[0]
    ret = post_form(client, f"/buyer/purchases/{sale}/return", {"reason": "wrong_person"})
    assert ret.status_code == 302
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    login(portal_user(Role.BUYER))
    for path in (
        f"/buyer/campaigns/{shop.campaign}",
        f"/buyer/purchases/{sale}",
    ):
        assert client.get(path).status_code == 404, path
    for path, data in (
        (f"/buyer/campaigns/{shop.campaign}/pause", {}),
        (f"/buyer/campaigns/{shop.campaign}", {**WIZARD, "name": "Stolen"}),
        (f"/buyer/campaigns/{shop.campaign}/test-lead", {}),
        (f"/buyer/purchases/{sale}/pipeline", {"status": "lost"}),
        (f"/buyer/purchases/{shop.sale_ids[1]}/return", {"reason": "wrong_person"}),
    ):
        assert post_form(client, path, data).status_code == 404, path
    assert "No returns" in text(client.get("/buyer/returns"))
    assert status_of(shop.campaign) == CampaignStatus.ACTIVE
    db.session.rollback()
    assert db.session.get(Campaign, shop.campaign).name == "CA solar"  # type: ignore[union-attr]
    assert db.session.get(Sale, sale).pipeline_status == "new"  # type: ignore[union-attr]
    assert count(LeadReturn) == 1


def csrf_of(client: FlaskClient) -> str:
    return csrf_token(client, "/account/keys")
