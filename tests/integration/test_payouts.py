"""`flask billing payouts|release|check` with the fake gateway: who is paid, once, and failures."""

from __future__ import annotations

import datetime as dt
from typing import Any

from click.testing import Result
from flask import Flask
from sqlalchemy import select, update

from billing.charges import charge
from billing.ledger import Leg, balance_of, get_account, post_entry
from billing.models import (
    AccountKind,
    EarningHold,
    EntryKind,
    HoldStatus,
    JournalEntry,
    LedgerAccount,
    Payout,
    PayoutStatus,
)
from billing.payouts import set_payout_destination
from exchange.models import AuditEvent, Role
from extensions import db
from tests.support.fake_gateway import FakeGateway


def run(app: Flask, *args: str) -> Result:
    result = app.test_cli_runner().invoke(args=["billing", *args])
    db.session.expire_all()
    return result


def fund(buyer_id: int, amount: int) -> None:
    post_entry(
        db.session,
        key=f"topup:{buyer_id}",
        kind=EntryKind.TOPUP,
        currency="USD",
        legs=[
            Leg(None, AccountKind.STRIPE_CLEARING, -amount),
            Leg(buyer_id, AccountKind.BUYER_BALANCE, amount),
        ],
    )
    db.session.commit()


def sell(
    key: str, buyer_id: int, publisher_id: int, earned: int, hold: dt.timedelta | None = None
) -> None:
    """A sale of `earned * 2` where the publisher earns `earned` (held for `hold`, or not)."""
    charge(
        db.session,
        key=key,
        kind=EntryKind.SALE,
        buyer_id=buyer_id,
        currency="USD",
        price=earned * 2,
        publisher_id=publisher_id,
        publisher_amount=earned,
        hold_until=dt.datetime.now(dt.UTC) + hold if hold else None,
    )
    db.session.commit()


def payable(org_id: int) -> int:
    return balance_of(db.session, org_id, AccountKind.PUBLISHER_PAYABLE, "USD")


def paid_out(org_id: int) -> int:
    return balance_of(db.session, org_id, AccountKind.PUBLISHER_PAID_OUT, "USD")


def pending(org_id: int) -> int:
    return balance_of(db.session, org_id, AccountKind.PUBLISHER_PENDING, "USD")


def payouts_of(org_id: int) -> list[Payout]:
    stmt = select(Payout).where(Payout.organization_id == org_id).order_by(Payout.id)
    return list(db.session.scalars(stmt))


def with_destination(make_account: Any, destination: str | None) -> Any:
    account = make_account(Role.PUBLISHER)
    if destination:
        set_payout_destination(db.session, account.org.id, destination)
        db.session.commit()
    return account


def test_a_publisher_above_the_minimum_is_paid_once(
    ctx: Flask, make_account: Any, buyer: Any, fake_gateway: FakeGateway
) -> None:
    assert ctx.config["PAYOUT_MINIMUM"] == 50
    fund(buyer.org.id, 100_000)
    publisher = make_account(Role.PUBLISHER)
    # Set through the API with the publisher's own key.
    response = ctx.test_client().put(
        "/api/v1/billing/payout-destination",
        json={"destination": "acct_good1"},
        headers=publisher.headers,
    )
    assert response.status_code == 200, response.json
    sell("sale:1", buyer.org.id, publisher.org.id, 4000)
    sell("sale:2", buyer.org.id, publisher.org.id, 2500)
    assert payable(publisher.org.id) == 6500

    result = run(ctx, "payouts")
    assert result.exit_code == 0, result.output
    assert f"publisher {publisher.org.id}: 65.00 USD paid" in result.output

    [payout] = payouts_of(publisher.org.id)
    assert payout.status == PayoutStatus.PAID
    assert (payout.amount, payout.currency, payout.destination) == (6500, "USD", "acct_good1")
    assert fake_gateway.transfers == [
        {
            "id": payout.transfer_id,
            "amount": 6500,
            "currency": "USD",
            "destination": "acct_good1",
            "key": f"payout:{payout.id}",
        }
    ]
    assert payable(publisher.org.id) == 0
    assert paid_out(publisher.org.id) == 6500
    entry = db.session.get(JournalEntry, payout.entry_id)
    assert entry is not None and entry.kind == EntryKind.PAYOUT
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "billing.payout_paid")
    ).all()
    assert [(e.organization_id, e.data["amount"]) for e in events] == [(publisher.org.id, 6500)]

    again = run(ctx, "payouts")
    assert again.exit_code == 0, again.output
    assert "paid" not in again.output
    assert len(fake_gateway.transfers) == 1
    assert len(payouts_of(publisher.org.id)) == 1
    assert paid_out(publisher.org.id) == 6500

    shown = ctx.test_client().get("/api/v1/billing/earnings", headers=publisher.headers).json
    assert [(e["payable"], e["paid"]) for e in shown["earnings"]] == [(0, 6500)]


