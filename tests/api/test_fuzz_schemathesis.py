"""Schemathesis against /api/v1/openapi.json, in process, with real keys of every role.

One test per operation of the OpenAPI document (so a new endpoint is fuzzed without a
change here), on SQLite and on Postgres. Each runs against a populated exchange (the demo
niches, a publisher, a funded buyer with a campaign, sales, a return, a top-up, keys: see
tests/support/world.py) and sends schema-valid and schema-violating requests with the
publisher's, the buyer's or the admin's key, or a bad key. Every answer must:

- not be a 5xx (`not_a_server_error`);
- have its status listed for the operation, not only covered by `default`
  (`explicitly_documented_status` below, stricter than schemathesis' own check);
- have a documented content type and headers, and a body that validates against the
  documented schema for that status (`response_schema_conformance`).

Generation is derandomized and bounded (FUZZ_EXAMPLES per operation, 20 unless set), so CI
runs the same requests every time. The Stripe webhook (/billing/stripe/webhook) is not in
the API document (it is signed by Stripe, not authenticated by key) and is not fuzzed here;
its own tests check signatures.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks

from tests.support.fake_gateway import FakeGateway
from tests.support.world import World, build_world, openapi_document, operations

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
WHO = ("publisher_a", "buyer_a", "admin_a", "bad key", "no key")


DOCUMENT = openapi_document()
OPERATIONS = operations(DOCUMENT)


def explicitly_documented_status(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every status a client can get is listed for the operation, with what it means."""
    listed = [code for code in case.operation.responses.status_codes if code != "default"]
    if str(response.status_code) not in listed:
        raise AssertionError(
            f"Undocumented status: {case.operation.label} answered {response.status_code};"
            f" it lists {', '.join(listed)}"
        )
    return None


CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    explicitly_documented_status,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture
def world(ctx: Flask, fake_gateway: FakeGateway) -> World:
    return build_world(ctx, pairs=("a",))


def real_ids(world: World) -> dict[str, Any]:
    """Path parameters naming rows that exist, so the fuzzer also reaches past the 404."""
    publisher, buyer = world["publisher_a"], world["buyer_a"]
    return {
        **buyer.ids,
        "lead_id": publisher.ids["lead_id"],
        "ping_id": publisher.ids["ping_id"],
        "flag_id": publisher.ids["flag_id"],
        "key_id": publisher.ids["key_id"],
        "rule_id": world["admin_a"].ids["rule_id"],
        "buyer_id": buyer.org_id,
        "publisher_id": publisher.org_id,
        "slug": "solar",
        "period": dt.date.today().strftime("%Y-%m"),
    }


def _headers(world: World, who: str) -> dict[str, str]:
    if who == "no key":
        return {}
    if who == "bad key":
        return {"Authorization": "Bearer lx_not_a_real_key"}
    return world[who].headers


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_answers_as_documented(ctx: Flask, world: World, method: str, path: str) -> None:
    schema = schemathesis.openapi.from_dict(DOCUMENT)
    schema.app = ctx
    operation = schema[path][method]
    names = [p.name for p in operation.path_parameters]
    existing = {name: value for name, value in real_ids(world).items() if name in names}
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    if existing:
        strategies.append(operation.as_strategy(path_parameters=existing))
    cases = st.one_of(*strategies)
    seen: dict[int, int] = {}

    # Mostly keys of the roles the operation accepts (its x-roles), so it gets past the 403.
    roles = DOCUMENT["paths"][path][method.lower()].get("x-roles") or [
        "publisher",
        "buyer",
        "admin",
    ]
    callers = [*(f"{role}_a" for role in roles for _ in range(3)), *WHO]

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases, who=st.sampled_from(callers))
    def fuzz(case: Any, who: str) -> None:
        headers = {**(case.headers or {}), **_headers(world, who)}
        if who == "no key":
            headers.pop("Authorization", None)
        case.headers = headers
        response = case.call(app=ctx)
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        case.validate_response(response, checks=CHECKS)

    fuzz()
    print(f"{method} {path}: statuses {dict(sorted(seen.items()))}")  # what was reached (-s)
    assert sum(seen.values()) >= min(EXAMPLES, 10), seen
