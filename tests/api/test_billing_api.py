"""The buyer's and publisher's money API: balance, ledger, statements, earnings, payouts."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from billing.charges import charge, release_due_earnings
from billing.ledger import balance_of
from billing.models import AccountKind, EntryKind, LedgerAccount, Posting
from billing.payouts import pay_account, set_payout_destination
from exchange.models import Role
from extensions import db
from tests.support.fake_gateway import FakeGateway
from tests.support.money import fund

LEDGER_COLUMNS = [
    "id",
    "entry_id",
    "created_at",
    "kind",
    "account",
    "currency",
    "amount",
    "reference_type",
    "reference_id",
    "memo",
]


def sell(
    key: str,
    buyer_id: int,
    publisher_id: int,
    *,
    price: int = 1000,
    publisher_amount: int = 700,
    hold_days: int | None = 14,
) -> None:
    hold_until = None
    if hold_days is not None:
        hold_until = dt.datetime.now(dt.UTC) + dt.timedelta(days=hold_days)
    charge(
        db.session,
        key=key,
        kind=EntryKind.SALE,
        buyer_id=buyer_id,
        currency="USD",
        price=price,
        publisher_id=publisher_id,
        publisher_amount=publisher_amount,
        hold_until=hold_until,
    )
    db.session.commit()


def posting_ids(org_id: int, currency: str | None = None) -> list[int]:
    """Every posting on the organisation's accounts, newest first (straight from the table)."""
    stmt = (
        select(Posting.id)
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where(LedgerAccount.organization_id == org_id)
        .order_by(Posting.id.desc())
    )
    if currency:
        stmt = stmt.where(Posting.currency == currency)
    return list(db.session.scalars(stmt))