def test_the_minimum_is_in_major_units(
    ctx: Flask, make_account: Any, buyer: Any, fake_gateway: FakeGateway
) -> None:
    fund(buyer.org.id, 100_000)
    short = with_destination(make_account, "acct_short")
    exact = with_destination(make_account, "acct_exact")
    sell("sale:short", buyer.org.id, short.org.id, 4999)
    sell("sale:exact", buyer.org.id, exact.org.id, 5000)

    result = run(ctx, "payouts")
    assert result.exit_code == 0, result.output
    assert f"publisher {short.org.id}: 49.99 USD below_minimum" in result.output
    assert [(t["destination"], t["amount"]) for t in fake_gateway.transfers] == [
        ("acct_exact", 5000)
    ]
    assert payouts_of(short.org.id) == []
    assert (payable(short.org.id), paid_out(short.org.id)) == (4999, 0)
    assert (payable(exact.org.id), paid_out(exact.org.id)) == (0, 5000)

    # A lower minimum on the command line pays the smaller balance too.
    lower = run(ctx, "payouts", "--minimum", "40")
    assert lower.exit_code == 0, lower.output
    assert [t["amount"] for t in fake_gateway.transfers] == [5000, 4999]
    assert (payable(short.org.id), paid_out(short.org.id)) == (0, 4999)


def test_held_earnings_wait_for_their_release(
    ctx: Flask, make_account: Any, buyer: Any, fake_gateway: FakeGateway
) -> None:
    fund(buyer.org.id, 100_000)
    publisher = with_destination(make_account, "acct_held")
    sell("sale:held", buyer.org.id, publisher.org.id, 8000, hold=dt.timedelta(days=14))
    assert (pending(publisher.org.id), payable(publisher.org.id)) == (8000, 0)

    result = run(ctx, "payouts")
    assert result.exit_code == 0, result.output
    assert "Released 0 held earning(s)." in result.output
    assert fake_gateway.transfers == []
    assert payouts_of(publisher.org.id) == []
    assert (pending(publisher.org.id), payable(publisher.org.id)) == (8000, 0)

    # The return window closes: the next run releases the hold, then pays it.
    db.session.execute(
        update(EarningHold).values(release_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    )
    db.session.commit()
    result = run(ctx, "payouts")
    assert result.exit_code == 0, result.output
    assert "Released 1 held earning(s)." in result.output
    assert [t["amount"] for t in fake_gateway.transfers] == [8000]
    assert (pending(publisher.org.id), payable(publisher.org.id)) == (0, 0)
    assert paid_out(publisher.org.id) == 8000


def test_a_publisher_without_destination_is_skipped(
    ctx: Flask, make_account: Any, buyer: Any, fake_gateway: FakeGateway
) -> None:
    fund(buyer.org.id, 100_000)
    nowhere = with_destination(make_account, None)
    somewhere = with_destination(make_account, "acct_there")
    sell("sale:nowhere", buyer.org.id, nowhere.org.id, 9000)
    sell("sale:somewhere", buyer.org.id, somewhere.org.id, 6000)

    result = run(ctx, "payouts")
    assert result.exit_code == 0, result.output
    assert f"publisher {nowhere.org.id}: 90.00 USD no_destination" in result.output
    assert [(t["destination"], t["amount"]) for t in fake_gateway.transfers] == [
        ("acct_there", 6000)
    ]
    assert payouts_of(nowhere.org.id) == []
    assert (payable(nowhere.org.id), paid_out(nowhere.org.id)) == (9000, 0)


def test_a_refused_transfer_is_reversed_and_fails_the_run(
    ctx: Flask, make_account: Any, buyer: Any, fake_gateway: FakeGateway
) -> None:
    fund(buyer.org.id, 100_000)
    broken = with_destination(make_account, "acct_broken")
    fine = with_destination(make_account, "acct_fine")
    fake_gateway.failing_destinations.add("acct_broken")
    sell("sale:broken", buyer.org.id, broken.org.id, 7000)
    sell("sale:fine", buyer.org.id, fine.org.id, 6000)

    result = run(ctx, "payouts")
    assert result.exit_code == 1, result.output
    assert f"publisher {broken.org.id}: 70.00 USD failed" in result.output
    # The failure does not stop the others being paid.
    assert f"publisher {fine.org.id}: 60.00 USD paid" in result.output
    assert [(t["destination"], t["amount"]) for t in fake_gateway.transfers] == [
        ("acct_fine", 6000)
    ]

    [payout] = payouts_of(broken.org.id)
    assert payout.status == PayoutStatus.FAILED
    assert payout.transfer_id is None
    assert payout.failure_message == "Transfers to acct_broken are not possible."
    original = db.session.get(JournalEntry, payout.entry_id)
    reversal = db.session.get(JournalEntry, payout.reversal_entry_id)
    assert original is not None and original.kind == EntryKind.PAYOUT
    assert reversal is not None and reversal.kind == EntryKind.PAYOUT_FAILED
    assert reversal.reverses_id == original.id
    assert sorted((p.account.kind, p.amount) for p in reversal.postings) == sorted(
        [(AccountKind.PUBLISHER_PAYABLE, 7000), (AccountKind.PUBLISHER_PAID_OUT, -7000)]
    )
    assert (payable(broken.org.id), paid_out(broken.org.id)) == (7000, 0)
    assert (payable(fine.org.id), paid_out(fine.org.id)) == (0, 6000)
    failed_events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "billing.payout_failed")
    ).all()
    assert [(e.organization_id, e.target_id) for e in failed_events] == [
        (broken.org.id, str(payout.id))
    ]

    # Once the destination works, the next run pays it under a new payout (and key).
    fake_gateway.failing_destinations.clear()
    retry = run(ctx, "payouts")
    assert retry.exit_code == 0, retry.output
    first, second = payouts_of(broken.org.id)
    assert (first.status, second.status) == (PayoutStatus.FAILED, PayoutStatus.PAID)
    assert fake_gateway.transfers[-1]["key"] == f"payout:{second.id}"
    assert (payable(broken.org.id), paid_out(broken.org.id)) == (0, 7000)


