"""No key reaches another organisation's data: a table of endpoints x callers.

The rows are every operation of /api/v1/openapi.json that takes an id (a path parameter, or
a `*_id` field in its query or body), found in the document, so a new endpoint fails
`test_every_id_taking_operation_has_an_owner` until it is given an owner here. The world
(tests/support/world.py) holds two organisations of each role, pair a and pair b, each with
leads, sales, a campaign, a conversion, a return, a top-up, a card setup, keys, a price rule
and a flag. Every row names pair a's resource; the columns are the callers that must not
reach it: the other organisation of the owning role, the other roles of both pairs, and no
key at all. Each cell sends the owner's own request (same ids, a valid body) and asserts

- the answer is 403 or 404 (401 without a key), never 2xx and never a 409/422 that would
  tell the resource exists;
- the body contains none of pair a's secrets (names, keys, e-mails, phones, campaign name);
- no row of any table changed (an API key's `last_used_at` aside).

What admins legitimately reach (not cells of the table, checked in
`test_admins_reach_what_they_administer`): every /api/v1/admin/* operation, for any
organisation's resource, and `GET /api/v1/leads/{lead_id}` (admins read every lead).
Admin keys are in the table everywhere else: they cannot read a buyer's campaign, purchase,
top-up or return, answer a publisher's return, or revoke another organisation's key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from billing.checks import check_books
from database import Base
from extensions import db
from tests.conftest import _wipe, gateway_in
from tests.helpers import solar_lead
from tests.support.fake_gateway import FakeGateway
from tests.support.world import Member, World, build_world, openapi_document, operations

DOCUMENT = openapi_document()
ADMIN = "admin-only"  # only admins may call it, for any organisation
PLATFORM = "platform"  # the id names no organisation's resource (a niche)
SELF = "self"  # the id only narrows the caller's own data (a statement period, a filter)
# `*_id` fields that are the client's own labels, not our resources.
LABELS = {"external_id", "sub_id", "by_sub_id", "transaction_id"}


@dataclass(frozen=True)
class Target:
    """Whose resource an operation's ids name, and the owner's own request for it."""

    owners: tuple[str, ...] | str  # roles of pair a whose resource it is, or ADMIN/PLATFORM/SELF
    path: dict[str, str] = field(default_factory=dict)  # parameter -> key in Member.ids
    body: Callable[[dict[str, Any]], Any] | None = None  # the owner's ids -> a valid body
    of: str = ""  # the pair-a organisation whose ids fill the request (default: first owner)

    @property
    def member(self) -> str:
        if self.of:
            return self.of
        return f"{self.owners[0]}_a" if isinstance(self.owners, tuple) else "buyer_a"


def _ids(*names: str) -> dict[str, str]:
    return {name: name for name in names}


OWNERS: dict[str, Target] = {
    "GET /api/v1/leads/{lead_id}": Target(("publisher",), _ids("lead_id")),
    "POST /api/v1/pings/{ping_id}/post": Target(
        ("publisher",), _ids("ping_id"), lambda ids: solar_lead(90)
    ),
    "GET /api/v1/campaigns/{campaign_id}": Target(("buyer",), _ids("campaign_id")),
    "PATCH /api/v1/campaigns/{campaign_id}": Target(
        ("buyer",), _ids("campaign_id"), lambda ids: {"name": "taken over"}
    ),
    "POST /api/v1/campaigns/{campaign_id}/pause": Target(("buyer",), _ids("campaign_id")),
    "POST /api/v1/campaigns/{campaign_id}/resume": Target(("buyer",), _ids("campaign_id")),
    "GET /api/v1/purchases/{sale_id}": Target(("buyer",), _ids("sale_id")),
    "PATCH /api/v1/purchases/{sale_id}": Target(
        ("buyer",), _ids("sale_id"), lambda ids: {"status": "qualified"}
    ),
    "POST /api/v1/purchases/{sale_id}/returns": Target(
        ("buyer",), _ids("sale_id"), lambda ids: {"reason": "wrong_person"}
    ),
    "POST /api/v1/conversions": Target(
        ("buyer",),
        body=lambda ids: {"sale_id": ids["sale_id"], "action": "sale", "transaction_id": "t-2"},
    ),
    "POST /api/v1/conversions/{conversion_id}/disputes": Target(
        ("buyer",), _ids("conversion_id"), lambda ids: {"reason": "fake_or_fraud"}
    ),
    "GET /api/v1/returns/{return_id}": Target(("buyer", "publisher"), _ids("return_id")),
    "POST /api/v1/returns/{return_id}/response": Target(
        ("publisher",), _ids("return_id"), lambda ids: {"message": "It was the right person."}
    ),
    # Publisher a's second key (every organisation's keys are alike).
    "DELETE /api/v1/keys/{key_id}": Target(("publisher",), _ids("key_id")),
    "GET /api/v1/billing/topups/{topup_id}": Target(("buyer",), _ids("topup_id")),
    "POST /api/v1/billing/topups/{topup_id}/refresh": Target(("buyer",), _ids("topup_id")),
    "POST /api/v1/billing/cards": Target(
        ("buyer",), body=lambda ids: {"setup_intent_id": ids["setup_intent_id"]}
    ),
    "GET /api/v1/niches/{slug}": Target(PLATFORM),
    "PATCH /api/v1/niches/{slug}": Target(
        ADMIN, _ids("slug"), lambda ids: {"description": "taken over"}
    ),
    "GET /api/v1/billing/statements/{period}": Target(SELF),
    "GET /api/v1/sources": Target(SELF),
    "GET /api/v1/admin/returns": Target(ADMIN),
    "GET /api/v1/admin/returns/{return_id}": Target(ADMIN, _ids("return_id")),  # buyer a's
    "POST /api/v1/admin/returns/{return_id}": Target(
        ADMIN, _ids("return_id"), lambda ids: {"decision": "approve", "note": "ok"}
    ),
    "PUT /api/v1/admin/buyers/{buyer_id}/terms": Target(
        ADMIN, {"buyer_id": "org_id"}, lambda ids: {"return_window_hours": 9}
    ),
    "GET /api/v1/admin/sources": Target(ADMIN),
    "POST /api/v1/admin/flags/{flag_id}/clear": Target(
        ADMIN, _ids("flag_id"), lambda ids: {"note": "cleared"}, of="publisher_a"
    ),
    "DELETE /api/v1/admin/prices/rules/{rule_id}": Target(ADMIN, _ids("rule_id"), of="admin_a"),
    "PUT /api/v1/admin/prices/publishers/{publisher_id}": Target(
        ADMIN,
        {"publisher_id": "org_id"},
        lambda ids: {"niche": "solar", "payout": {"type": "share", "percent": 10}},
        of="publisher_a",
    ),
    "GET /api/v1/admin/reviews": Target(ADMIN),
    "POST /api/v1/admin/reviews/{lead_id}": Target(
        ADMIN, _ids("lead_id"), lambda ids: {"decision": "reject"}, of="publisher_a"
    ),
    "POST /api/v1/admin/leads/{lead_id}/reassess": Target(ADMIN, _ids("lead_id"), of="publisher_a"),
    "POST /api/v1/admin/billing/credit": Target(
        ADMIN,
        body=lambda ids: {
            "organization_id": ids["org_id"],
            "currency": "USD",
            "credit_limit": 1,
            "note": "x",
        },
    ),
    "POST /api/v1/admin/billing/adjustments": Target(
        ADMIN,
        body=lambda ids: {
            "organization_id": ids["org_id"],
            "account": "buyer_balance",
            "amount": 100,
            "currency": "USD",
            "note": "x",
        },
    ),
    "POST /api/v1/admin/billing/topups/{topup_id}/refunds": Target(
        ADMIN, _ids("topup_id"), lambda ids: {"amount": 1, "note": "x"}
    ),
}

# Non-admin operations admins may call on anyone's resource.
ADMIN_READS = {"GET /api/v1/leads/{lead_id}"}


def _id_names(method: str, path: str) -> list[str]:
    """The ids an operation takes: path parameters, and `*_id` query or body fields."""
    item = DOCUMENT["paths"][path]
    operation = item[method.lower()]
    params = [*item.get("parameters", []), *operation.get("parameters", [])]
    names = [p["name"] for p in params if p["in"] == "path"]
    names += [p["name"] for p in params if p["in"] == "query" and p["name"].endswith("_id")]
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    schema = body.get("schema", {})
    if "$ref" in schema:
        schema = DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    names += [name for name in schema.get("properties", {}) if name.endswith("_id")]
    return [name for name in names if name not in LABELS]


ID_OPERATIONS = [f"{m} {p}" for m, p in operations(DOCUMENT) if _id_names(m, p)]


def _callers(label: str) -> list[str]:
    """Who must not reach pair a's resource on this operation."""
    target = OWNERS.get(label)
    if target is None or target.owners in (PLATFORM, SELF):
        return []
    if target.owners == ADMIN:
        return ["publisher_a", "buyer_a", "publisher_b", "buyer_b", "no key"]
    callers = [f"{role}_b" for role in ("publisher", "buyer", "admin")]
    callers += [f"{r}_a" for r in ("publisher", "buyer", "admin") if r not in target.owners]
    if label in ADMIN_READS:
        callers = [c for c in callers if not c.startswith("admin")]
    return [*callers, "no key"]


