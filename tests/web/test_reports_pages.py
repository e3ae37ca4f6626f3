"""The report pages through the test client: every dimension renders its figures, the CSV
export carries the same report, bad parameters are 422 next to the field, and the planner
computes, measures and refuses."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from database import utcnow
from exchange.accounts import issue_api_key
from exchange.models import Lead, Organization, Role, Sale
from exchange.niches import create_niche
from exchange.pricing import set_rule
from extensions import db
from tests.conftest import Account
from tests.helpers import solar_lead
from tests.support.market import create_campaign
from tests.support.money import fund

TODAY = utcnow().date().isoformat()


def api_account(user: Any) -> Account:
    """An API key for a portal user's organisation, to build data through the API."""
    org = db.session.get(Organization, user.org_id)
    assert org is not None
    _, key = issue_api_key(db.session, org)
    db.session.commit()
    return Account(org, key)


@pytest.fixture
def sold(client: FlaskClient, portal_user: Any, solar: Any) -> dict[str, Any]:
    """A publisher's 2 leads (sub-id aff-12) sold to a buyer at 25.00 each."""
    publisher, buyer = portal_user(Role.PUBLISHER, name="Pub A"), portal_user(Role.BUYER)
    pub, buy = api_account(publisher), api_account(buyer)
    fund(buy.org.id, 100_000)
    create_campaign(client, buy)
    for n in (1, 2):
        response = client.post("/api/v1/leads", json=solar_lead(n), headers=pub.headers)
        assert response.json["status"] == "sold", response.json
    db.session.rollback()
    return {"publisher": publisher, "buyer": buyer, "admin": portal_user(Role.ADMIN)}


EXPECTED_KEY = {
    "day": TODAY,
    "niche": "solar",
    "region": "US-CA",
    "publisher": "Pub A",
    "sub_id": "aff-12",
    "buyer": "Buyer Co 2",
}