def test_check_exits_one_on_a_tampered_balance(ctx: Flask, buyer: Any, publisher: Any) -> None:
    fund(buyer.org.id, 10_000)
    sell("sale:1", buyer.org.id, publisher.org.id, 1000)

    good = run(ctx, "check")
    assert good.exit_code == 0, good.output
    assert "2 entries, 5 postings, 4 accounts" in good.output
    assert "The books balance." in good.output

    account = get_account(db.session, buyer.org.id, AccountKind.BUYER_BALANCE, "USD")
    assert account is not None
    account_id, code = account.id, account.code
    db.session.execute(
        update(LedgerAccount)
        .where(LedgerAccount.id == account_id)
        .values(balance=LedgerAccount.balance + 1)
    )
    db.session.commit()
    try:
        bad = run(ctx, "check")
        assert bad.exit_code == 1, bad.output
        assert f"account {code}: cached balance 8001 != postings 8000" in bad.output
        assert "The books balance." not in bad.output
    finally:
        db.session.execute(
            update(LedgerAccount)
            .where(LedgerAccount.id == account_id)
            .values(balance=LedgerAccount.balance - 1)
        )
        db.session.commit()
    assert run(ctx, "check").exit_code == 0


def test_release_makes_due_holds_payable(ctx: Flask, buyer: Any, publisher: Any) -> None:
    fund(buyer.org.id, 10_000)
    sell("sale:due", buyer.org.id, publisher.org.id, 1200, hold=dt.timedelta(days=14))
    sell("sale:later", buyer.org.id, publisher.org.id, 300, hold=dt.timedelta(days=30))
    due = db.session.scalars(select(EarningHold).where(EarningHold.amount == 1200)).one()
    due.release_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    db.session.commit()

    result = run(ctx, "release")
    assert result.exit_code == 0, result.output
    assert "Released 1 held earning(s)." in result.output
    assert (pending(publisher.org.id), payable(publisher.org.id)) == (300, 1200)
    holds = {h.amount: h for h in db.session.scalars(select(EarningHold))}
    assert holds[1200].status == HoldStatus.RELEASED
    assert holds[1200].released_entry_id is not None
    assert holds[300].status == HoldStatus.HELD

    again = run(ctx, "release")
    assert "Released 0 held earning(s)." in again.output
    assert (pending(publisher.org.id), payable(publisher.org.id)) == (300, 1200)


def test_payouts_need_a_gateway(ctx: Flask) -> None:
    result = run(ctx, "payouts")
    assert result.exit_code == 1
    assert "No payment gateway" in result.output
