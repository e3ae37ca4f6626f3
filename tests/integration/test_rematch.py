"""Unsold leads are offered again: to campaigns created later, at aged-lead prices."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from exchange.models import Lead, Sale
from extensions import db
from tests.helpers import solar_lead
from tests.support.money import fund


def test_a_later_campaign_buys_an_unsold_lead_at_the_aged_price(
    ctx: Flask, client: FlaskClient, publisher: Any, buyer: Any, admin: Any, solar: Any
) -> None:
    client.put(
        "/api/v1/admin/prices/rules",
        json={"niche": "solar", "place": "US", "base_cpl": 4000},
        headers=admin.headers,
    )
    client.put(
        "/api/v1/admin/prices/settings",
        json={
            "niche": "solar",
            "quality_tiers": [{"min_score": 0, "multiplier": 1.0}],
            "aged_discounts": [{"after_days": 1, "multiplier": 0.5}],
        },
        headers=admin.headers,
    )
    fresh = client.post("/api/v1/leads", json=solar_lead(), headers=publisher.headers).json
    old = client.post("/api/v1/leads", json=solar_lead(1), headers=publisher.headers).json
    assert fresh["status"] == old["status"] == "unsold"  # nobody buys yet
    ancient = db.session.get(Lead, old["id"])
    assert ancient is not None
    ancient.created_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    db.session.commit()

    fund(buyer.org.id, 100_000)
    created = client.post(
        "/api/v1/campaigns",
        json={
            "name": "CA solar, book price",
            "niche": "solar",
            "geography": {"countries": ["US"]},
            "pricing": {"model": "cpl", "bid": {"type": "relative", "percent": 100}},
            "delivery": {"method": "portal"},
        },
        headers=buyer.headers,
    )
    assert created.status_code == 201, created.json

    result = ctx.test_cli_runner().invoke(args=["exchange", "rematch"])
    assert result.exit_code == 0, result.output
    assert "Offered 2 unsold lead(s) again; 2 sold." in result.output
    prices = dict(db.session.execute(select(Sale.lead_id, Sale.price)).all())
    assert prices == {fresh["id"]: 4000, old["id"]: 2000}  # two days old: half price
    again = ctx.test_cli_runner().invoke(args=["exchange", "rematch"])
    assert "Offered 0 unsold lead(s) again" in again.output