CELLS = [(label, caller) for label in ID_OPERATIONS for caller in _callers(label)]


# --- the world, once per database ------------------------------------------------------------


@pytest.fixture(scope="module")
def world(app: Flask) -> Iterator[World]:
    """Two organisations of each role with data, built once per database for this module.

    The table's requests must change nothing, so the cells share it; the books are checked
    and the database wiped afterwards, as the per-test `ctx` fixture does.
    """
    with app.app_context(), gateway_in(app, FakeGateway()):
        built = build_world(app)
        yield built
        db.session.remove()
        books = check_books(db.session)
        db.session.remove()
    _wipe(app)
    assert books.ok, books.problems


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (an API key's last-use time aside)."""
    db.session.rollback()
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if c.name != "last_used_at"]
        result = db.session.execute(select(*columns))
        rows[table.name] = sorted((tuple(map(repr, row)) for row in result), key=repr)
    db.session.rollback()
    return rows


def _owner_of(label: str, world: World) -> Member:
    return world[OWNERS[label].member]


def request_of(label: str, world: World) -> tuple[str, str, Any]:
    """The owner's own request: method, URL with pair a's ids, and a valid body."""
    method, path = label.split(" ", 1)
    target = OWNERS[label]
    owner = _owner_of(label, world)
    ids = {**owner.ids, "org_id": owner.org_id, "slug": "solar"}
    url = path
    for name, key in target.path.items():
        url = url.replace("{" + name + "}", str(ids[key]))
    body = target.body(ids) if target.body else None
    return method, url, body


