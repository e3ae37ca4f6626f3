"""A populated exchange for the fuzzer and the cross-organisation table.

Every organisation is created through the services and every resource through the API the
way a client would: the demo niches, then per pair ("a", "b") a publisher, a buyer and an
admin, a funded buyer with a campaign, leads sold to it, a ping, a conversion, a return, a
pending top-up, a saved-card setup intent, a second API key, a payout destination; the
admin of each pair adds a price rule and a publisher flag. The pairs are built one after
the other with the earlier pair's campaign paused, so pair a's leads go to pair a's buyer.

`secrets` lists, per organisation, strings that only it (and admins) may ever see: its
name, its API keys, its campaign's name, its leads' e-mail addresses and phone numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from exchange.accounts import create_organization, issue_api_key
from exchange.demo_niches import DEMO_NICHES
from exchange.models import Niche, Role
from exchange.models.returns import PublisherFlag
from exchange.niches import create_niche
from extensions import db
from tests.helpers import solar_lead
from tests.support.market import create_campaign
from tests.support.money import fund

ROLES = ("publisher", "buyer", "admin")
METHODS = ("get", "post", "put", "patch", "delete")


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI document, from an app on an empty in-memory database."""
    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return dict(response.json)


def operations(document: dict[str, Any]) -> list[tuple[str, str]]:
    """Every (METHOD, path) of the document, in its order."""
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in METHODS
        if method in item
    ]


@dataclass
class Member:
    """One organisation of the world, with its key and the ids of what it owns."""

    label: str  # e.g. "publisher_a"
    role: str
    org_id: int
    name: str
    key: str
    ids: dict[str, Any] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@dataclass
class World:
    members: dict[str, Member]

    def __getitem__(self, label: str) -> Member:
        return self.members[label]


def _ok(response: Any, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200, 201)), (
        response.status_code,
        response.get_data(as_text=True),
    )
    return response.json


def _member(pair: str, role: Role, tag: str) -> Member:
    name = f"{role.value} {pair} {tag}"
    org = create_organization(db.session, name, role)
    _, key = issue_api_key(db.session, org)
    db.session.commit()
    return Member(f"{role.value}_{pair}", role.value, org.id, name, key, secrets=[name, key])


def seed_niches() -> None:
    for spec in DEMO_NICHES:
        create_niche(db.session, None, spec)
    db.session.commit()


def _populate_pair(client: FlaskClient, pair: str, members: dict[str, Member], start: int) -> None:
    publisher, buyer, admin = (members[f"{r}_{pair}"] for r in ROLES)
    tag = publisher.name.rsplit(" ", 1)[-1]

    fund(buyer.org_id, 500_000, key=f"topup:world-{pair}")
    campaign = create_campaign(client, buyer, name=f"Campaign {pair} {tag}")
    buyer.ids["campaign_id"] = campaign["id"]
    buyer.secrets.append(campaign["name"])

    sales = []
    for n in range(start, start + 3):
        lead = solar_lead(n, last_name=f"Owner{tag}", email=f"zed.{tag}{n}@gmail.com".lower())
        body = _ok(client.post("/api/v1/leads", json=lead, headers=publisher.headers), 201)
        assert body["status"] == "sold", body
        publisher.secrets += [lead["email"], body["phone"], f"Owner{tag}"]
        sales.append(body["id"])
    publisher.ids["lead_id"] = sales[0]
    purchases = _ok(client.get("/api/v1/purchases", headers=buyer.headers))["items"]
    by_lead = {p["lead"]["id"]: p["id"] for p in purchases}
    buyer.ids["sale_id"] = by_lead[sales[0]]
    buyer.ids["returned_sale_id"] = by_lead[sales[1]]
    buyer.ids["lead_id"] = sales[0]

    ping = _ok(
        client.post(
            "/api/v1/pings",
            json={
                "niche": "solar",
                "country": "US",
                "postal_code": "94103",
                "fields": {"homeowner": True, "monthly_electric_bill": 180, "roof_type": "asphalt"},
            },
            headers=publisher.headers,
        ),
        201,
    )
    publisher.ids["ping_id"] = ping["ping_id"]

    conversion = _ok(
        client.post(
            "/api/v1/conversions",
            json={"sale_id": buyer.ids["sale_id"], "action": "sale", "transaction_id": f"t-{tag}"},
            headers=buyer.headers,
        ),
        201,
    )
    buyer.ids["conversion_id"] = conversion["id"]

    returned = _ok(
        client.post(
            f"/api/v1/purchases/{buyer.ids['returned_sale_id']}/returns",
            json={"reason": "wrong_person", "note": f"note {tag}"},
            headers=buyer.headers,
        ),
        201,
    )
    buyer.ids["return_id"] = publisher.ids["return_id"] = returned["id"]

    topup = _ok(
        client.post(
            "/api/v1/billing/topups",
            json={"amount": 5000, "currency": "USD"},
            headers={**buyer.headers, "Idempotency-Key": f"world-{pair}"},
        ),
        201,
    )
    buyer.ids["topup_id"] = topup["id"]
    setup = _ok(client.post("/api/v1/billing/cards/setup", headers=buyer.headers), 201)
    buyer.ids["setup_intent_id"] = setup["setup_intent_id"]

    _ok(
        client.put(
            "/api/v1/billing/payout-destination",
            json={"destination": f"acct_{pair}{tag}"},
            headers=publisher.headers,
        )
    )

    for member in (publisher, buyer, admin):
        key = _ok(client.post("/api/v1/keys", json={"name": "second"}, headers=member.headers), 201)
        member.ids["key_id"] = key["id"]
        member.secrets.append(key["api_key"])

    rule = _ok(
        client.put(
            "/api/v1/admin/prices/rules",
            json={"niche": "solar", "place": "US-CA", "base_cpl": 2000 + start, "floor": 0},
            headers=admin.headers,
        )
    )
    admin.ids["rule_id"] = rule["id"]
    niche_id = db.session.scalar(select(Niche.id).where(Niche.slug == "solar"))
    flag = PublisherFlag(
        publisher_id=publisher.org_id, niche_id=niche_id, return_rate=0.5, reason=f"flag {tag}"
    )
    db.session.add(flag)
    db.session.commit()
    publisher.ids["flag_id"] = flag.id
    db.session.expire_all()


def build_world(app: Flask, pairs: tuple[str, ...] = ("a", "b")) -> World:
    """The demo niches and, per pair, one organisation of each role with its data.

    Needs an app context and a payment gateway (the FakeGateway) installed in the app.
    """
    client = app.test_client()
    seed_niches()
    members: dict[str, Member] = {}
    for index, pair in enumerate(pairs):
        tag = ("Alpha", "Bravo", "Charlie")[index]
        for role in ROLES:
            members[f"{role}_{pair}"] = _member(pair, Role(role), tag)
        if index:
            previous = members[f"buyer_{pairs[index - 1]}"]
            _ok(
                client.post(
                    f"/api/v1/campaigns/{previous.ids['campaign_id']}/pause",
                    headers=previous.headers,
                )
            )
        _populate_pair(client, pair, members, start=1 + 10 * index)
    for pair in pairs[:-1]:
        buyer = members[f"buyer_{pair}"]
        _ok(
            client.post(
                f"/api/v1/campaigns/{buyer.ids['campaign_id']}/resume", headers=buyer.headers
            )
        )
    return World(members)
