"""Selling on intake: matching by niche, place, rules and price; exclusive and shared sales;
caps, budgets and balances; the ledger moves the money in the same transaction."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from billing.ledger import balance_of
from billing.models import AccountKind
from exchange.models import Delivery, Lead, Sale
from extensions import db
from tests.helpers import solar_lead
from tests.support.market import create_campaign, fixed
from tests.support.money import fund

CAMPAIGNS = "/api/v1/campaigns"
LEADS = "/api/v1/leads"


def campaign(client: FlaskClient, buyer: Any, **overrides: Any) -> int:
    return int(create_campaign(client, buyer, **overrides)["id"])


def post(client: FlaskClient, publisher: Any, n: int = 0, **overrides: Any) -> Any:
    response = client.post(LEADS, json=solar_lead(n, **overrides), headers=publisher.headers)
    assert response.status_code == 201, response.json
    return response.json


def balance(org: Any, kind: AccountKind = AccountKind.BUYER_BALANCE) -> int:
    return balance_of(db.session, org.org.id, kind, "USD")


def test_an_accepted_lead_is_sold_and_paid_for_in_the_same_request(
    client: FlaskClient, publisher: Any, buyer: Any, solar: Any
) -> None:
    fund(buyer.org.id, 10_000)
    campaign_id = campaign(client, buyer)
    lead = post(client, publisher)
    assert lead["status"] == "sold"
    assert lead["sales"] == 1 and lead["payout"] == 1750  # 70% of 2,500 by default
    assert not {"buyer", "buyer_id", "price"} & set(lead)  # publishers never see buyers

    sale = db.session.scalars(select(Sale)).one()
    assert (sale.campaign_id, sale.price, sale.publisher_amount) == (campaign_id, 2500, 1750)
    assert balance(buyer) == 7500
    assert balance(publisher, AccountKind.PUBLISHER_PENDING) == 1750
    assert balance_of(db.session, None, AccountKind.PLATFORM_REVENUE, "USD") == 750
    delivery = db.session.scalars(select(Delivery)).one()
    assert delivery.sale_id == sale.id and delivery.method == "portal"


def test_no_money_no_sale_and_nothing_half_written(
    client: FlaskClient, publisher: Any, buyer: Any, solar: Any
) -> None:
    fund(buyer.org.id, 2000)  # less than the bid
    campaign(client, buyer)
    lead = post(client, publisher)
    assert lead["status"] == "unsold" and lead["sales"] == 0
    assert db.session.query(Sale).count() == 0
    assert db.session.query(Delivery).count() == 0
    assert balance(buyer) == 2000


def test_rules_that_do_not_fit_leave_the_lead_unsold(
    client: FlaskClient, publisher: Any, buyer: Any, solar: Any
) -> None:
    fund(buyer.org.id, 100_000)
    campaign(client, buyer, name="Texas", geography={"subdivisions": ["US-TX"]})
    campaign(
        client,
        buyer,
        name="metal roofs",
        filters=[{"field": "roof_type", "op": "in", "value": ["metal"]}],
    )
    campaign(client, buyer, name="hot only", min_temperature="hot")  # no model: no temperature
    paused = campaign(client, buyer, name="paused")
    assert client.post(f"{CAMPAIGNS}/{paused}/pause", headers=buyer.headers).status_code == 200

    lead = post(client, publisher)
    assert lead["status"] == "unsold" and lead["sales"] == 0
    assert db.session.query(Sale).count() == 0

    assert client.post(f"{CAMPAIGNS}/{paused}/resume", headers=buyer.headers).status_code == 200
    again = post(client, publisher, 1)
    assert again["status"] == "sold"
    assert db.session.scalars(select(Sale)).one().campaign_id == paused
    assert db.session.get(Lead, again["id"]).status.value == "sold"


def test_shared_sales_go_to_distinct_buyers_each_at_its_own_price(
    client: FlaskClient, publisher: Any, make_account: Any, solar: Any
) -> None:
    buyers = [make_account("buyer") for _ in range(4)]
    for i, b in enumerate(buyers):
        fund(b.org.id, 100_000, key=f"fund:{i}")
        bid = {"type": "fixed", "amount": 1000 + 100 * i}
        campaign(client, b, pricing={"model": "cpl", "bid": bid})
    campaign(
        client,
        buyers[3],
        name="second of the same buyer",
        pricing={"model": "cpl", "bid": {"type": "fixed", "amount": 5000}},
    )
    lead = post(client, publisher)
    assert lead["status"] == "sold" and lead["sales"] == 3  # the niche's max_buyers
    sales = db.session.scalars(select(Sale).order_by(Sale.price.desc())).all()
    assert len({s.buyer_id for s in sales}) == 3
    assert [s.price for s in sales] == [5000, 1200, 1100]  # buyer 3 once, at its best
    assert lead["payout"] == sum(s.publisher_amount for s in sales)


def test_an_exclusive_bid_worth_more_than_the_shared_ones_takes_the_lead_alone(
    client: FlaskClient, publisher: Any, make_account: Any, solar: Any
) -> None:
    shared, exclusive = make_account("buyer"), make_account("buyer")
    fund(shared.org.id, 100_000, key="f1")
    fund(exclusive.org.id, 100_000, key="f2")
    campaign(client, shared)
    campaign(
        client,
        exclusive,
        exclusive=True,
        pricing={"model": "cpl", "bid": {"type": "fixed", "amount": 6000}},
    )
    lead = post(client, publisher)
    assert lead["sales"] == 1
    sale = db.session.scalars(select(Sale)).one()
    assert sale.buyer_id == exclusive.org.id and sale.exclusive


def test_a_daily_cap_stops_the_buying(
    client: FlaskClient, publisher: Any, buyer: Any, solar: Any
) -> None:
    fund(buyer.org.id, 100_000)
    campaign(client, buyer, caps={"leads": {"day": 2}})
    statuses = [post(client, publisher, n)["status"] for n in range(1, 4)]
    assert statuses == ["sold", "sold", "unsold"]
    assert balance(buyer) == 100_000 - 2 * 2500


def test_a_budget_stops_the_buying(
    client: FlaskClient, publisher: Any, buyer: Any, solar: Any
) -> None:
    fund(buyer.org.id, 100_000)
    campaign(client, buyer, budget=6000)
    statuses = [post(client, publisher, n)["status"] for n in range(1, 4)]
    assert statuses == ["sold", "sold", "unsold"]  # a third sale would spend 7,500
    assert balance(buyer) == 100_000 - 2 * 2500


def test_when_the_best_offers_cannot_buy_the_next_ones_still_can(
    client: FlaskClient, publisher: Any, make_account: Any, solar: Any
) -> None:
    # Exclusive: the sale locks the best offer plus two spares first; here all three are
    # broke, so the fourth (locked in a second batch) must take the lead.
    broke = [make_account("buyer") for _ in range(3)]
    payer = make_account("buyer")
    for i, account in enumerate(broke):
        campaign(client, account, exclusive=True, pricing=fixed(5000 - i * 100))
    fund(payer.org.id, 10_000)
    winner = campaign(client, payer, exclusive=True, pricing=fixed(3000))
    lead = post(client, publisher)
    assert lead["status"] == "sold"
    sale = db.session.scalars(select(Sale)).one()
    assert (sale.campaign_id, sale.price) == (winner, 3000)
    assert balance(payer) == 7000
    assert all(balance(b) == 0 for b in broke)
