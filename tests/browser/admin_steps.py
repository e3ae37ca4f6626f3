"""The admin console for tests: setting up what admins work on (through the API, in the test
thread) and the steps an admin takes in the browser, for the admin tests and the cross-role
journey. Setting up ends the test thread's transaction, so the live server can write."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient

from extensions import db
from tests.helpers import solar_lead
from tests.support.market import create_campaign
from tests.support.money import fund

PRICE = 2500  # the default test campaign's bid (USD cents)
FIRST = ["Ana", "Bea", "Carla", "Dora", "Eva", "Flora", "Gina", "Hana"]
LAST = ["Reyes", "Ortiz", "Navarro", "Castro", "Romero", "Vega", "Rios", "Mendez"]


def person(n: int) -> dict[str, str]:
    """A name of person n's own (digits in names count against a lead)."""
    return {"first_name": FIRST[n % 8], "last_name": LAST[(n // 8) % 8]}


@dataclass(frozen=True)
class OpenReturn:
    """A sale and the pending return a buyer filed against it (plain values only)."""

    return_id: int
    sale_id: int
    lead_id: int
    price: int


def sell_lead(client: FlaskClient, publisher: Any, n: int, **overrides: Any) -> dict[str, Any]:
    """Post person n's solar lead (it sells to the CA campaign); the intake answer."""
    body = solar_lead(n, **{**person(n), **overrides})
    response = client.post("/api/v1/leads", json=body, headers=publisher.headers)
    assert response.status_code == 201, response.json
    assert response.json["status"] == "sold", response.json
    return dict(response.json)


def market(client: FlaskClient, buyer: Any, funds: int = 100_000) -> int:
    """Fund the buyer and give it a CA solar campaign at 25.00 a lead (needs the solar niche)."""
    fund(buyer.org.id, funds, key=f"topup:admin-steps:{buyer.org.id}")
    campaign = int(create_campaign(client, buyer)["id"])
    db.session.rollback()
    return campaign


def open_return(
    client: FlaskClient, publisher: Any, buyer: Any, n: int = 1, note: str = "Not this person"
) -> OpenReturn:
    """Sell person n's lead to the buyer and file a return the re-check cannot prove (so it
    waits for the publisher and an admin)."""
    lead = sell_lead(client, publisher, n)
    purchases = client.get("/api/v1/purchases", headers=buyer.headers).json["items"]
    sale = next(p for p in purchases if p["lead"]["id"] == lead["id"])
    filed = client.post(
        f"/api/v1/purchases/{sale['id']}/returns",
        json={
            "reason": "wrong_person",
            "note": note,
            "evidence": {"text": "spoke to someone else"},
        },
        headers=buyer.headers,
    )
    assert filed.status_code == 201, filed.json
    assert filed.json["status"] == "pending", filed.json
    db.session.rollback()
    return OpenReturn(int(filed.json["id"]), int(sale["id"]), int(lead["id"]), int(sale["price"]))


def review_lead(client: FlaskClient, publisher: Any, n: int) -> int:
    """A lead whose ZIP contradicts its state: the quality checks send it to review."""
    body = solar_lead(n, **person(n), region="TX", postal_code="90210")
    response = client.post("/api/v1/leads", json=body, headers=publisher.headers)
    assert response.status_code == 201, response.json
    assert response.json["status"] == "review", response.json
    db.session.rollback()
    return int(response.json["id"])


# --- in the browser ---------------------------------------------------------------------------


def approve_return(page: Any, return_id: int, note: str = "Checked the call log: approved") -> None:
    """From the returns queue, open the return, approve it with a note, and see it approved."""
    page.goto("/admin/returns")
    page.locator(f"tr[data-return='{return_id}'] >> text=Rule").click()
    page.wait_for_url(re.compile(rf"/admin/returns/{return_id}$"))
    page.fill("#f-note", note)
    page.click("button[name=decision][value=approve]")
    page.wait_for_url(re.compile(rf"/admin/returns/{return_id}$"))
    assert page.locator("#return-status").inner_text() == "approved"
    assert f"Return {return_id} approved" in page.locator(".flash").inner_text()


def decide_reviews(page: Any, lead_ids: list[int], decision: str, note: str) -> str:
    """Tick the leads in the review queue and decide them together; the flash message."""
    page.goto("/admin/reviews")
    for lead_id in lead_ids:
        page.check(f"#lead-{lead_id}")
    page.fill("#bulk #f-note", note)
    page.click(f"#{decision}-selected")
    page.wait_for_url(re.compile(r"/admin/reviews"))
    return str(page.locator(".flash.success").inner_text())


def quote_price(page: Any, niche: str, country: str, region: str = "", **extra: str) -> str:
    """Ask the price book what a region gets; the computed price as shown."""
    page.goto(f"/admin/prices?niche={niche}")
    page.fill("#quote-form #f-country", country)
    page.fill("#quote-form #f-region", region)
    for name, value in extra.items():
        page.fill(f"#quote-form #f-{name}", value)
    page.click("#compute")
    return str(page.locator("#quoted-price").inner_text())


def set_credit_limit(page: Any, org_id: int, amount: str, note: str = "Trusted buyer") -> None:
    """Open the organisation and submit a credit limit (major units); the page that answers
    shows the flash, or the form again with the message next to the field."""
    page.goto(f"/admin/organizations/{org_id}")
    page.fill("#credit-form #f-credit_limit", amount)
    page.fill("#credit-form #f-note", note)
    with page.expect_navigation():
        page.click("#credit-form button[type=submit]")


def run_ledger_check(page: Any) -> str:
    """Run the ledger check; the status shown (ok or problems)."""
    page.goto("/admin/ledger")
    page.click("#run-check")
    page.wait_for_url(re.compile(r"/admin/ledger$"))
    return str(page.locator("#check-status").inner_text())
