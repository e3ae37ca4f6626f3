"""Reports and the planner in Chromium: a buyer plans the issue's example in a VND niche, an
admin opens a report and downloads it as CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Flask

from exchange.accounts import issue_api_key
from exchange.models import Organization, Role
from exchange.niches import create_niche
from exchange.pricing import set_rule
from extensions import db
from tests.browser.conftest import log_in, screenshot
from tests.conftest import Account
from tests.helpers import solar_lead
from tests.support.market import create_campaign
from tests.support.money import fund


def vnd_niche() -> None:
    """Solar sold in VND, with a niche-wide price of 100,000 VND a lead."""
    from exchange.demo_niches import DEMO_NICHES

    spec = next(n for n in DEMO_NICHES if n["slug"] == "solar")
    niche = create_niche(
        db.session, None, {**spec, "slug": "solar-vn", "name": "Solar (VN)", "currency": "VND"}
    )
    set_rule(db.session, niche, "", base_cpl=100_000)
    db.session.commit()


def test_a_buyer_plans_100_customers_at_5_percent(
    page: Any, page_errors: Any, portal_user: Any
) -> None:
    vnd_niche()
    buyer = portal_user(Role.BUYER)
    log_in(page, buyer)
    page.click("nav >> text=Reports")
    page.click("text=planner")
    page.wait_for_url("**/reports/planner")

    page_errors.allow_status(422)
    page.fill("#f-customers", "0")
    page.select_option("#f-niche", "solar-vn")
    page.click("button:has-text('Plan')")
    assert "A whole number from 1" in page.locator("#e-customers").inner_text()

    page.fill("#f-customers", "100")
    page.fill("#f-conversion_rate", "5")
    page.click("button:has-text('Plan')")
    assert page.locator("#plan-leads").inner_text() == "2,000"
    assert page.locator("#plan-budget").inner_text() == "200,000,000 VND"
    assert "from the price book" in page.locator(".plan").inner_text()
    screenshot(page, "reports-planner")


def test_an_admin_opens_a_report_and_downloads_it(
    page: Any, portal_user: Any, ctx: Flask, solar: Any
) -> None:
    admin = portal_user(Role.ADMIN)
    publisher, buyer = portal_user(Role.PUBLISHER), portal_user(Role.BUYER)
    accounts = []
    for user in (publisher, buyer):
        org = db.session.get(Organization, user.org_id)
        assert org is not None
        accounts.append(Account(org, issue_api_key(db.session, org)[1]))
    db.session.commit()
    pub, buy = accounts
    fund(buy.org.id, 100_000)
    client = ctx.test_client()
    create_campaign(client, buy)
    for n in (1, 2, 3):
        assert (
            client.post("/api/v1/leads", json=solar_lead(n), headers=pub.headers).status_code == 201
        )
    db.session.rollback()  # the server threads need SQLite's write lock

    log_in(page, admin)
    page.click("nav >> text=Reports")
    page.select_option("#f-by", "publisher")
    page.click("text=Show report")
    table = page.locator("table.report")
    assert publisher.org_name in table.inner_text()
    assert "75.00 USD" in table.inner_text()  # 3 sales at 25.00
    screenshot(page, "reports-admin")

    with page.expect_download() as info:
        page.click("text=Download CSV")
    download = info.value
    assert download.suggested_filename.startswith("report-by-publisher-")
    with open(download.path(), encoding="utf-8") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read())))
    assert [(r["Publisher"], r["Sales"], r["Revenue"]) for r in rows] == [
        (publisher.org_name, "3", "75.00")
    ]
