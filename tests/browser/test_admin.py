"""The admin console in Chromium: approve a return, work the review queue in bulk, compute a
region's price, and open the quality table, organisations (credit) and the ledger check."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from exchange.models import Role
from extensions import db
from tests.browser.admin_steps import (
    approve_return,
    decide_reviews,
    market,
    open_return,
    quote_price,
    review_lead,
    run_ledger_check,
    set_credit_limit,
)
from tests.browser.conftest import log_in, screenshot


def test_an_admin_works_the_console(
    page: Any,
    page_errors: Any,
    portal_user: Any,
    client: FlaskClient,
    publisher: Any,
    buyer: Any,
    solar: Any,
) -> None:
    buyer_id, buyer_name, publisher_name = buyer.org.id, buyer.org.name, publisher.org.name
    market(client, buyer)
    case = open_return(client, publisher, buyer, 1)
    in_review = [review_lead(client, publisher, n) for n in (2, 3)]
    admin = portal_user(Role.ADMIN, name="Console Admin")
    db.session.rollback()  # the live server's threads need the write lock

    log_in(page, admin)
    assert page.locator("#count-returns-publisher").inner_text() == "1"
    assert page.locator("#count-reviews").inner_text() == "2"
    screenshot(page, "admin-dashboard")

    page.click("nav >> text=Returns")
    assert buyer_name in page.locator(f"tr[data-return='{case.return_id}']").inner_text()
    screenshot(page, "admin-returns")
    page.goto(f"/admin/returns/{case.return_id}")
    assert "Not this person" in page.locator("#buyer-note").inner_text()
    assert "inconclusive" in page.locator("#finding").inner_text()
    screenshot(page, "admin-return")
    approve_return(page, case.return_id)
    assert "25.00 USD" in page.locator("#ruling").inner_text()
    screenshot(page, "admin-return-approved")

    page.click("nav >> text=Reviews")
    screenshot(page, "admin-reviews")
    message = decide_reviews(page, in_review, "accept", "ZIP typo, confirmed by phone")
    assert message == f"2 leads accepted: {in_review[0]}, {in_review[1]}."
    assert "No leads are waiting for review." in page.inner_text("main")

    page.click("nav >> text=Prices")
    page.fill("#rule-form #f-place", "US-CA")
    page.fill("#rule-form #f-base_cpl", "40")
    page.click("#rule-form button[type=submit]")
    assert "US-CA" in page.locator("#rules").inner_text()
    assert quote_price(page, "solar", "US", "CA", score="80") == "40.00 USD"
    assert "Rule used" in page.locator("#quote-result").inner_text()
    screenshot(page, "admin-prices")

    page.click("nav >> text=Niches")
    screenshot(page, "admin-niches")
    page.click("text=Solar")
    screenshot(page, "admin-niche-edit")

    page.click("nav >> text=Quality")
    assert publisher_name in page.locator("#quality").inner_text()
    screenshot(page, "admin-quality")

    page.click("nav >> text=Organisations")
    screenshot(page, "admin-organizations")
    page_errors.allow_status(422)
    set_credit_limit(page, buyer_id, "-5")
    assert page.locator("#e-credit_limit").inner_text() == "Must not be negative."
    set_credit_limit(page, buyer_id, "500", note="Net 30 contract")
    assert "may now go down to -500.00 USD" in page.locator(".flash").inner_text()
    assert "500.00 USD" in page.locator("#accounts").inner_text()
    screenshot(page, "admin-organization")

    assert run_ledger_check(page) == "ok"
    screenshot(page, "admin-ledger")