def read_csv(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


# --- balance -----------------------------------------------------------------------------


def test_balance_is_empty_before_any_money(client: FlaskClient, buyer: Any) -> None:
    response = client.get("/api/v1/billing/balance", headers=buyer.headers)
    assert response.status_code == 200, response.json
    assert response.json == {
        "balances": [],
        "card": None,
        "auto_topup": {"enabled": False},
    }


def test_balance_is_for_buyers_only(client: FlaskClient, publisher: Any, admin: Any) -> None:
    for account in (publisher, admin):
        response = client.get("/api/v1/billing/balance", headers=account.headers)
        assert response.status_code == 403
        assert response.json["error"] == "forbidden"
    assert client.get("/api/v1/billing/balance").status_code == 401


def test_balance_shows_each_currency_with_its_own_decimals(client: FlaskClient, buyer: Any) -> None:
    fund(buyer.org.id, 12345, key="topup:usd")
    fund(buyer.org.id, 50000, key="topup:vnd", currency="VND")
    response = client.get("/api/v1/billing/balance", headers=buyer.headers)
    assert response.status_code == 200
    assert response.json["balances"] == [
        {
            "currency": "USD",
            "balance": 12345,
            "credit_limit": 0,
            "available": 12345,
            "display": "123.45 USD",
        },
        {
            "currency": "VND",
            "balance": 50000,
            "credit_limit": 0,
            "available": 50000,
            "display": "50,000 VND",
        },
    ]


# --- ledger ------------------------------------------------------------------------------


def test_ledger_shows_only_the_callers_lines_newest_first(
    client: FlaskClient, buyer: Any, make_account: Any, publisher: Any
) -> None:
    other = make_account(Role.BUYER)
    fund(buyer.org.id, 5000, key="topup:a1")
    fund(other.org.id, 7777, key="topup:b1")
    sell("sale:a1", buyer.org.id, publisher.org.id, price=1200, publisher_amount=800)
    sell("sale:b1", other.org.id, publisher.org.id, price=999, publisher_amount=500)
    fund(buyer.org.id, 300, key="topup:a2")

    response = client.get("/api/v1/billing/ledger", headers=buyer.headers)
    assert response.status_code == 200, response.json
    items = response.json["items"]
    assert response.json["next_cursor"] is None
    assert [i["id"] for i in items] == posting_ids(buyer.org.id)
    assert [(i["kind"], i["account"], i["amount"]) for i in items] == [
        ("topup", "buyer_balance", 300),
        ("sale", "buyer_balance", -1200),
        ("topup", "buyer_balance", 5000),
    ]
    other_ids = set(posting_ids(other.org.id))
    assert other_ids and not other_ids & {i["id"] for i in items}
    assert 7777 not in [i["amount"] for i in items]

    # The other buyer sees theirs, and the publisher sees its earnings from both sales.
    theirs = client.get("/api/v1/billing/ledger", headers=other.headers).json["items"]
    assert [i["amount"] for i in theirs] == [-999, 7777]
    earned = client.get("/api/v1/billing/ledger", headers=publisher.headers).json["items"]
    assert [(i["account"], i["amount"]) for i in earned] == [
        ("publisher_pending", 500),
        ("publisher_pending", 800),
    ]


def test_ledger_pages_with_a_cursor_without_duplicates(client: FlaskClient, buyer: Any) -> None:
    for n in range(5):
        fund(buyer.org.id, 100 + n, key=f"topup:{n}")
    expected = posting_ids(buyer.org.id)
    assert len(expected) == 5

    seen: list[int] = []
    pages = 0
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        response = client.get("/api/v1/billing/ledger", headers=buyer.headers, query_string=params)
        assert response.status_code == 200, response.json
        pages += 1
        assert len(response.json["items"]) <= 2
        seen += [i["id"] for i in response.json["items"]]
        cursor = response.json["next_cursor"]
        if cursor is None:
            break
        assert pages < 10
    assert pages == 3
    assert seen == expected
    assert len(set(seen)) == len(seen)


def test_ledger_filters_by_currency(client: FlaskClient, buyer: Any) -> None:
    fund(buyer.org.id, 1000, key="topup:usd")
    fund(buyer.org.id, 200000, key="topup:vnd", currency="VND")
    fund(buyer.org.id, 2500, key="topup:eur", currency="EUR")

    response = client.get("/api/v1/billing/ledger?currency=vnd", headers=buyer.headers)
    assert response.status_code == 200
    assert [(i["currency"], i["amount"]) for i in response.json["items"]] == [("VND", 200000)]
    everything = client.get("/api/v1/billing/ledger", headers=buyer.headers).json["items"]
    assert len(everything) == 3

    bad = client.get("/api/v1/billing/ledger?currency=US", headers=buyer.headers)
    assert bad.status_code == 422
    assert "currency" in bad.json["fields"]


def test_ledger_csv_has_a_header_and_a_row_per_line(
    client: FlaskClient, buyer: Any, publisher: Any
) -> None:
    fund(buyer.org.id, 5000, key="topup:1")
    sell("sale:1", buyer.org.id, publisher.org.id, price=1500, publisher_amount=1000)
    fund(buyer.org.id, 250, key="topup:2")

    response = client.get("/api/v1/billing/ledger?format=csv", headers=buyer.headers)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "ledger.csv" in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0] == LEDGER_COLUMNS
    body = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert len(body) == 3
    assert sorted(int(r["id"]) for r in body) == sorted(posting_ids(buyer.org.id))
    assert sorted((r["kind"], int(r["amount"])) for r in body) == [
        ("sale", -1500),
        ("topup", 250),
        ("topup", 5000),
    ]
    assert {r["currency"] for r in body} == {"USD"}


def test_ledger_refuses_unknown_query_parameters(client: FlaskClient, buyer: Any) -> None:
    response = client.get("/api/v1/billing/ledger?curency=USD", headers=buyer.headers)
    assert response.status_code == 422
    assert response.json["error"] == "validation_error"
    assert "curency" in response.json["fields"]
    bad_format = client.get("/api/v1/billing/ledger?format=xml", headers=buyer.headers)
    assert bad_format.status_code == 422
    assert "format" in bad_format.json["fields"]


def test_ledger_needs_a_buyer_or_publisher_key(client: FlaskClient, admin: Any) -> None:
    assert client.get("/api/v1/billing/ledger", headers=admin.headers).status_code == 403


# --- statements --------------------------------------------------------------------------


