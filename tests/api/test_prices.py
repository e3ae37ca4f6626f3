"""The price book: most specific rule wins, tiers/exclusivity/age move the price, payouts,
who sees what in a quote, and admin-only editing."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from exchange.models import AuditEvent, PriceRule
from exchange.pricing import payout_on
from extensions import db

RULES = "/api/v1/admin/prices/rules"
SETTINGS = "/api/v1/admin/prices/settings"
QUOTE = "/api/v1/prices/quote"


def set_rule(client: FlaskClient, admin: Any, place: str, base: int, floor: int = 0) -> Any:
    response = client.put(
        RULES,
        json={"niche": "solar", "place": place, "base_cpl": base, "floor": floor},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.json
    return response.json


def quoted(client: FlaskClient, account: Any, **params: Any) -> Any:
    response = client.get(QUOTE, query_string={"niche": "solar", **params}, headers=account.headers)
    assert response.status_code == 200, response.json
    return response.json


@pytest.fixture
def book(client: FlaskClient, admin: Any, solar: Any) -> None:
    set_rule(client, admin, "", 2000, 500)
    set_rule(client, admin, "US", 3000, 1000)
    set_rule(client, admin, "US-CA", 4000, 1500)
    set_rule(client, admin, "US:94110", 5000, 2000)
    flat = {"quality_tiers": [{"min_score": 0, "multiplier": 1.0}], "aged_discounts": []}
    assert (
        client.put(SETTINGS, json={"niche": "solar", **flat}, headers=admin.headers).status_code
        == 200
    )


def test_the_most_specific_rule_wins(client: FlaskClient, buyer: Any, book: None) -> None:
    assert quoted(client, buyer, postal_code="94110")["price"] == 5000  # its own ZIP rule
    assert quoted(client, buyer, postal_code="94103")["price"] == 4000  # CA, via the ZIP's state
    assert quoted(client, buyer, country="US", region="TX")["price"] == 3000
    assert quoted(client, buyer, country="VN")["price"] == 2000  # the niche-wide rule
    assert quoted(client, buyer, postal_code="94110")["floor"] == 2000


def test_quality_exclusivity_and_age_move_the_price(
    client: FlaskClient, admin: Any, buyer: Any, book: None
) -> None:
    settings = {
        "niche": "solar",
        "quality_tiers": [
            {"min_score": 90, "multiplier": 1.2},
            {"min_score": 0, "multiplier": 0.5},
        ],
        "exclusive_multiplier": 2.0,
        "aged_discounts": [
            {"after_days": 1, "multiplier": 0.5},
            {"after_days": 7, "multiplier": 0.1},
        ],
    }
    assert client.put(SETTINGS, json=settings, headers=admin.headers).status_code == 200
    q = {"country": "US", "region": "TX"}  # base 3000
    assert quoted(client, buyer, **q, score=95)["price"] == 3600
    assert quoted(client, buyer, **q, score=50)["price"] == 1500
    assert quoted(client, buyer, **q, score=95, exclusive="true")["price"] == 7200
    assert quoted(client, buyer, **q, score=95, age_days=2)["price"] == 1800
    assert quoted(client, buyer, **q, score=95, age_days=10)["price"] == 360


def test_publishers_see_their_payout_buyers_the_price(
    client: FlaskClient, admin: Any, buyer: Any, publisher: Any, make_account: Any, book: None
) -> None:
    as_buyer = quoted(client, buyer, postal_code="94110")
    assert as_buyer["price"] == 5000 and "payout" not in as_buyer
    as_publisher = quoted(client, publisher, postal_code="94110")
    assert as_publisher["payout"] == 3500 and "price" not in as_publisher  # 70% by default
    assert "floor" not in as_publisher

    own = client.put(
        f"/api/v1/admin/prices/publishers/{publisher.org.id}",
        json={"niche": "solar", "payout": {"type": "fixed", "amount": 1200}},
        headers=admin.headers,
    )
    assert own.status_code == 200, own.json
    assert quoted(client, publisher, postal_code="94110")["payout"] == 1200
    other = make_account("publisher")
    assert quoted(client, other, postal_code="94110")["payout"] == 3500
    as_admin = quoted(client, admin, postal_code="94110")
    assert {"price", "floor", "payout"} <= set(as_admin)


def test_an_unpriced_place_says_so(client: FlaskClient, buyer: Any, solar: Any) -> None:
    body = quoted(client, buyer, country="US")
    assert body["priced"] is False and body["price"] == 0


def test_only_admins_edit_and_every_change_is_audited(
    client: FlaskClient, admin: Any, buyer: Any, solar: Any
) -> None:
    body = {"niche": "solar", "place": "US", "base_cpl": 1000}
    assert client.put(RULES, json=body, headers=buyer.headers).status_code == 403
    rule = set_rule(client, admin, "US", 1000)
    again = set_rule(client, admin, "US", 1100, 100)
    assert again["id"] == rule["id"] and again["base_cpl"] == 1100
    assert db.session.query(PriceRule).count() == 1
    book = client.get("/api/v1/admin/prices?niche=solar", headers=admin.headers).json
    assert [r["place"] for r in book["rules"]] == ["US"]
    assert client.delete(f"{RULES}/{rule['id']}", headers=admin.headers).status_code == 204
    assert db.session.query(PriceRule).count() == 0
    events = db.session.query(AuditEvent).order_by(AuditEvent.id)
    actions = [e.action for e in events if e.action.startswith("prices.")]
    assert actions == ["prices.rule_set", "prices.rule_set", "prices.rule_removed"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"place": "XX"}, "place"),
        ({"place": "US-ZZ"}, "place"),
        ({"place": "US:00000"}, "place"),
        ({"base_cpl": 0}, "base_cpl"),
        ({"floor": 5000}, "floor"),
        ({"niche": "nope"}, "niche"),
    ],
)
def test_bad_rules_name_the_field(
    client: FlaskClient, admin: Any, solar: Any, body: dict[str, Any], field: str
) -> None:
    full = {"niche": "solar", "place": "US", "base_cpl": 1000, "floor": 0, **body}
    response = client.put(RULES, json=full, headers=admin.headers)
    assert response.status_code == 422, response.json
    assert field in response.json["fields"]
    assert db.session.query(PriceRule).count() == 0


def test_payout_never_exceeds_the_price() -> None:
    assert payout_on(1000, "share", 70) == 700
    assert payout_on(1000, "fixed", 1500) == 1000
    assert payout_on(999, "share", 33) == 329
