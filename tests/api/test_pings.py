"""Ping/post: a bid without personal data, the post at the promised payout, expiry, mismatch,
replay, and a ping that matched nobody."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from exchange.models import Lead, Ping, Sale
from extensions import db
from tests.helpers import solar_lead
from tests.support.market import create_campaign, fixed
from tests.support.money import fund

PING = {
    "niche": "solar",
    "country": "US",
    "postal_code": "94103",
    "fields": {"homeowner": True, "monthly_electric_bill": 180, "roof_type": "asphalt"},
}


def _campaign(client: FlaskClient, buyer: Any, amount: int = 3000) -> None:
    create_campaign(client, buyer, pricing=fixed(amount))


def _ping(client: FlaskClient, publisher: Any, **overrides: Any) -> Any:
    response = client.post("/api/v1/pings", json={**PING, **overrides}, headers=publisher.headers)
    assert response.status_code == 201, response.json
    return response.json


def test_a_ping_gets_a_bid_and_the_post_sells_at_it(
    client: FlaskClient, publisher: Any, buyer: Any, solar: Any
) -> None:
    fund(buyer.org.id, 10_000)
    _campaign(client, buyer)
    ping = _ping(client, publisher)
    assert ping["bid"] == 2100 and ping["currency"] == "USD"  # 70% of 3,000
    assert ping["ping_id"].startswith("png_")
    assert "buyer" not in str(ping)

    url = f"/api/v1/pings/{ping['ping_id']}/post"
    posted = client.post(url, json=solar_lead(), headers=publisher.headers)
    assert posted.status_code == 201, posted.json
    assert posted.json["status"] == "sold" and posted.json["payout"] == 2100
    again = client.post(url, json=solar_lead(), headers=publisher.headers)
    assert again.status_code == 200 and again.json == posted.json
    assert db.session.query(Lead).count() == 1 and db.session.query(Sale).count() == 1


def test_the_promised_payout_holds_when_prices_change_in_between(
    client: FlaskClient, publisher: Any, buyer: Any, admin: Any, solar: Any
) -> None:
    fund(buyer.org.id, 10_000)
    _campaign(client, buyer)
    ping = _ping(client, publisher)
    # The publisher's payout terms drop after the ping; the promise still holds.
    client.put(
        f"/api/v1/admin/prices/publishers/{publisher.org.id}",
        json={"niche": "solar", "payout": {"type": "share", "percent": 10}},
        headers=admin.headers,
    )
    posted = client.post(
        f"/api/v1/pings/{ping['ping_id']}/post", json=solar_lead(), headers=publisher.headers
    )
    assert posted.json["payout"] == 2100
    sale = db.session.scalars(select(Sale)).one()
    assert sale.publisher_amount == 2100 and sale.price == 3000


def test_a_post_that_differs_from_its_ping_is_refused_and_nothing_is_stored(
    client: FlaskClient, publisher: Any, buyer: Any, solar: Any
) -> None:
    fund(buyer.org.id, 10_000)
    _campaign(client, buyer)
    ping = _ping(client, publisher)
    url = f"/api/v1/pings/{ping['ping_id']}/post"
    moved = client.post(url, json=solar_lead(postal_code="10001"), headers=publisher.headers)
    assert moved.status_code == 422 and moved.json["error"] == "post_mismatch"
    assert "postal_code" in moved.json["fields"]
    richer = solar_lead(fields={**PING["fields"], "monthly_electric_bill": 900})
    switched = client.post(url, json=richer, headers=publisher.headers)
    assert switched.status_code == 422
    assert "fields.monthly_electric_bill" in switched.json["fields"]
    assert db.session.query(Lead).count() == 0


def test_an_expired_ping_is_refused(
    client: FlaskClient, publisher: Any, buyer: Any, solar: Any
) -> None:
    fund(buyer.org.id, 10_000)
    _campaign(client, buyer)
    ping = _ping(client, publisher)
    row = db.session.scalars(select(Ping)).one()
    row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    db.session.commit()
    response = client.post(
        f"/api/v1/pings/{ping['ping_id']}/post", json=solar_lead(), headers=publisher.headers
    )
    assert response.status_code == 409 and response.json["error"] == "ping_expired"
    assert db.session.query(Lead).count() == 0


def test_a_ping_nobody_wants_gets_no_bid(
    client: FlaskClient, publisher: Any, make_account: Any, solar: Any
) -> None:
    ping = _ping(client, publisher)
    assert ping["bid"] is None
    response = client.post(
        f"/api/v1/pings/{ping['ping_id']}/post", json=solar_lead(), headers=publisher.headers
    )
    assert response.status_code == 409 and response.json["error"] == "ping_no_bid"
    other = make_account("publisher")
    assert (
        client.post(
            f"/api/v1/pings/{ping['ping_id']}/post", json=solar_lead(), headers=other.headers
        ).status_code
        == 404
    )
    personal = client.post(
        "/api/v1/pings", json={**PING, "email": "a@b.com"}, headers=publisher.headers
    )
    assert personal.status_code == 422 and "email" in personal.json["fields"]