def _secrets(world: World) -> list[str]:
    return [s for label, m in world.members.items() if label.endswith("_a") for s in m.secrets]


def _headers(world: World, caller: str) -> dict[str, str]:
    return {} if caller == "no key" else world[caller].headers


# --- the table -------------------------------------------------------------------------------


def test_every_id_taking_operation_has_an_owner() -> None:
    """A new endpoint that takes an id must say here whose resource the id names."""
    missing = [label for label in ID_OPERATIONS if label not in OWNERS]
    assert not missing, f"give these an owner in OWNERS: {missing}"
    stale = [label for label in OWNERS if label not in ID_OPERATIONS]
    assert not stale, f"no longer in the API document: {stale}"
    assert len(CELLS) >= 80
    width = max(map(len, ID_OPERATIONS))
    for label in ID_OPERATIONS:
        print(f"{label:<{width}}  denied to: {', '.join(_callers(label)) or OWNERS[label].owners}")


@pytest.mark.parametrize(
    ("label", "caller"), CELLS, ids=[f"{label} | {caller}" for label, caller in CELLS]
)
def test_a_key_never_reaches_another_organisations_resource(
    world: World, app: Flask, label: str, caller: str
) -> None:
    method, url, body = request_of(label, world)
    before = snapshot()
    response = app.test_client().open(
        url, method=method, json=body, headers=_headers(world, caller)
    )
    expected = {401} if caller == "no key" else {403, 404}
    assert response.status_code in expected, (response.status_code, response.json)
    text = response.get_data(as_text=True)
    leaked = [secret for secret in _secrets(world) if secret.lower() in text.lower()]
    assert not leaked, f"the answer shows pair a's data: {leaked}"
    assert snapshot() == before, "a refused request changed the database"


