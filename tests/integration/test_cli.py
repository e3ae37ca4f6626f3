"""The CLI: creating accounts, loading the demo."""

from __future__ import annotations

import json
import os
from typing import Any

from flask import Flask
from sqlalchemy import select

from exchange.csv_rows import snake_case
from exchange.demo_niches import XEDUCATION_POST_SALE_COLUMNS
from exchange.models import Niche, Organization, User
from extensions import db


def test_accounts_create_prints_a_working_key(ctx: Flask) -> None:
    runner = ctx.test_cli_runner()
    result = runner.invoke(
        args=[
            "accounts",
            "create",
            "Acme Leads",
            "--role",
            "publisher",
            "--email",
            "Ops@Acme.example.com",
            "--password",
            "s3cret-pass",
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert set(out) == {"organization_id", "api_key"}
    org = db.session.get(Organization, out["organization_id"])
    assert org is not None and org.role == "publisher"
    user = db.session.scalar(select(User).where(User.organization_id == org.id))
    assert user is not None and user.email == "ops@acme.example.com"
    me = ctx.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {out['api_key']}"})
    assert me.json["organization"]["name"] == "Acme Leads"


def test_accounts_create_plain_output_and_errors(ctx: Flask) -> None:
    runner = ctx.test_cli_runner()
    ok = runner.invoke(args=["accounts", "create", "Big Buyer", "--role", "buyer"])
    assert ok.exit_code == 0
    assert "API key (shown once): lx_" in ok.output
    dup = runner.invoke(args=["accounts", "create", "Big Buyer", "--role", "buyer"])
    assert dup.exit_code != 0 and "already exists" in dup.output
    bad = runner.invoke(args=["accounts", "create", "X", "--role", "king"])
    assert bad.exit_code != 0
    half = runner.invoke(
        args=["accounts", "create", "Y", "--role", "admin", "--email", "y@example.com"]
    )
    assert half.exit_code != 0 and "--password" in half.output
    assert db.session.scalar(select(Organization).where(Organization.name == "Y")) is None


def test_demo_loads_niches_and_prints_keys_that_work(ctx: Flask) -> None:
    runner = ctx.test_cli_runner()
    first = runner.invoke(args=["exchange", "demo", "--json"])
    assert first.exit_code == 0, first.output
    accounts = {a["role"]: a for a in json.loads(first.output)}
    assert set(accounts) == {"publisher", "buyer", "admin"}
    slugs = set(db.session.scalars(select(Niche.slug)))
    assert {"auto-insurance", "solar", "mortgage", "home-services", "legal", "education"} <= slugs
    client = ctx.test_client()
    for role, account in accounts.items():
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {account['api_key']}"})
        assert me.json["organization"]["role"] == role
    keys_file = ctx.config["DEMO_KEYS_FILE"]
    assert oct(os.stat(keys_file).st_mode & 0o777) == "0o600"

    again = runner.invoke(args=["exchange", "demo", "--json"])
    assert again.exit_code == 0
    assert {a["role"]: a["api_key"] for a in json.loads(again.output)} == {
        r: a["api_key"] for r, a in accounts.items()
    }
    assert db.session.scalar(select(Niche).where(Niche.slug == "education")) is not None
    text = runner.invoke(args=["exchange", "demo"])
    assert accounts["publisher"]["api_key"] in text.output


def test_demo_education_niche_covers_the_training_file(ctx: Flask) -> None:
    """Every intake-time column of the X Education file has a field in the education niche."""
    import csv
    from pathlib import Path

    ctx.test_cli_runner().invoke(args=["exchange", "demo"])
    niche = db.session.scalar(select(Niche).where(Niche.slug == "education"))
    assert niche is not None
    # shared/ sits beside the repository
    data = Path(__file__).resolve().parents[3] / "shared" / "data" / "xeducation_leads_train.csv"
    with data.open() as fh:
        header = next(csv.reader(fh))
    not_fields = XEDUCATION_POST_SALE_COLUMNS | {
        "Prospect ID",
        "Lead Number",
        "Converted",
        "Country",
        "City",
    }

    expected = {snake_case(c) for c in header if c not in not_fields}
    names: set[Any] = {f.name for f in niche.fields}
    assert expected - names == set()