def this_month() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m")


def test_statement_for_this_month(client: FlaskClient, buyer: Any, publisher: Any) -> None:
    fund(buyer.org.id, 5000, key="topup:1")
    sell("sale:1", buyer.org.id, publisher.org.id, price=1200, publisher_amount=800)
    fund(buyer.org.id, 300, key="topup:2")
    period = this_month()

    response = client.get(f"/api/v1/billing/statements/{period}", headers=buyer.headers)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["period"] == period
    assert body["currency"] == "USD"
    assert body["start"].startswith(f"{period}-01T00:00:00")
    assert body["accounts"] == [
        {
            "account": "buyer_balance",
            "opening_balance": 0,
            "money_in": 5300,
            "money_out": 1200,
            "closing_balance": 4100,
        }
    ]
    assert [(line["kind"], line["amount"], line["balance_after"]) for line in body["lines"]] == [
        ("topup", 5000, 5000),
        ("sale", -1200, 3800),
        ("topup", 300, 4100),
    ]
    assert balance_of(db.session, buyer.org.id, AccountKind.BUYER_BALANCE, "USD") == 4100

    # The publisher's statement shows its own earnings only, per account: released earnings
    # leave pending and arrive in payable.
    release_due_earnings(db.session, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=15))
    db.session.commit()
    earned = client.get(f"/api/v1/billing/statements/{period}", headers=publisher.headers).json
    assert earned["accounts"] == [
        {
            "account": "publisher_payable",
            "opening_balance": 0,
            "money_in": 800,
            "money_out": 0,
            "closing_balance": 800,
        },
        {
            "account": "publisher_pending",
            "opening_balance": 0,
            "money_in": 800,
            "money_out": 800,
            "closing_balance": 0,
        },
    ]
    assert [
        (line["account"], line["amount"], line["balance_after"]) for line in earned["lines"]
    ] == [
        ("publisher_pending", 800, 800),
        ("publisher_pending", -800, 0),
        ("publisher_payable", 800, 800),
    ]


def test_statements_carry_the_balance_between_months(client: FlaskClient, buyer: Any) -> None:
    # Activity in an earlier month, then none in the month after, then some now.
    earlier = dt.datetime(2025, 3, 15, 12, 0, tzinfo=dt.UTC)
    fund(buyer.org.id, 10000, key="topup:march", at=earlier)
    fund(
        buyer.org.id,
        2000,
        key="topup:march-last",
        at=dt.datetime(2025, 3, 31, 23, 59, tzinfo=dt.UTC),
    )
    fund(buyer.org.id, 700, key="topup:now")

    march = client.get("/api/v1/billing/statements/2025-03", headers=buyer.headers).json
    assert march["accounts"][0] == {
        "account": "buyer_balance",
        "opening_balance": 0,
        "money_in": 12000,
        "money_out": 0,
        "closing_balance": 12000,
    }
    assert [line["balance_after"] for line in march["lines"]] == [10000, 12000]

    # The month after the activity: nothing moved, the balance carries over unchanged.
    april = client.get("/api/v1/billing/statements/2025-04", headers=buyer.headers).json
    assert april["accounts"][0] == {
        "account": "buyer_balance",
        "opening_balance": 12000,
        "money_in": 0,
        "money_out": 0,
        "closing_balance": 12000,
    }
    assert april["lines"] == []

    # A day statement for the earlier activity covers that day only.
    day = client.get("/api/v1/billing/statements/2025-03-15", headers=buyer.headers).json
    assert [line["amount"] for line in day["lines"]] == [10000]
    assert day["accounts"][0]["closing_balance"] == 10000

    now = client.get(f"/api/v1/billing/statements/{this_month()}", headers=buyer.headers).json
    assert now["accounts"][0] == {
        "account": "buyer_balance",
        "opening_balance": 12000,
        "money_in": 700,
        "money_out": 0,
        "closing_balance": 12700,
    }
    assert [line["balance_after"] for line in now["lines"]] == [12700]