@pytest.mark.parametrize("by", list(EXPECTED_KEY))
def test_each_dimension_renders_for_an_admin(
    client: FlaskClient, login: Any, sold: dict[str, Any], by: str
) -> None:
    login(sold["admin"])
    response = client.get(f"/reports/?by={by}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"<td>{EXPECTED_KEY[by]}</td>" in html
    assert "50.00 USD" in html  # revenue: 2 x 25.00
    assert "35.00 USD" in html and "15.00 USD" in html  # payouts and margin
    assert "<svg" in html  # the chart


def test_each_role_sees_its_own_columns(
    client: FlaskClient, login: Any, sold: dict[str, Any]
) -> None:
    login(sold["publisher"])
    html = client.get("/reports/?by=sub_id").get_data(as_text=True)
    assert "Earnings" in html and "35.00 USD" in html
    assert "50.00 USD" not in html and "Margin" not in html  # not what buyers paid
    assert client.get("/reports/?by=buyer").status_code == 422
    client.post("/logout", data={"csrf_token": _token(client)})
    login(sold["buyer"])
    html = client.get("/reports/?by=niche").get_data(as_text=True)
    assert "Spend" in html and "50.00 USD" in html and "35.00 USD" not in html
    assert client.get("/reports/?by=publisher").status_code == 422


def _token(client: FlaskClient) -> str:
    from tests.web.conftest import csrf_token

    return csrf_token(client, "/account/keys")


def test_the_csv_export_is_the_same_report(
    client: FlaskClient, login: Any, sold: dict[str, Any]
) -> None:
    login(sold["admin"])
    since = (utcnow().date() - dt.timedelta(days=6)).isoformat()
    response = client.get(f"/reports/export.csv?by=niche&since={since}&until={TODAY}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="report-by-niche-{since}-to-{TODAY}.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 1
    row = rows[0]
    assert (row["Niche"], row["Currency"], row["Leads"], row["Sales"]) == ("solar", "USD", "2", "2")
    assert (row["Revenue"], row["Payouts"], row["Margin"]) == ("50.00", "35.00", "15.00")
    assert (row["Acceptance (%)"], row["Cost per lead"], row["Cost per acquisition"]) == (
        "100.00",
        "25.00",
        "",
    )


def test_a_sub_id_that_looks_like_a_formula_is_defused(
    client: FlaskClient, login: Any, sold: dict[str, Any]
) -> None:
    lead = db.session.scalars(select(Lead)).first()
    assert lead is not None
    lead.sub_id = "=HYPERLINK(1)"
    db.session.commit()
    login(sold["admin"])
    body = client.get("/reports/export.csv?by=sub_id").get_data(as_text=True)
    assert "'=HYPERLINK(1)" in body


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("by=colour", "by", "One of day, niche"),
        ("since=yesterday", "since", "A date, YYYY-MM-DD."),
        ("since=2026-02-01&until=2026-01-01", "until", "On or after the start."),
        ("niche=nope", "niche", "No niche &#39;nope&#39;."),
        ("since=2024-01-01&until=2026-01-01", "since", "At most 366 days"),
    ],
)
def test_bad_parameters_are_422_next_to_the_field(
    client: FlaskClient, login: Any, portal_user: Any, query: str, field: str, message: str
) -> None:
    login(portal_user(Role.ADMIN))
    for path in ("/reports/", "/reports/export.csv"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert f'id="e-{field}"' in html and message in html


def test_a_publisher_has_no_planner(client: FlaskClient, login: Any, portal_user: Any) -> None:
    login(portal_user(Role.PUBLISHER))
    assert client.get("/reports/planner").status_code == 403
    assert "planner" not in client.get("/reports/").get_data(as_text=True)


@pytest.fixture
def vnd(ctx: Any) -> Any:
    from exchange.demo_niches import DEMO_NICHES

    spec = next(n for n in DEMO_NICHES if n["slug"] == "solar")
    niche = create_niche(db.session, None, {**spec, "slug": "solar-vn", "currency": "VND"})
    set_rule(db.session, niche, "", base_cpl=100_000)
    db.session.commit()
    return niche


def test_the_planner_computes_the_example(
    client: FlaskClient, login: Any, portal_user: Any, vnd: Any
) -> None:
    login(portal_user(Role.BUYER))
    assert client.get("/reports/planner").status_code == 200
    response = client.get("/reports/planner?customers=100&niche=solar-vn&conversion_rate=5")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<span class="value" id="plan-leads">2,000</span>' in html
    assert '<span class="value" id="plan-budget">200,000,000 VND</span>' in html
    assert "from the price book" in html
    typed = client.get(
        "/reports/planner?customers=7&niche=solar-vn&conversion_rate=3%25&cpl=12,500"
    ).get_data(as_text=True)
    assert 'id="plan-leads">234<' in typed and "2,925,000 VND" in typed and "as entered" in typed


def test_the_planner_names_bad_inputs(
    client: FlaskClient, login: Any, portal_user: Any, vnd: Any
) -> None:
    login(portal_user(Role.BUYER))
    response = client.get("/reports/planner?customers=0&niche=solar-vn&conversion_rate=120&cpl=-5")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="e-customers"' in html and "A whole number from 1" in html
    assert 'id="e-conversion_rate"' in html and "at most 100%" in html
    assert 'id="e-cpl"' in html and "More than zero." in html
    assert 'value="120"' in html  # what was typed stays
    unknown = client.get("/reports/planner?customers=5&niche=nope&conversion_rate=5")
    assert unknown.status_code == 422 and "No niche" in unknown.get_data(as_text=True)
    # No rate typed and no record of its own: the buyer is asked for one.
    blank = client.get("/reports/planner?customers=5&niche=solar-vn")
    assert blank.status_code == 422
    assert "only 0 of your sales here have a known outcome" in blank.get_data(as_text=True)


FIRST = ["Maria", "Julia", "Anna", "Clara", "Elena", "Sofia", "Laura", "Nina"]
LAST = ["Lopez", "Garcia", "Smith", "Brown", "Miller", "Davis", "Wilson", "Moore"]


def test_the_planner_measures_the_buyers_own_rate(
    client: FlaskClient, login: Any, portal_user: Any, solar: Any
) -> None:
    publisher, buyer = portal_user(Role.PUBLISHER), portal_user(Role.BUYER)
    pub, buy = api_account(publisher), api_account(buyer)
    fund(buy.org.id, 1_000_000)
    create_campaign(client, buy)
    set_rule(db.session, solar, "", base_cpl=2000)
    db.session.commit()
    for n in range(32):
        body = solar_lead(n, first_name=FIRST[n % 8], last_name=LAST[n // 8])
        response = client.post("/api/v1/leads", json=body, headers=pub.headers)
        assert response.json["status"] == "sold", response.json
    login(buyer)
    query = "/reports/planner?customers=10&niche=solar&region=CA"
    few = client.get(query)
    assert few.status_code == 422
    assert "only 0 of your sales here have a known outcome" in few.get_data(as_text=True)
    sales = db.session.scalars(select(Sale).order_by(Sale.id)).all()
    for i, sale in enumerate(sales):
        sale.pipeline_status = "converted" if i < 8 else "lost"
    db.session.commit()
    # 8 of 32 converted: 25%, so 40 leads; the price book's 20.00 a lead: 800.00 USD.
    html = client.get(query).get_data(as_text=True)
    assert 'id="plan-leads">40<' in html and 'id="plan-budget">800.00 USD<' in html
    assert "measured from 32 of your sales" in html and "25.00%" in html
    # Elsewhere it has no record.
    assert client.get("/reports/planner?customers=10&niche=solar&region=US-NV").status_code == 422
