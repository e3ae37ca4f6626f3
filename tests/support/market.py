"""Campaigns for tests: a California solar campaign unless told otherwise."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient


def create_campaign(client: FlaskClient, buyer: Any, **overrides: Any) -> dict[str, Any]:
    """POST a campaign (fixed CPL 2,500, portal delivery by default) and return its body."""
    body: dict[str, Any] = {
        "name": "CA solar",
        "niche": "solar",
        "geography": {"subdivisions": ["US-CA"]},
        "pricing": {"model": "cpl", "bid": {"type": "fixed", "amount": 2500}},
        "delivery": {"method": "portal"},
        **overrides,
    }
    response = client.post("/api/v1/campaigns", json=body, headers=buyer.headers)
    assert response.status_code == 201, response.json
    return dict(response.json)


def fixed(amount: int) -> dict[str, Any]:
    """A fixed CPL pricing block."""
    return {"model": "cpl", "bid": {"type": "fixed", "amount": amount}}
