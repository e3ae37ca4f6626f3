"""Admin money tools: credit limits, adjustments, top-up refunds, the book check."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from billing.charges import charge
from billing.ledger import balance_of
from billing.models import AccountKind, EntryKind, JournalEntry, TopUp
from errors import PaymentRequired
from exchange.models import AuditEvent, Role
from extensions import db
from tests.support.fake_gateway import FakeGateway
from tests.support.money import fund

CREDIT = "/api/v1/admin/billing/credit"
ADJUST = "/api/v1/admin/billing/adjustments"


def buy(key: str, buyer_id: int, price: int, publisher_id: int | None = None) -> None:
    charge(
        db.session,
        key=key,
        kind=EntryKind.SALE,
        buyer_id=buyer_id,
        currency="USD",
        price=price,
        publisher_id=publisher_id,
        publisher_amount=price * 7 // 10 if publisher_id else 0,
        hold_until=dt.datetime.now(dt.UTC) + dt.timedelta(days=14),
    )
    db.session.commit()


def buyer_balance(org_id: int, currency: str = "USD") -> int:
    db.session.expire_all()
    return balance_of(db.session, org_id, AccountKind.BUYER_BALANCE, currency)


def audit(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    stmt = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list(db.session.scalars(stmt))


def entries(kind: EntryKind) -> int:
    stmt = select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == kind)
    return db.session.scalar(stmt) or 0


# --- credit limits -----------------------------------------------------------------------


def test_credit_is_for_admins_only(client: FlaskClient, buyer: Any, publisher: Any) -> None:
    body = {"organization_id": buyer.org.id, "currency": "USD", "credit_limit": 5000, "note": "x"}
    for account in (buyer, publisher):
        response = client.post(CREDIT, json=body, headers=account.headers)
        assert response.status_code == 403
        assert response.json["error"] == "forbidden"
    assert client.post(CREDIT, json=body).status_code == 401
    assert audit("billing.credit_limit_set") == []


def test_credit_validation(client: FlaskClient, admin: Any, buyer: Any, publisher: Any) -> None:
    base = {"organization_id": buyer.org.id, "currency": "USD", "credit_limit": 5000}

    missing_note = client.post(CREDIT, json=base, headers=admin.headers)
    assert missing_note.status_code == 422
    assert "note" in missing_note.json["fields"]
    empty_note = client.post(CREDIT, json={**base, "note": ""}, headers=admin.headers)
    assert empty_note.status_code == 422 and "note" in empty_note.json["fields"]

    negative = client.post(
        CREDIT, json={**base, "credit_limit": -1, "note": "n"}, headers=admin.headers
    )
    assert negative.status_code == 422 and "credit_limit" in negative.json["fields"]

    not_a_buyer = client.post(
        CREDIT,
        json={**base, "organization_id": publisher.org.id, "note": "n"},
        headers=admin.headers,
    )
    assert not_a_buyer.status_code == 422
    assert "organization_id" in not_a_buyer.json["fields"]

    unknown = client.post(
        CREDIT, json={**base, "organization_id": 987654, "note": "n"}, headers=admin.headers
    )
    assert unknown.status_code == 404
    assert unknown.json["error"] == "not_found"

    assert audit("billing.credit_limit_set") == []
    assert client.get("/api/v1/billing/balance", headers=buyer.headers).json["balances"] == []


def test_credit_lets_the_balance_go_down_to_minus_the_limit(
    client: FlaskClient, admin: Any, buyer: Any
) -> None:
    # Without credit a sale needs money.
    with pytest.raises(PaymentRequired):
        buy("sale:0", buyer.org.id, 1)
    db.session.rollback()

    response = client.post(
        CREDIT,
        json={
            "organization_id": buyer.org.id,
            "currency": "usd",
            "credit_limit": 5000,
            "note": "Trusted buyer, net-30",
        },
        headers=admin.headers,
    )
    assert response.status_code == 200, response.json
    assert response.json == {
        "currency": "USD",
        "balance": 0,
        "credit_limit": 5000,
        "available": 5000,
        "display": "0.00 USD",
    }

    buy("sale:1", buyer.org.id, 3000)
    buy("sale:2", buyer.org.id, 2000)
    assert buyer_balance(buyer.org.id) == -5000
    with pytest.raises(PaymentRequired):
        buy("sale:3", buyer.org.id, 1)
    db.session.rollback()
    assert buyer_balance(buyer.org.id) == -5000

    shown = client.get("/api/v1/billing/balance", headers=buyer.headers).json["balances"]
    assert shown == [
        {
            "currency": "USD",
            "balance": -5000,
            "credit_limit": 5000,
            "available": 0,
            "display": "-50.00 USD",
        }
    ]

    events = audit("billing.credit_limit_set")
    assert len(events) == 1
    event = events[0]
    assert event.organization_id == buyer.org.id
    assert event.actor_organization_id == admin.org.id
    assert event.actor_api_key_id is not None
    assert event.target_type == "ledger_account"
    assert event.data == {"currency": "USD", "credit_limit": 5000, "note": "Trusted buyer, net-30"}

    # What is owed cannot be un-granted.
    lower = client.post(
        CREDIT,
        json={
            "organization_id": buyer.org.id,
            "currency": "USD",
            "credit_limit": 4999,
            "note": "n",
        },
        headers=admin.headers,
    )
    assert lower.status_code == 409
    assert lower.json["error"] == "credit_in_use"
    assert len(audit("billing.credit_limit_set")) == 1


def test_credit_display_uses_the_currency_decimals(
    client: FlaskClient, admin: Any, buyer: Any
) -> None:
    fund(buyer.org.id, 123456, currency="USD")
    fund(buyer.org.id, 2500000, key="topup:vnd", currency="VND")
    usd = client.post(
        CREDIT,
        json={"organization_id": buyer.org.id, "currency": "USD", "credit_limit": 100, "note": "n"},
        headers=admin.headers,
    )
    assert usd.json["display"] == "1,234.56 USD"
    assert usd.json["available"] == 123556
    vnd = client.post(
        CREDIT,
        json={"organization_id": buyer.org.id, "currency": "VND", "credit_limit": 0, "note": "n"},
        headers=admin.headers,
    )
    assert vnd.json["display"] == "2,500,000 VND"


# --- adjustments -------------------------------------------------------------------------


def adjustment(org_id: int, amount: int, **overrides: Any) -> dict[str, Any]:
    return {
        "organization_id": org_id,
        "account": "buyer_balance",
        "currency": "USD",
        "amount": amount,
        "note": "Goodwill for a bad batch",
        **overrides,
    }


def test_adjustments_need_an_idempotency_key_and_a_note(
    client: FlaskClient, admin: Any, buyer: Any
) -> None:
    no_key = client.post(ADJUST, json=adjustment(buyer.org.id, 500), headers=admin.headers)
    assert no_key.status_code == 422
    assert "Idempotency-Key" in no_key.json["fields"]

    headers = {**admin.headers, "Idempotency-Key": "adj-1"}
    body = adjustment(buyer.org.id, 500)
    del body["note"]
    no_note = client.post(ADJUST, json=body, headers=headers)
    assert no_note.status_code == 422 and "note" in no_note.json["fields"]
    blank = client.post(ADJUST, json=adjustment(buyer.org.id, 500, note="   "), headers=headers)
    assert blank.status_code == 422 and "note" in blank.json["fields"]
    zero = client.post(ADJUST, json=adjustment(buyer.org.id, 0), headers=headers)
    assert zero.status_code == 422 and "amount" in zero.json["fields"]
    wrong_account = client.post(
        ADJUST, json=adjustment(buyer.org.id, 500, account="platform_revenue"), headers=headers
    )
    assert wrong_account.status_code == 422 and "account" in wrong_account.json["fields"]
    buyer_key = client.post(
        ADJUST,
        json=adjustment(buyer.org.id, 500),
        headers={**buyer.headers, "Idempotency-Key": "b"},
    )
    assert buyer_key.status_code == 403

    assert entries(EntryKind.ADJUSTMENT) == 0
    assert buyer_balance(buyer.org.id) == 0
    assert audit("billing.adjustment") == []


def test_an_adjustment_replayed_moves_money_once(
    client: FlaskClient, admin: Any, buyer: Any
) -> None:
    headers = {**admin.headers, "Idempotency-Key": "goodwill-42"}
    first = client.post(ADJUST, json=adjustment(buyer.org.id, 1500), headers=headers)
    assert first.status_code == 201, first.json
    assert first.json["replayed"] is False
    assert first.json["kind"] == "adjustment"
    assert first.json["memo"] == "Goodwill for a bad batch"
    assert first.json["idempotency_key"] == f"adjustment:{admin.org.id}:goodwill-42"

    again = client.post(ADJUST, json=adjustment(buyer.org.id, 1500), headers=headers)
    assert again.status_code == 200, again.json
    assert again.json["replayed"] is True
    assert again.json["id"] == first.json["id"]

    assert buyer_balance(buyer.org.id) == 1500
    assert balance_of(db.session, None, AccountKind.PLATFORM_ADJUSTMENTS, "USD") == -1500
    assert entries(EntryKind.ADJUSTMENT) == 1
    events = audit("billing.adjustment")
    assert len(events) == 1
    assert events[0].organization_id == buyer.org.id
    assert events[0].actor_organization_id == admin.org.id
    assert events[0].target_id == str(first.json["id"])
    assert events[0].data == {
        "account": "buyer_balance",
        "currency": "USD",
        "amount": 1500,
        "note": "Goodwill for a bad batch",
    }

    # A new key is a new adjustment.
    other = client.post(
        ADJUST,
        json=adjustment(buyer.org.id, -500, note="Partial claw-back"),
        headers={**admin.headers, "Idempotency-Key": "clawback-1"},
    )
    assert other.status_code == 201
    assert buyer_balance(buyer.org.id) == 1000
    assert len(audit("billing.adjustment")) == 2


def test_a_debit_beyond_the_balance_is_refused(client: FlaskClient, admin: Any, buyer: Any) -> None:
    fund(buyer.org.id, 1000)
    response = client.post(
        ADJUST,
        json=adjustment(buyer.org.id, -1001, note="Claw back"),
        headers={**admin.headers, "Idempotency-Key": "too-much"},
    )
    assert response.status_code == 402
    assert response.json["error"] == "insufficient_funds"
    assert buyer_balance(buyer.org.id) == 1000
    assert entries(EntryKind.ADJUSTMENT) == 0
    assert audit("billing.adjustment") == []

    # Exactly the balance is fine; the same key now posts it (nothing was stored before).
    ok = client.post(
        ADJUST,
        json=adjustment(buyer.org.id, -1000, note="Claw back"),
        headers={**admin.headers, "Idempotency-Key": "too-much"},
    )
    assert ok.status_code == 201, ok.json
    assert buyer_balance(buyer.org.id) == 0


def test_adjusting_publisher_earnings(
    client: FlaskClient, admin: Any, buyer: Any, publisher: Any
) -> None:
    headers = {**admin.headers, "Idempotency-Key": "bonus-1"}
    wrong_role = client.post(
        ADJUST, json=adjustment(buyer.org.id, 800, account="publisher_payable"), headers=headers
    )
    assert wrong_role.status_code == 422 and "organization_id" in wrong_role.json["fields"]
    ok = client.post(
        ADJUST, json=adjustment(publisher.org.id, 800, account="publisher_payable"), headers=headers
    )
    assert ok.status_code == 201, ok.json
    earnings = client.get("/api/v1/billing/earnings", headers=publisher.headers).json
    assert [(e["payable"], e["pending"], e["paid"]) for e in earnings["earnings"]] == [(800, 0, 0)]


# --- top-up refunds ----------------------------------------------------------------------


def paid_topup(client: FlaskClient, buyer: Any, gateway: FakeGateway, amount: int) -> int:
    """A top-up created through the API and credited after the (fake) payment succeeded."""
    created = client.post(
        "/api/v1/billing/topups",
        json={"amount": amount, "currency": "USD"},
        headers={**buyer.headers, "Idempotency-Key": f"topup-{amount}"},
    )
    assert created.status_code == 201, created.json
    gateway.set_status(created.json["payment_intent_id"], "succeeded")
    topup_id = created.json["id"]
    refreshed = client.post(f"/api/v1/billing/topups/{topup_id}/refresh", headers=buyer.headers)
    assert refreshed.status_code == 200
    assert refreshed.json["status"] == "succeeded"
    return int(topup_id)


def refund(client: FlaskClient, admin: Any, topup_id: int, amount: int) -> Any:
    return client.post(
        f"/api/v1/admin/billing/topups/{topup_id}/refunds",
        json={"amount": amount, "note": "Customer asked"},
        headers=admin.headers,
    )


def test_refunds_never_exceed_the_top_up(
    client: FlaskClient, admin: Any, buyer: Any, fake_gateway: FakeGateway
) -> None:
    topup_id = paid_topup(client, buyer, fake_gateway, 5000)
    assert buyer_balance(buyer.org.id) == 5000

    first = refund(client, admin, topup_id, 2000)
    assert first.status_code == 201, first.json
    assert first.json["topup_id"] == topup_id
    assert first.json["amount"] == 2000
    assert first.json["gateway_refund_id"] == fake_gateway.refunds[0]["id"]

    too_much = refund(client, admin, topup_id, 3001)
    assert too_much.status_code == 409
    assert too_much.json["error"] == "refund_exceeds_charge"
    assert too_much.json["fields"] == {"amount": ["At most 3000."]}

    rest = refund(client, admin, topup_id, 3000)
    assert rest.status_code == 201, rest.json

    # The fake gateway would refund again; our own rows say the top-up is used up.
    after = refund(client, admin, topup_id, 1)
    assert after.status_code == 409
    assert after.json["error"] == "refund_exceeds_charge"

    assert [r["amount"] for r in fake_gateway.refunds] == [2000, 3000]
    assert sum(r["amount"] for r in fake_gateway.refunds) == 5000
    assert buyer_balance(buyer.org.id) == 0
    shown = client.get(f"/api/v1/billing/topups/{topup_id}", headers=buyer.headers).json
    assert shown["refunded_amount"] == 5000
    assert entries(EntryKind.TOPUP_REFUND) == 2
    refunded = list(
        db.session.scalars(select(JournalEntry).where(JournalEntry.kind == EntryKind.TOPUP_REFUND))
    )
    topup = db.session.get(TopUp, topup_id)
    assert topup is not None and {e.reverses_id for e in refunded} == {topup.entry_id}
    events = audit("billing.topup_refunded")
    assert [e.data["amount"] for e in events] == [2000, 3000]


def test_a_refund_cannot_take_more_than_the_balance_left(
    client: FlaskClient, admin: Any, buyer: Any, publisher: Any, fake_gateway: FakeGateway
) -> None:
    topup_id = paid_topup(client, buyer, fake_gateway, 5000)
    buy("sale:1", buyer.org.id, 3000, publisher.org.id)
    assert buyer_balance(buyer.org.id) == 2000

    response = refund(client, admin, topup_id, 2500)
    assert response.status_code == 402
    assert response.json["error"] == "insufficient_funds"
    assert fake_gateway.refunds == []
    assert "refund" not in fake_gateway.calls
    assert buyer_balance(buyer.org.id) == 2000
    shown = client.get(f"/api/v1/billing/topups/{topup_id}", headers=buyer.headers).json
    assert shown["refunded_amount"] == 0
    assert entries(EntryKind.TOPUP_REFUND) == 0
    assert audit("billing.topup_refunded") == []

    ok = refund(client, admin, topup_id, 2000)
    assert ok.status_code == 201, ok.json
    assert [r["amount"] for r in fake_gateway.refunds] == [2000]
    assert buyer_balance(buyer.org.id) == 0


def test_refund_refusals(
    client: FlaskClient, admin: Any, buyer: Any, fake_gateway: FakeGateway
) -> None:
    pending = client.post(
        "/api/v1/billing/topups", json={"amount": 1000, "currency": "USD"}, headers=buyer.headers
    )
    assert pending.status_code == 201
    not_paid = refund(client, admin, pending.json["id"], 100)
    assert not_paid.status_code == 409
    assert not_paid.json["error"] == "not_refundable"
    assert refund(client, admin, 424242, 100).status_code == 404

    topup_id = paid_topup(client, buyer, fake_gateway, 1000)
    by_buyer = client.post(
        f"/api/v1/admin/billing/topups/{topup_id}/refunds",
        json={"amount": 100, "note": "mine"},
        headers=buyer.headers,
    )
    assert by_buyer.status_code == 403
    no_note = client.post(
        f"/api/v1/admin/billing/topups/{topup_id}/refunds",
        json={"amount": 100},
        headers=admin.headers,
    )
    assert no_note.status_code == 422 and "note" in no_note.json["fields"]
    zero = refund(client, admin, topup_id, 0)
    assert zero.status_code == 422 and "amount" in zero.json["fields"]
    assert fake_gateway.refunds == []
    assert buyer_balance(buyer.org.id) == 1000


# --- the check ---------------------------------------------------------------------------


def test_check_reports_balanced_books(
    client: FlaskClient, admin: Any, buyer: Any, publisher: Any
) -> None:
    fund(buyer.org.id, 5000)
    buy("sale:1", buyer.org.id, 1000, publisher.org.id)
    response = client.get("/api/v1/admin/billing/check", headers=admin.headers)
    assert response.status_code == 200
    assert response.json == {
        "ok": True,
        "entries": 2,
        "postings": 5,
        "accounts": 4,
        "problems": [],
    }
    assert client.get("/api/v1/admin/billing/check", headers=buyer.headers).status_code == 403


def test_admin_endpoints_refuse_non_admin_roles(
    client: FlaskClient, make_account: Any, buyer: Any
) -> None:
    publisher = make_account(Role.PUBLISHER)
    for account in (buyer, publisher):
        assert client.get("/api/v1/admin/billing/check", headers=account.headers).status_code == 403


def test_credit_is_never_refunded_to_a_card(
    client: FlaskClient, admin: Any, buyer: Any, fake_gateway: FakeGateway
) -> None:
    topup_id = paid_topup(client, buyer, fake_gateway, 5000)
    granted = client.post(
        "/api/v1/admin/billing/credit",
        json={
            "organization_id": buyer.org.id,
            "currency": "USD",
            "credit_limit": 10_000,
            "note": "Net-30 terms",
        },
        headers=admin.headers,
    )
    assert granted.status_code == 200, granted.json
    buy("sale:credit", buyer.org.id, 4000)
    assert buyer_balance(buyer.org.id) == 1000

    # Only the 1,000 of the buyer's own money may go back, though the floor is -10,000.
    refused = refund(client, admin, topup_id, 1001)
    assert refused.status_code == 402
    assert refused.json["fields"] == {"amount": ["At most 1000."]}
    assert fake_gateway.refunds == []
    assert refund(client, admin, topup_id, 1000).status_code == 201
    assert buyer_balance(buyer.org.id) == 0


def test_an_adjustment_key_reused_with_another_body_is_a_conflict(
    client: FlaskClient, admin: Any, buyer: Any
) -> None:
    headers = {**admin.headers, "Idempotency-Key": "goodwill-7"}
    assert (
        client.post(ADJUST, json=adjustment(buyer.org.id, 700), headers=headers).status_code == 201
    )
    other = client.post(ADJUST, json=adjustment(buyer.org.id, 900), headers=headers)
    assert other.status_code == 409
    assert other.json["error"] == "idempotency_key_reused"
    assert buyer_balance(buyer.org.id) == 700
    assert entries(EntryKind.ADJUSTMENT) == 1
