"""Money under concurrent writers: threads, each with its own session, against the real database.

On Postgres the accounts are locked with SELECT ... FOR UPDATE in id order; on SQLite every
write transaction begins IMMEDIATE and waits (busy_timeout) for the one before it. The same
tests hold on both: no lost update, no double spend, one entry per idempotency key.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from billing.charges import charge, refund_charge, refunded_so_far, release_due_earnings
from billing.checks import check_books
from billing.ledger import Leg, Posted, balance_of, post_entry
from billing.models import AccountKind, EarningHold, EntryKind, HoldStatus, JournalEntry
from database import utcnow
from errors import Conflict, PaymentRequired
from extensions import db
from tests.conftest import Account

USD = "USD"
BUYER = AccountKind.BUYER_BALANCE
PENDING = AccountKind.PUBLISHER_PENDING
PAYABLE = AccountKind.PUBLISHER_PAYABLE
REVENUE = AccountKind.PLATFORM_REVENUE
CLEARING = AccountKind.STRIPE_CLEARING


def together(app: Flask, n: int, work: Callable[[int], Any]) -> list[tuple[str, Any]]:
    """Run `work(i)` in n threads released at once, each in its own app context (and so its
    own session), committing on success and rolling back on an expected refusal.

    Returns ("ok", (entry id, replayed)) for a posted entry, ("ok", value) for any other
    value, or (error class name, error code) per thread; anything else (a
    deadlock, a lost lock, a broken constraint) is raised here and fails the test."""
    # The test's own session must not hold a transaction: on SQLite even a read began
    # IMMEDIATE and would keep every thread waiting for the write lock.
    db.session.commit()
    barrier = threading.Barrier(n)

    def run(i: int) -> tuple[str, Any]:
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                value = work(i)
                result = (value.entry.id, value.replayed) if isinstance(value, Posted) else value
                db.session.commit()
                return "ok", result
            except (PaymentRequired, Conflict) as exc:
                db.session.rollback()
                return type(exc).__name__, exc.code

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def topup(org_id: int, amount: int, key: str) -> JournalEntry:
    posted = post_entry(
        db.session,
        key=key,
        kind=EntryKind.TOPUP,
        currency=USD,
        legs=[Leg(None, CLEARING, -amount), Leg(org_id, BUYER, amount)],
    )
    db.session.commit()
    return posted.entry


def fresh_balance(org_id: int | None, kind: AccountKind) -> int:
    db.session.rollback()  # a new transaction: see what the threads committed
    return balance_of(db.session, org_id, kind, USD)


def entries_of(kind: EntryKind) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).where(JournalEntry.kind == kind)) or 0


def books_ok() -> None:
    db.session.rollback()
    books = check_books(db.session)
    db.session.rollback()
    assert books.ok, books.problems


def test_32_buyers_threads_spend_a_balance_that_covers_10_charges(
    ctx: Flask, buyer: Account, publisher: Account
) -> None:
    price, share = 700, 450
    topup(buyer.org.id, 10 * price, "topup:1")
    buyer_id, publisher_id = buyer.org.id, publisher.org.id

    def buy(i: int) -> Posted:
        return charge(
            db.session,
            key=f"sale:{i}",
            kind=EntryKind.SALE,
            buyer_id=buyer_id,
            currency=USD,
            price=price,
            publisher_id=publisher_id,
            publisher_amount=share,
        )

    results = together(ctx, 32, buy)
    outcomes = Counter(outcome for outcome, _ in results)
    assert outcomes == {"ok": 10, "PaymentRequired": 22}
    assert {detail for outcome, detail in results if outcome != "ok"} == {"insufficient_funds"}
    assert all(detail[1] is False for outcome, detail in results if outcome == "ok")
    assert fresh_balance(buyer_id, BUYER) == 0
    assert fresh_balance(None, REVENUE) == 10 * (price - share)
    assert fresh_balance(publisher_id, PAYABLE) == 10 * share
    assert entries_of(EntryKind.SALE) == 10
    books_ok()


def test_16_threads_posting_one_key_write_one_entry_and_move_money_once(
    ctx: Flask, buyer: Account
) -> None:
    buyer_id = buyer.org.id

    # No account exists yet: the threads also race to create them.
    def credit(_: int) -> Posted:
        return post_entry(
            db.session,
            key="topup:pi_123",
            kind=EntryKind.TOPUP,
            currency=USD,
            legs=[Leg(None, CLEARING, -5_000), Leg(buyer_id, BUYER, 5_000)],
        )

    results = together(ctx, 16, credit)
    assert all(outcome == "ok" for outcome, _ in results), results
    assert len({entry_id for _, (entry_id, _) in results}) == 1
    assert sorted(replayed for _, (_, replayed) in results) == [False] + [True] * 15
    assert fresh_balance(buyer_id, BUYER) == 5_000
    assert fresh_balance(None, CLEARING) == -5_000
    assert entries_of(EntryKind.TOPUP) == 1
    books_ok()


def test_16_threads_charging_one_key_charge_once(
    ctx: Flask, buyer: Account, publisher: Account
) -> None:
    topup(buyer.org.id, 1_000, "topup:1")
    buyer_id, publisher_id = buyer.org.id, publisher.org.id

    def buy(_: int) -> Posted:
        return charge(
            db.session,
            key="sale:lead-7",
            kind=EntryKind.SALE,
            buyer_id=buyer_id,
            currency=USD,
            price=800,
            publisher_id=publisher_id,
            publisher_amount=500,
            hold_until=utcnow() + dt.timedelta(days=7),
        )

    results = together(ctx, 16, buy)
    # Once charged, 200 is left: every other thread must replay, never 402.
    assert all(outcome == "ok" for outcome, _ in results), results
    assert len({entry_id for _, (entry_id, _) in results}) == 1
    assert sorted(replayed for _, (_, replayed) in results) == [False] + [True] * 15
    assert fresh_balance(buyer_id, BUYER) == 200
    assert fresh_balance(publisher_id, PENDING) == 500
    assert entries_of(EntryKind.SALE) == 1
    assert db.session.scalar(select(func.count()).select_from(EarningHold)) == 1
    books_ok()


def test_concurrent_refunds_of_one_charge_never_exceed_it(
    ctx: Flask, buyer: Account, publisher: Account
) -> None:
    topup(buyer.org.id, 1_000, "topup:1")
    posted = charge(
        db.session,
        key="sale:1",
        kind=EntryKind.SALE,
        buyer_id=buyer.org.id,
        currency=USD,
        price=1_000,
        publisher_id=publisher.org.id,
        publisher_amount=600,
        hold_until=utcnow() + dt.timedelta(days=7),
    )
    db.session.commit()
    charge_id, buyer_id, publisher_id = posted.entry.id, buyer.org.id, publisher.org.id

    def give_back(i: int) -> Posted:
        entry = db.session.get(JournalEntry, charge_id)
        assert entry is not None
        return refund_charge(db.session, key=f"return:{i}", charge_entry=entry, amount=150)

    results = together(ctx, 16, give_back)
    outcomes = Counter(outcome for outcome, _ in results)
    assert outcomes == {"ok": 6, "Conflict": 10}
    assert {detail for outcome, detail in results if outcome != "ok"} == {"refund_exceeds_charge"}
    assert fresh_balance(buyer_id, BUYER) == 900
    entry = db.session.get(JournalEntry, charge_id)
    assert entry is not None
    assert refunded_so_far(db.session, entry) == (900, 540)
    assert fresh_balance(publisher_id, PENDING) == 60
    hold = db.session.scalar(select(EarningHold).where(EarningHold.entry_id == charge_id))
    assert hold is not None
    assert (hold.amount, hold.status) == (60, HoldStatus.HELD)

    # Now everyone asks for all that is left: one gets it.
    def the_rest(i: int) -> Posted:
        entry = db.session.get(JournalEntry, charge_id)
        assert entry is not None
        return refund_charge(db.session, key=f"rest:{i}", charge_entry=entry)

    results = together(ctx, 8, the_rest)
    assert Counter(outcome for outcome, _ in results) == {"ok": 1, "Conflict": 7}
    assert fresh_balance(buyer_id, BUYER) == 1_000
    assert fresh_balance(publisher_id, PENDING) == 0
    assert fresh_balance(None, REVENUE) == 0
    hold = db.session.scalar(select(EarningHold).where(EarningHold.entry_id == charge_id))
    assert hold is not None
    assert (hold.amount, hold.status) == (0, HoldStatus.REVERSED)
    books_ok()


def test_charges_refunds_and_releases_of_one_buyer_run_side_by_side(
    ctx: Flask, make_account: Any
) -> None:
    """Charges lock accounts in id order; a refund must not take the buyer's lock out of that
    order. The buyer's account is made last, so its id is the highest of those involved."""
    from exchange.models import Role

    early, late, publisher = (make_account(Role.BUYER), make_account(Role.BUYER), make_account())
    # The publisher's and the platform's accounts exist before the late buyer's.
    topup(early.org.id, 101, "topup:early")
    charge(
        db.session,
        key="sale:early",
        kind=EntryKind.SALE,
        buyer_id=early.org.id,
        currency=USD,
        price=100,
        publisher_id=publisher.org.id,
        publisher_amount=60,
        hold_until=utcnow() + dt.timedelta(hours=1),
    )
    charge(
        db.session,
        key="sale:early-2",
        kind=EntryKind.SALE,
        buyer_id=early.org.id,
        currency=USD,
        price=1,
        publisher_id=publisher.org.id,
        publisher_amount=1,
    )
    db.session.commit()
    buyer_id, publisher_id = late.org.id, publisher.org.id
    topup(buyer_id, 100_000, "topup:late")
    charge_ids = []
    for i in range(8):
        posted = charge(
            db.session,
            key=f"sale:old:{i}",
            kind=EntryKind.SALE,
            buyer_id=buyer_id,
            currency=USD,
            price=1_000,
            publisher_id=publisher_id,
            publisher_amount=600,
            hold_until=utcnow() + dt.timedelta(hours=1) if i % 2 else None,
        )
        charge_ids.append(posted.entry.id)
    db.session.commit()

    def work(i: int) -> Posted | int:
        if i < 8:
            entry = db.session.get(JournalEntry, charge_ids[i])
            assert entry is not None
            return refund_charge(db.session, key=f"return:{i}", charge_entry=entry, amount=500)
        if i < 24:
            return charge(
                db.session,
                key=f"sale:new:{i}",
                kind=EntryKind.SALE,
                buyer_id=buyer_id,
                currency=USD,
                price=1_000,
                publisher_id=publisher_id,
                publisher_amount=600,
                hold_until=utcnow() + dt.timedelta(hours=1) if i % 2 else None,
            )
        return release_due_earnings(db.session, now=utcnow() + dt.timedelta(days=1))

    results = together(ctx, 28, work)
    assert all(outcome == "ok" for outcome, _ in results), results
    # 8 old charges, 8 half refunds, 16 new charges.
    assert fresh_balance(buyer_id, BUYER) == 100_000 - 8 * 1_000 + 8 * 500 - 16 * 1_000
    books_ok()
