"""Steps of the buyer's journey, reusable by any browser test (and the market helpers the
test-client tests share): a campaign through the wizard, a test lead, a top-up through the
Stripe.js card element, a pipeline change and a return.

The browser steps take a Playwright page logged in as a buyer. The market helpers work in the
test thread: each ends its transaction, so the live server's threads are never blocked."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from exchange.campaigns import create_campaign
from exchange.models import Organization, Role, Sale
from extensions import db
from tests.helpers import solar_lead
from tests.support.money import fund

FIRST = ["Maria", "James", "Aiko", "Omar", "Grace", "Luis", "Nadia", "Peter"]
LAST = ["Lopez", "Carter", "Tanaka", "Haddad", "Okafor", "Silva", "Novak", "Brown"]

# --- the market, in the test thread -------------------------------------------------------------


def person(n: int, **overrides: Any) -> dict[str, Any]:
    """A valid solar lead for person n with a name of its own."""
    return solar_lead(n, first_name=FIRST[n % 8], last_name=LAST[(n // 8) % 8], **overrides)


def campaign_for(org_id: int, **overrides: Any) -> int:
    """A California solar campaign (25.00 a lead, portal delivery) made through the service."""
    body: dict[str, Any] = {
        "name": "CA solar",
        "niche": "solar",
        "geography": {"subdivisions": ["US-CA"]},
        "pricing": {"model": "cpl", "bid": {"type": "fixed", "amount": 2500}},
        "delivery": {"method": "portal"},
        **overrides,
    }
    org = db.session.get(Organization, org_id)
    assert org is not None
    campaign_id = create_campaign(db.session, org, body).id
    db.session.commit()
    db.session.rollback()
    return campaign_id


def sell_lead(client: FlaskClient, publisher: Any, n: int, **overrides: Any) -> int:
    """Post person n's lead with the publisher's key; the id of the sale it made."""
    response = client.post("/api/v1/leads", json=person(n, **overrides), headers=publisher.headers)
    assert response.status_code == 201, response.json
    assert response.json["status"] == "sold", response.json
    db.session.rollback()
    sale_id = db.session.scalar(select(Sale.id).where(Sale.lead_id == response.json["id"]))
    db.session.rollback()
    assert sale_id is not None
    return int(sale_id)


@pytest.fixture(name="shop")
def shop_fixture(
    client: FlaskClient, login: Any, portal_user: Any, publisher: Any, solar: Any
) -> Any:
    """A logged-in buyer (test client) with 1,000.00 USD, a CA solar campaign at 25.00 a
    lead, and two leads bought from it."""
    user = portal_user(Role.BUYER, name="Sunny Installs")
    fund(user.org_id, 100_000, key=f"topup:shop{user.org_id}")
    campaign_id = campaign_for(user.org_id)
    sales = [sell_lead(client, publisher, n) for n in (1, 2)]
    login(user)
    return SimpleNamespace(buyer=user, campaign=campaign_id, sale_ids=sales, seller=publisher)


# --- the browser ---------------------------------------------------------------------------------


def create_campaign_in_wizard(
    page: Any,
    *,
    name: str,
    niche: str = "solar",
    state: str = "US-CA",
    price: str = "25.00",
    daily_cap: str = "10",
    budget: str = "500",
    webhook_url: str | None = None,
) -> int:
    """Go through the wizard (niche, a state, price, caps, delivery); the new campaign's id."""
    page.goto("/buyer/campaigns/new")
    page.select_option("#f-niche", niche)
    page.get_by_role("button", name="Next").click()
    page.fill("#f-name", name)
    page.locator("details.states summary").click()
    page.check(f'input[name="states"][value="{state}"]')
    page.fill("#f-bid_amount", price)
    page.fill("#f-cap_leads_day", daily_cap)
    page.fill("#f-budget", budget)
    if webhook_url:
        page.select_option("#f-delivery_method", "webhook")
        page.fill("#f-delivery_url", webhook_url)
    else:
        page.select_option("#f-delivery_method", "portal")
    page.get_by_role("button", name="Create campaign").click()
    page.wait_for_url(re.compile(r"/buyer/campaigns/\d+$"))
    page.get_by_text("is live").wait_for()
    return int(page.url.rsplit("/", 1)[1])


def signing_secret(page: Any) -> str:
    """The campaign page's signing secret (what the buyer's receiver verifies with)."""
    return str(page.locator("#signing-secret").inner_text()).strip()


def send_test_lead(page: Any) -> str:
    """Press "Send test lead" on the campaign page; the message shown."""
    page.locator("#send-test-lead").click()
    message = page.locator(".flash").first
    message.wait_for()
    return str(message.inner_text())


def top_up(page: Any, amount: str, card: str = "4242424242424242") -> str:
    """Pay `amount` with the Stripe.js card element on the billing page; the message shown."""
    page.goto("/buyer/billing")
    element = page.locator("#card-element")
    element.locator('input[placeholder="number"]').fill(card)
    element.locator('input[placeholder="exp_month"]').fill("12")
    element.locator('input[placeholder="exp_year"]').fill("34")
    element.locator('input[placeholder="cvc"]').fill("123")
    element.locator('input[placeholder="postal_code"]').fill("94103")
    page.fill("#f-topup-amount", amount)
    page.locator("#topup-pay").click()
    message = page.locator("#topup-message.flash")
    message.wait_for()
    return str(message.inner_text())


def set_pipeline(page: Any, sale_id: int, status: str) -> None:
    """Change a purchase's pipeline status from the purchases list."""
    page.goto("/buyer/purchases")
    row = page.locator(f"#purchase-{sale_id}")
    row.locator("select[name=status]").select_option(status)
    row.get_by_role("button", name="Set").click()
    page.get_by_text(f"Purchase #{sale_id} is now {status}.").wait_for()


def file_return(page: Any, sale_id: int, reason: str, note: str = "") -> str:
    """File a return from the purchase's page; the message shown."""
    page.goto(f"/buyer/purchases/{sale_id}")
    page.select_option("#f-reason", reason)
    if note:
        page.fill("#f-note", note)
    page.get_by_role("button", name="File return").click()
    message = page.locator(".flash").first
    message.wait_for()
    return str(message.inner_text())