def test_statement_in_another_currency_and_without_accounts(
    client: FlaskClient, buyer: Any
) -> None:
    fund(buyer.org.id, 1000, key="topup:usd")
    fund(buyer.org.id, 90000, key="topup:vnd", currency="VND")
    vnd = client.get(
        f"/api/v1/billing/statements/{this_month()}?currency=VND", headers=buyer.headers
    ).json
    assert vnd["currency"] == "VND"
    assert vnd["accounts"][0]["closing_balance"] == 90000
    assert [line["amount"] for line in vnd["lines"]] == [90000]
    eur = client.get(
        f"/api/v1/billing/statements/{this_month()}?currency=EUR", headers=buyer.headers
    ).json
    assert eur["accounts"] == [] and eur["lines"] == []


def test_statement_refuses_a_bad_period(client: FlaskClient, buyer: Any) -> None:
    for period in ("2026-13", "abc", "2026-02-30", "2026-1"):
        response = client.get(f"/api/v1/billing/statements/{period}", headers=buyer.headers)
        assert response.status_code == 422, period
        assert "period" in response.json["fields"], period
    unknown = client.get(f"/api/v1/billing/statements/{this_month()}?x=1", headers=buyer.headers)
    assert unknown.status_code == 422


def test_statement_csv(client: FlaskClient, buyer: Any, publisher: Any) -> None:
    fund(buyer.org.id, 5000, key="topup:1")
    sell("sale:1", buyer.org.id, publisher.org.id, price=1200, publisher_amount=800)
    period = this_month()
    response = client.get(f"/api/v1/billing/statements/{period}?format=csv", headers=buyer.headers)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert f"statement-{period}.csv" in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0] == [*LEDGER_COLUMNS, "balance_after"]
    body = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [(r["kind"], int(r["amount"]), int(r["balance_after"])) for r in body] == [
        ("topup", 5000, 5000),
        ("sale", -1200, 3800),
    ]


# --- earnings and payouts ----------------------------------------------------------------


def earnings_row(client: FlaskClient, publisher: Any) -> dict[str, Any]:
    response = client.get("/api/v1/billing/earnings", headers=publisher.headers)
    assert response.status_code == 200, response.json
    rows = response.json["earnings"]
    assert len(rows) == 1
    return rows[0]  # type: ignore[no-any-return]


def test_earnings_move_from_pending_to_payable_to_paid(
    client: FlaskClient, buyer: Any, publisher: Any, fake_gateway: FakeGateway
) -> None:
    assert client.get("/api/v1/billing/earnings", headers=publisher.headers).json == {
        "earnings": [],
        "payout_destination": None,
    }
    fund(buyer.org.id, 10000, key="topup:1")
    sell("sale:1", buyer.org.id, publisher.org.id, price=1000, publisher_amount=700, hold_days=14)
    sell("sale:2", buyer.org.id, publisher.org.id, price=500, publisher_amount=300, hold_days=30)

    row = earnings_row(client, publisher)
    assert (row["currency"], row["pending"], row["payable"], row["paid"]) == ("USD", 1000, 0, 0)
    next_release = dt.datetime.fromisoformat(row["next_release_at"])
    expected = dt.datetime.now(dt.UTC) + dt.timedelta(days=14)
    assert abs(next_release - expected) < dt.timedelta(minutes=5)

    # The first window closes: its 700 become payable; the second is still held.
    released = release_due_earnings(db.session, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=15))
    db.session.commit()
    assert released == 1
    row = earnings_row(client, publisher)
    assert (row["pending"], row["payable"], row["paid"]) == (300, 700, 0)
    assert row["next_release_at"] is not None

    release_due_earnings(db.session, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=31))
    db.session.commit()
    row = earnings_row(client, publisher)
    assert (row["pending"], row["payable"], row["paid"], row["next_release_at"]) == (
        0,
        1000,
        0,
        None,
    )

    set_payout_destination(db.session, publisher.org.id, "acct_pub1")
    db.session.commit()
    account = db.session.scalar(
        select(LedgerAccount).where(
            LedgerAccount.organization_id == publisher.org.id,
            LedgerAccount.kind == AccountKind.PUBLISHER_PAYABLE,
        )
    )
    assert account is not None
    result = pay_account(db.session, fake_gateway, account.id, minimum_major=5)
    db.session.commit()
    assert result.outcome == "paid"
    assert [t["amount"] for t in fake_gateway.transfers] == [1000]

    response = client.get("/api/v1/billing/earnings", headers=publisher.headers)
    assert response.json["payout_destination"] == "acct_pub1"
    row = response.json["earnings"][0]
    assert (row["pending"], row["payable"], row["paid"]) == (0, 0, 1000)

    payouts = client.get("/api/v1/billing/payouts", headers=publisher.headers).json
    assert [(p["amount"], p["status"]) for p in payouts["items"]] == [(1000, "paid")]
    assert payouts["items"][0]["transfer_id"] == fake_gateway.transfers[0]["id"]


