"""The buyer portal through the test client, part 2: purchases and the pipeline, returns and
their refusals, CSV exports, send test lead, and the billing forms."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import update

from billing.models import JournalEntry, Posting
from exchange.models import Campaign, LeadReturn, Sale
from extensions import db
from tests.browser.buyer_steps import campaign_for, shop_fixture  # noqa: F401  (the shop fixture)
from tests.web.conftest import csrf_token, post_form
from tests.web.test_buyer_pages import count, field_error, text


def csrf_of(client: FlaskClient) -> str:
    return csrf_token(client, "/account/keys")


# --- purchases, returns and exports ------------------------------------------------------------


def test_the_pipeline_is_editable_in_place(client: FlaskClient, shop: Any) -> None:
    sale = shop.sale_ids[0]
    done = post_form(
        client,
        f"/buyer/purchases/{sale}/pipeline",
        {"status": "converted", "next": "/buyer/purchases"},
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/buyer/purchases")
    db.session.rollback()
    assert db.session.get(Sale, sale).pipeline_status == "converted"  # type: ignore[union-attr]
    db.session.rollback()
    listed = text(client.get("/buyer/purchases?pipeline_status=converted"))
    assert f'id="purchase-{sale}"' in listed and f'id="purchase-{shop.sale_ids[1]}"' not in listed
    bad = post_form(client, f"/buyer/purchases/{sale}/pipeline", {"status": "won"})
    assert bad.status_code == 422 and "One of contacted" in text(bad)
    lost = post_form(
        client, f"/buyer/purchases/{sale}/pipeline", {"status": "lost", "lost_reason": "No answer"}
    )
    assert lost.status_code == 302
    db.session.rollback()
    assert db.session.get(Sale, sale).lost_reason == "No answer"  # type: ignore[union-attr]


def test_a_return_is_filed_and_the_refusals_are_shown(client: FlaskClient, shop: Any) -> None:
    first, second = shop.sale_ids
    no_reason = post_form(client, f"/buyer/purchases/{first}/return", {"reason": ""})
    assert no_reason.status_code == 422 and "One of:" in field_error(text(no_reason), "reason")
    other = post_form(client, f"/buyer/purchases/{first}/return", {"reason": "other"})
    assert other.status_code == 422 and "Say what is wrong" in field_error(text(other), "note")
    filed = post_form(
        client, f"/buyer/purchases/{first}/return", {"reason": "wrong_person", "note": "Not her"}
    )
    assert filed.status_code == 302
    page = text(client.get(f"/buyer/purchases/{first}"))
    assert "wrong_person" in page and "pending" in page
    again = post_form(client, f"/buyer/purchases/{first}/return", {"reason": "wrong_person"})
    assert again.status_code == 409 and "already has an open return" in text(again)
    # The cap: 15% of this month's two sales allows one return.
    capped = post_form(client, f"/buyer/purchases/{second}/return", {"reason": "wrong_person"})
    assert capped.status_code == 409 and "Return cap reached" in text(capped)
    db.session.execute(
        update(Sale)
        .where(Sale.id == second)
        .values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=10))
    )
    db.session.commit()
    late = post_form(client, f"/buyer/purchases/{second}/return", {"reason": "wrong_person"})
    assert late.status_code == 409 and "return window of 72 hours closed" in text(late)
    listed = text(client.get("/buyer/returns"))
    assert "Not her" in listed and "pending" in listed and f"#{first}" in listed
    assert count(LeadReturn) == 1


def rows_of(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(text(response))))


def test_csv_exports_have_the_right_rows(client: FlaskClient, shop: Any) -> None:
    purchases = rows_of(client.get("/buyer/purchases.csv"))
    assert [int(r["sale_id"]) for r in purchases] == shop.sale_ids
    assert purchases[0]["email"] == "maria.lopez1@gmail.com" and purchases[0]["price"] == "2500"
    assert purchases[1]["first_name"] == "Aiko" and purchases[1]["campaign"] == "CA solar"
    ledger = rows_of(client.get("/buyer/billing/ledger.csv"))
    assert [int(r["amount"]) for r in ledger] == [100_000, -2500, -2500]
    assert {r["kind"] for r in ledger} == {"topup", "sale"}
    month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
    statement = rows_of(client.get(f"/buyer/billing/statements/{month}?format=csv"))
    assert [int(r["balance_after"]) for r in statement] == [100_000, 97_500, 95_000]
    empty = rows_of(client.get("/buyer/billing/statements/2020-01?format=csv"))
    assert empty == []


# --- send test lead ----------------------------------------------------------------------------


def test_send_test_lead_delivers_a_signed_sample_and_sells_nothing(
    client: FlaskClient, shop: Any, receiver: Any
) -> None:
    campaign_id = campaign_for(
        shop.buyer.org_id,
        name="Webhook",
        delivery={"method": "webhook", "url": receiver.url},
    )
    db.session.rollback()
    receiver.secret = db.session.get(Campaign, campaign_id).signing_secret  # type: ignore[union-attr]
    db.session.rollback()
    sales, entries, postings = count(Sale), count(JournalEntry), count(Posting)
    response = post_form(client, f"/buyer/campaigns/{campaign_id}/test-lead", {})
    assert response.status_code == 302
    page = text(client.get(f"/buyer/campaigns/{campaign_id}"))
    assert "the receiver answered 200" in page
    assert receiver.bad_signatures == 0 and len(receiver.accepted) == 1
    body = receiver.accepted[0]["body"]
    assert body["test"] is True and body["campaign_id"] == campaign_id
    assert body["lead"]["niche"] == "solar" and "homeowner" in body["lead"]["fields"]
    assert receiver.accepted[0]["key"].startswith(f"test:{campaign_id}:")
    assert (count(Sale), count(JournalEntry), count(Posting)) == (sales, entries, postings)
    # A receiver that refuses is shown as such.
    receiver.script = [500]
    post_form(client, f"/buyer/campaigns/{campaign_id}/test-lead", {})
    assert "answered 500" in text(client.get(f"/buyer/campaigns/{campaign_id}"))


# --- billing forms -----------------------------------------------------------------------------


def test_auto_topup_needs_a_saved_card_and_top_ups_need_payments(
    client: FlaskClient, shop: Any
) -> None:
    on = post_form(
        client, "/buyer/billing/auto-topup", {"enabled": "on", "threshold": "50", "amount": "200"}
    )
    assert on.status_code == 409 and "Save a card" in text(on)
    bad = post_form(
        client, "/buyer/billing/auto-topup", {"enabled": "on", "threshold": "-1", "amount": "x"}
    )
    assert bad.status_code == 422 and "zero or more" in field_error(text(bad), "threshold")
    off = post_form(client, "/buyer/billing/auto-topup", {})
    assert off.status_code == 302
    token = csrf_of(client)
    paid = client.post(
        "/buyer/billing/topups",
        json={"amount": "10", "currency": "USD", "setup_intent_id": "seti_x"},
        headers={"X-CSRFToken": token},
    )
    assert paid.status_code == 503 and paid.json["error"] == "payments_not_configured"
