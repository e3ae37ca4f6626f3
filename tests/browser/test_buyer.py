"""The buyer's journey in Chromium: a campaign through the wizard with a test lead to a real
receiver, a top-up through the Stripe.js card element (localstripe), two leads sold to the
campaign, one set converted, a return filed on the other; an admin approves it in the returns
queue and the buyer sees the money back."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from billing.models import TopUp, TopUpStatus
from exchange.models import LeadReturn, Role, Sale
from extensions import db
from tests.browser.admin_steps import approve_return
from tests.browser.buyer_steps import (
    create_campaign_in_wizard,
    file_return,
    sell_lead,
    send_test_lead,
    set_pipeline,
    signing_secret,
    top_up,
)
from tests.browser.conftest import log_in, screenshot


def test_a_buyer_creates_a_campaign_tops_up_buys_converts_returns_and_an_admin_approves(
    page: Any,
    new_page: Any,
    page_errors: Any,
    portal_user: Any,
    client: FlaskClient,
    publisher: Any,
    solar: Any,
    receiver: Any,
    stripe_gateway: Any,
    localstripe: Any,
) -> None:
    user = portal_user(Role.BUYER, name="Sunny Installs")
    db.session.rollback()
    log_in(page, user)
    screenshot(page, "buyer-dashboard-empty")

    # The wizard, including a bad submission first: the message sits next to the field.
    page.goto("/buyer/campaigns/new?niche=solar")
    screenshot(page, "buyer-campaign-wizard")
    page_errors.allow_status(422)
    page.get_by_role("button", name="Create campaign").click()
    assert "Give the campaign a name." in page.inner_text("#e-name")
    campaign_id = create_campaign_in_wizard(page, name="Bay Area solar", webhook_url=receiver.url)
    receiver.secret = signing_secret(page)
    message = send_test_lead(page)
    assert "the receiver answered 200" in message, message
    assert len(receiver.accepted) == 1 and receiver.accepted[0]["body"]["test"] is True
    screenshot(page, "buyer-campaign")

    # Top up through the card element; the balance is credited at once.
    message = top_up(page, "100.00")
    assert "Your balance is now 100.00 USD" in message, message
    assert "100.00 USD" in page.inner_text("#balances")
    screenshot(page, "buyer-billing")
    topup = db.session.scalars(select(TopUp)).one()
    assert topup.status == TopUpStatus.SUCCEEDED and topup.amount == 10_000
    db.session.rollback()

    # Two leads sell to the new campaign.
    first, second = (sell_lead(client, publisher, n) for n in (1, 2))
    sold_to = set(db.session.scalars(select(Sale.campaign_id)))
    db.session.rollback()
    assert sold_to == {campaign_id}

    page.goto("/buyer/campaigns")
    assert "2 / 10 leads" in page.inner_text(f"#campaign-{campaign_id}")
    screenshot(page, "buyer-campaigns")

    page.goto("/buyer/purchases")
    assert "maria.lopez1@gmail.com" in page.inner_text(f"#purchase-{first}")
    screenshot(page, "buyer-purchases")
    set_pipeline(page, first, "converted")
    row = page.locator(f"#purchase-{first} select[name=status]")
    assert row.input_value() == "converted"

    message = file_return(page, second, "wrong_person", "Not the person who asked")
    assert "filed: pending" in message, message
    screenshot(page, "buyer-purchase")
    page.goto("/buyer/returns")
    returns = page.inner_text("table")
    assert "wrong person" in returns and "pending" in returns and f"#{second}" in returns
    screenshot(page, "buyer-returns")
    assert db.session.scalar(select(func.count()).select_from(Sale)) == 2
    db.session.rollback()

    # An admin approves the return in the queue; the buyer sees the ruling and the refund.
    return_id = db.session.scalar(select(LeadReturn.id).where(LeadReturn.sale_id == second))
    price = db.session.scalar(select(Sale.price).where(Sale.id == second))
    db.session.rollback()
    admin_page = new_page()
    log_in(admin_page, portal_user(Role.ADMIN))
    approve_return(admin_page, return_id)
    screenshot(admin_page, "journey-admin-return-approved")
    assert db.session.scalar(select(LeadReturn.status).where(LeadReturn.id == return_id)) == (
        "approved"
    )
    db.session.rollback()
    page.goto("/buyer/returns")
    assert "approved" in page.inner_text("table")
    page.goto("/buyer/billing")
    left = 10_000 - 2 * price + price  # two bought, one refunded
    assert f"{left / 100:,.2f} USD" in page.inner_text("#balances")