def test_earnings_are_for_publishers_only(client: FlaskClient, buyer: Any, admin: Any) -> None:
    for account in (buyer, admin):
        response = client.get("/api/v1/billing/earnings", headers=account.headers)
        assert response.status_code == 403
        assert response.json["error"] == "forbidden"
    assert client.get("/api/v1/billing/payouts", headers=buyer.headers).status_code == 403


def test_payout_destination_must_be_a_stripe_account(
    client: FlaskClient, publisher: Any, buyer: Any
) -> None:
    url = "/api/v1/billing/payout-destination"
    for bad in ("ba_123", "acct_", "acct_12-34", " acct_123", "ACCT_123", "", 12):
        response = client.put(url, json={"destination": bad}, headers=publisher.headers)
        assert response.status_code == 422, bad
        assert "destination" in response.json["fields"], bad
    missing = client.put(url, json={}, headers=publisher.headers)
    assert missing.status_code == 422 and "destination" in missing.json["fields"]
    extra = client.put(url, json={"destination": "acct_1", "bank": "x"}, headers=publisher.headers)
    assert extra.status_code == 422 and "bank" in extra.json["fields"]
    assert client.put(url, json={"destination": "acct_1"}, headers=buyer.headers).status_code == 403
    assert (
        client.get("/api/v1/billing/earnings", headers=publisher.headers).json["payout_destination"]
        is None
    )

    ok = client.put(url, json={"destination": "acct_1AbC23"}, headers=publisher.headers)
    assert ok.status_code == 200, ok.json
    assert ok.json == {"earnings": [], "payout_destination": "acct_1AbC23"}
    shown = client.get("/api/v1/billing/earnings", headers=publisher.headers).json
    assert shown["payout_destination"] == "acct_1AbC23"

    removed = client.put(url, json={"destination": None}, headers=publisher.headers)
    assert removed.status_code == 200
    assert removed.json["payout_destination"] is None
    shown = client.get("/api/v1/billing/earnings", headers=publisher.headers).json
    assert shown["payout_destination"] is None


def test_topups_list_pages_newest_first(
    client: FlaskClient, buyer: Any, make_account: Any, fake_gateway: FakeGateway
) -> None:
    other = make_account(Role.BUYER)
    made = []
    for n, amount in enumerate((1000, 2000, 3000)):
        response = client.post(
            "/api/v1/billing/topups",
            json={"amount": amount, "currency": "USD"},
            headers={**buyer.headers, "Idempotency-Key": f"list-{n}"},
        )
        assert response.status_code == 201, response.json
        made.append(response.json["id"])
    client.post(
        "/api/v1/billing/topups",
        json={"amount": 999, "currency": "USD"},
        headers=other.headers,
    )

    # No cursor on the first page: the list must work without one.
    first = client.get("/api/v1/billing/topups?limit=2", headers=buyer.headers)
    assert first.status_code == 200, first.json
    assert [t["amount"] for t in first.json["items"]] == [3000, 2000]
    second = client.get(
        "/api/v1/billing/topups",
        headers=buyer.headers,
        query_string={"limit": 2, "cursor": first.json["next_cursor"]},
    )
    assert [t["id"] for t in second.json["items"]] == [made[0]]
    assert second.json["next_cursor"] is None
    assert all(t["status"] == "pending" for t in first.json["items"])