# --- the controls: the same requests reach the resource for the right caller ---------------


GET_ROWS = [
    label
    for label in ID_OPERATIONS
    if label.startswith("GET ") and isinstance(OWNERS.get(label, Target(SELF)).owners, tuple)
]


@pytest.mark.parametrize("label", GET_ROWS)
def test_the_owner_reaches_it(world: World, app: Flask, label: str) -> None:
    """The table's requests name real resources: their owner reads them (and the secrets
    check would see them)."""
    _, url, _ = request_of(label, world)
    owner = _owner_of(label, world)
    response = app.test_client().get(url, headers=owner.headers)
    assert response.status_code == 200, response.json


ADMIN_GETS = [
    label
    for label in ID_OPERATIONS
    if label.startswith("GET ")
    and (OWNERS.get(label, Target(SELF)).owners == ADMIN or label in ADMIN_READS)
]


@pytest.mark.parametrize("label", ADMIN_GETS)
def test_admins_reach_what_they_administer(world: World, app: Flask, label: str) -> None:
    """An admin of another organisation (pair b) reads pair a's resources here, by design."""
    _, url, _ = request_of(label, world)
    before = snapshot()
    response = app.test_client().get(url, headers=world["admin_b"].headers)
    assert response.status_code == 200, response.json
    assert snapshot() == before


# --- lists: what a key sees without naming an id --------------------------------------------


def _is_admin_view(label: str) -> bool:
    return label.split(" ", 1)[1].startswith("/api/v1/admin/") or label in ADMIN_LISTS


ADMIN_LISTS = {"GET /api/v1/leads"}  # admins list every publisher's leads, by design
LISTS = [
    f"{m} {p}"
    for m, p in operations(DOCUMENT)
    if m == "GET" and "{" not in p and f"{m} {p}" != "GET /api/v1/openapi.json"
]
LIST_CELLS = [
    (label, caller)
    for label in LISTS
    for caller in ("publisher_b", "buyer_b", "admin_b")
    if not (caller == "admin_b" and _is_admin_view(label))
]


@pytest.mark.parametrize(
    ("label", "caller"), LIST_CELLS, ids=[f"{label} | {caller}" for label, caller in LIST_CELLS]
)
def test_a_list_shows_only_the_callers_own(
    world: World, app: Flask, label: str, caller: str
) -> None:
    """Lists, exports and reports of pair b's keys show nothing of pair a's."""
    url = label.split(" ", 1)[1]
    response = app.test_client().get(url, headers=world[caller].headers)
    assert response.status_code in (200, 403, 422), (response.status_code, response.json)
    text = response.get_data(as_text=True).lower()
    leaked = [secret for secret in _secrets(world) if secret.lower() in text]
    assert not leaked, f"{caller} sees pair a's data: {leaked}"


@pytest.mark.parametrize(
    ("url", "caller"),
    [
        ("/api/v1/leads", "publisher_a"),
        ("/api/v1/purchases", "buyer_a"),
        ("/api/v1/campaigns", "buyer_a"),
        ("/api/v1/leads", "admin_b"),
    ],
)
def test_the_leak_check_sees_data_where_it_is_allowed(
    world: World, app: Flask, url: str, caller: str
) -> None:
    """The control for the list cells: the same search finds pair a's data in its own lists."""
    text = app.test_client().get(url, headers=world[caller].headers).get_data(as_text=True)
    assert [s for s in _secrets(world) if s.lower() in text.lower()]
