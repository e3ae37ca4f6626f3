"""The ledger's rules, one at a time, on SQLite and on Postgres.

Services flush and never commit: each test commits what it keeps, and rolls back after an
expected error. The `ctx` fixture reconciles the books (check_books) after every test.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from billing.adjustments import adjust, grant_credit
from billing.charges import charge as charge_buyer
from billing.charges import refund_charge, release_due_earnings
from billing.checks import check_books
from billing.ledger import Leg, balance_of, get_account, post_entry, reversals_of
from billing.models import (
    AccountKind,
    EarningHold,
    EntryKind,
    HoldStatus,
    JournalEntry,
    LedgerAccount,
    Posting,
)
from database import utcnow
from errors import Conflict, InvalidInput, PaymentRequired
from extensions import db
from tests.conftest import Account

USD = "USD"
BUYER = AccountKind.BUYER_BALANCE
PENDING = AccountKind.PUBLISHER_PENDING
PAYABLE = AccountKind.PUBLISHER_PAYABLE
PAID_OUT = AccountKind.PUBLISHER_PAID_OUT
REVENUE = AccountKind.PLATFORM_REVENUE
CLEARING = AccountKind.STRIPE_CLEARING


# ---------------------------------------------------------------- helpers


def topup(org_id: int, amount: int, currency: str = USD, key: str | None = None) -> JournalEntry:
    """Money into a buyer's balance as a succeeded Stripe top-up would put it (committed)."""
    posted = post_entry(
        db.session,
        key=key or f"topup:{uuid.uuid4().hex}",
        kind=EntryKind.TOPUP,
        currency=currency,
        legs=[Leg(None, CLEARING, -amount), Leg(org_id, BUYER, amount)],
    )
    db.session.commit()
    return posted.entry


def sale(
    buyer: Account,
    price: int,
    *,
    key: str | None = None,
    publisher: Account | None = None,
    publisher_amount: int = 0,
    hold_until: dt.datetime | None = None,
    currency: str = USD,
) -> JournalEntry:
    """A committed charge."""
    posted = charge_buyer(
        db.session,
        key=key or f"sale:{uuid.uuid4().hex}",
        kind=EntryKind.SALE,
        buyer_id=buyer.org.id,
        currency=currency,
        price=price,
        publisher_id=publisher.org.id if publisher else None,
        publisher_amount=publisher_amount,
        hold_until=hold_until,
    )
    db.session.commit()
    assert not posted.replayed
    return posted.entry


def bal(org_id: int | None, kind: AccountKind, currency: str = USD) -> int:
    return balance_of(db.session, org_id, kind, currency)


def row_counts() -> tuple[int, int, int]:
    """(journal entries, postings, earning holds) stored."""
    return (
        db.session.scalar(select(func.count()).select_from(JournalEntry)) or 0,
        db.session.scalar(select(func.count()).select_from(Posting)) or 0,
        db.session.scalar(select(func.count()).select_from(EarningHold)) or 0,
    )


def balances() -> dict[str, int]:
    """Every account's balance as the database holds it, by code."""
    return dict(db.session.execute(select(LedgerAccount.code, LedgerAccount.balance)).all())


def hold_for(entry: JournalEntry) -> EarningHold | None:
    return db.session.scalar(select(EarningHold).where(EarningHold.entry_id == entry.id))


def refund_legs(entry: JournalEntry) -> dict[AccountKind, int]:
    """What one refund entry moved, by account kind."""
    moved: dict[AccountKind, int] = {}
    for p in entry.postings:
        moved[p.account.kind] = moved.get(p.account.kind, 0) + p.amount
    return moved


def in_a_week() -> dt.datetime:
    return utcnow() + dt.timedelta(days=7)


# ---------------------------------------------------------------- entries


def test_an_entry_balances_and_moves_each_balance(ctx: Flask, buyer: Account) -> None:
    posted = post_entry(
        db.session,
        key="topup:1",
        kind=EntryKind.TOPUP,
        currency="usd",
        legs=[Leg(None, CLEARING, -12_345), Leg(buyer.org.id, BUYER, 12_345)],
        reference=("topup", 7),
        memo="first money",
    )
    db.session.commit()
    assert posted.replayed is False
    entry = db.session.get(JournalEntry, posted.entry.id)
    assert entry is not None
    assert entry.kind == EntryKind.TOPUP
    assert (entry.reference_type, entry.reference_id, entry.memo) == ("topup", "7", "first money")
    assert sorted(p.amount for p in entry.postings) == [-12_345, 12_345]
    assert {p.currency for p in entry.postings} == {"USD"}
    assert sum(p.amount for p in entry.postings) == 0
    assert bal(buyer.org.id, BUYER) == 12_345
    assert bal(None, CLEARING) == -12_345
    assert sum(balances().values()) == 0
    account = get_account(db.session, buyer.org.id, BUYER, USD)
    assert account is not None
    assert account.code == f"org:{buyer.org.id}:buyer_balance:USD"
    assert account.min_balance == 0  # a buyer's balance is floored at zero by default
    platform = get_account(db.session, None, CLEARING, USD)
    assert platform is not None
    assert (platform.code, platform.organization_id, platform.min_balance) == (
        "platform:stripe_clearing:USD",
        None,
        None,
    )
    books = check_books(db.session)
    assert books.ok, books.problems
    assert (books.entries, books.postings, books.accounts) == (1, 2, 2)


def test_a_charge_splits_the_price_between_publisher_and_platform(
    ctx: Flask, buyer: Account, publisher: Account
) -> None:
    topup(buyer.org.id, 10_000)
    entry = sale(buyer, 2_500, publisher=publisher, publisher_amount=1_800)
    assert bal(buyer.org.id, BUYER) == 7_500
    assert bal(publisher.org.id, PAYABLE) == 1_800  # no hold: payable at once
    assert bal(publisher.org.id, PENDING) == 0
    assert bal(None, REVENUE) == 700
    assert refund_legs(entry) == {BUYER: -2_500, PAYABLE: 1_800, REVENUE: 700}
    assert hold_for(entry) is None


def test_hot_accounts_are_added_to_at_commit_and_a_rolled_back_savepoint_adds_nothing(
    ctx: Flask, buyer: Account, publisher: Account
) -> None:
    topup(buyer.org.id, 10_000)
    sale(buyer, 1_000, publisher=publisher, publisher_amount=600)  # creates the accounts
    revenue = get_account(db.session, None, REVENUE, USD)
    wallet = get_account(db.session, buyer.org.id, BUYER, USD)
    assert revenue is not None and wallet is not None
    # Inside the transaction the buyer's balance moved at once (under its lock); the platform's
    # share is written as a posting and added to the cached balance only at commit.
    charge_buyer(
        db.session,
        key="sale:hot-1",
        kind=EntryKind.SALE,
        buyer_id=buyer.org.id,
        currency=USD,
        price=1_000,
        publisher_id=publisher.org.id,
        publisher_amount=600,
    )
    assert wallet.balance == 8_000
    assert (
        db.session.scalar(select(LedgerAccount.balance).where(LedgerAccount.id == revenue.id))
        == 400
    )
    with pytest.raises(RuntimeError), db.session.begin_nested():
        charge_buyer(
            db.session,
            key="sale:hot-2",
            kind=EntryKind.SALE,
            buyer_id=buyer.org.id,
            currency=USD,
            price=1_000,
            publisher_id=publisher.org.id,
            publisher_amount=600,
        )
        raise RuntimeError("the row fails after its sale")
    db.session.commit()
    assert bal(None, REVENUE) == 800  # two sales, not three
    assert bal(publisher.org.id, PAYABLE) == 1_200
    assert bal(buyer.org.id, BUYER) == 8_000
    books = check_books(db.session)
    assert books.ok, books.problems


def test_legs_of_zero_are_dropped_and_one_leg_is_not_a_movement(ctx: Flask, buyer: Account) -> None:
    topup(buyer.org.id, 1_000)
    before = row_counts()
    # No publisher part: the charge has two postings, not three.
    entry = sale(buyer, 400)
    assert refund_legs(entry) == {BUYER: -400, REVENUE: 400}
    with pytest.raises(InvalidInput):
        post_entry(
            db.session,
            key="lonely",
            kind=EntryKind.ADJUSTMENT,
            currency=USD,
            legs=[Leg(buyer.org.id, BUYER, 0), Leg(None, REVENUE, 0)],
        )
    db.session.rollback()
    assert row_counts() == (before[0] + 1, before[1] + 2, 0)


def test_unbalanced_legs_are_refused_and_nothing_is_stored(ctx: Flask, buyer: Account) -> None:
    topup(buyer.org.id, 1_000)
    before, money = row_counts(), balances()
    with pytest.raises(ValueError, match="unbalanced"):
        post_entry(
            db.session,
            key="bad",
            kind=EntryKind.ADJUSTMENT,
            currency=USD,
            legs=[Leg(buyer.org.id, BUYER, 100), Leg(None, AccountKind.PLATFORM_ADJUSTMENTS, -99)],
        )
    db.session.rollback()
    assert row_counts() == before
    assert balances() == money


def test_an_unknown_currency_is_refused(ctx: Flask, buyer: Account) -> None:
    with pytest.raises(InvalidInput):
        post_entry(
            db.session,
            key="zzz",
            kind=EntryKind.TOPUP,
            currency="ZZQ",
            legs=[Leg(None, CLEARING, -1), Leg(buyer.org.id, BUYER, 1)],
        )
    db.session.rollback()
    assert row_counts() == (0, 0, 0)


# ---------------------------------------------------------------- idempotency


def test_a_replayed_key_returns_the_first_entry_before_any_balance_check(
    ctx: Flask, buyer: Account, publisher: Account
) -> None:
    topup(buyer.org.id, 1_000)
    first = sale(buyer, 800, key="sale:lead-1", publisher=publisher, publisher_amount=500)
    assert bal(buyer.org.id, BUYER) == 200
    before, money = row_counts(), balances()

    # 800 more would not be covered by the 200 left: a replay must still answer, not 402.
    again = charge_buyer(
        db.session,
        key="sale:lead-1",
        kind=EntryKind.SALE,
        buyer_id=buyer.org.id,
        currency=USD,
        price=800,
        publisher_id=publisher.org.id,
        publisher_amount=500,
    )
    db.session.commit()
    assert again.replayed is True
    assert again.entry.id == first.id
    assert row_counts() == before
    assert balances() == money

    # The key wins over the arguments: a replay never moves money, whatever it asks for.
    replay = post_entry(
        db.session,
        key="sale:lead-1",
        kind=EntryKind.SALE,
        currency=USD,
        legs=[Leg(buyer.org.id, BUYER, -50_000), Leg(None, REVENUE, 50_000)],
    )
    db.session.commit()
    assert (replay.replayed, replay.entry.id) == (True, first.id)
    assert row_counts() == before
    assert balances() == money
    assert bal(buyer.org.id, BUYER) == 200


def test_a_key_used_for_another_kind_is_a_conflict(ctx: Flask, buyer: Account) -> None:
    topup(buyer.org.id, 1_000, key="k-1")
    before, money = row_counts(), balances()
    with pytest.raises(Conflict) as raised:
        post_entry(
            db.session,
            key="k-1",
            kind=EntryKind.ADJUSTMENT,
            currency=USD,
            legs=[Leg(buyer.org.id, BUYER, 5), Leg(None, AccountKind.PLATFORM_ADJUSTMENTS, -5)],
        )
    assert raised.value.code == "idempotency_key_reused"
    assert "'k-1'" in raised.value.message
    db.session.rollback()
    with pytest.raises(Conflict) as raised:
        charge_buyer(
            db.session, key="k-1", kind=EntryKind.SALE, buyer_id=buyer.org.id, currency=USD, price=1
        )
    assert raised.value.code == "idempotency_key_reused"
    db.session.rollback()
    assert row_counts() == before
    assert balances() == money


def test_a_refund_replayed_after_the_charge_is_used_up_still_answers(
    ctx: Flask, buyer: Account, publisher: Account
) -> None:
    topup(buyer.org.id, 1_000)
    entry = sale(buyer, 1_000, publisher=publisher, publisher_amount=600)
    first = refund_charge(db.session, key="return:1", charge_entry=entry)
    db.session.commit()
    assert bal(buyer.org.id, BUYER) == 1_000
    before, money = row_counts(), balances()
    again = refund_charge(db.session, key="return:1", charge_entry=entry)
    db.session.commit()
    assert (again.replayed, again.entry.id) == (True, first.entry.id)
    assert row_counts() == before
    assert balances() == money
    with pytest.raises(Conflict) as raised:
        refund_charge(db.session, key="return:1", charge_entry=entry, kind=EntryKind.CHARGEBACK)
    assert raised.value.code == "idempotency_key_reused"
    db.session.rollback()


# ---------------------------------------------------------------- funds and credit


def test_insufficient_funds_raise_402_and_store_nothing(
    ctx: Flask, buyer: Account, publisher: Account
) -> None:
    topup(buyer.org.id, 1_000)
    before, money = row_counts(), balances()
    with pytest.raises(PaymentRequired) as raised:
        charge_buyer(
            db.session,
            key="sale:too-much",
            kind=EntryKind.SALE,
            buyer_id=buyer.org.id,
            currency=USD,
            price=1_001,
            publisher_id=publisher.org.id,
            publisher_amount=900,
            hold_until=in_a_week(),
        )
    assert raised.value.code == "insufficient_funds"
    assert raised.value.message == "Insufficient balance: 10.01 USD needed, 10.00 USD available."
    db.session.rollback()
    assert row_counts() == before
    assert balances() == money
    assert (
        db.session.scalar(
            select(JournalEntry).where(JournalEntry.idempotency_key == "sale:too-much")
        )
        is None
    )
    # Exactly the balance is fine.
    sale(buyer, 1_000)
    assert bal(buyer.org.id, BUYER) == 0


def test_a_buyer_without_an_account_cannot_be_charged(ctx: Flask, buyer: Account) -> None:
    with pytest.raises(PaymentRequired):
        charge_buyer(
            db.session, key="s", kind=EntryKind.SALE, buyer_id=buyer.org.id, currency=USD, price=1
        )
    db.session.rollback()
    assert row_counts() == (0, 0, 0)
    assert bal(buyer.org.id, BUYER) == 0


def test_a_credit_limit_lets_the_balance_go_down_to_minus_the_limit(
    ctx: Flask, buyer: Account
) -> None:
    account = grant_credit(db.session, buyer.org.id, USD, 5_000)
    db.session.commit()
    assert (account.min_balance, account.credit_limit) == (-5_000, 5_000)
    sale(buyer, 3_000)
    sale(buyer, 2_000)
    assert bal(buyer.org.id, BUYER) == -5_000
    with pytest.raises(PaymentRequired) as raised:
        sale(buyer, 1)
    assert raised.value.message == "Insufficient balance: 0.01 USD needed, 0.00 USD available."
    db.session.rollback()
    assert bal(buyer.org.id, BUYER) == -5_000
    assert bal(None, REVENUE) == 5_000


def test_credit_cannot_be_lowered_below_what_is_owed(ctx: Flask, buyer: Account) -> None:
    grant_credit(db.session, buyer.org.id, USD, 5_000)
    db.session.commit()
    sale(buyer, 4_000)
    with pytest.raises(Conflict) as raised:
        grant_credit(db.session, buyer.org.id, USD, 3_999)
    assert raised.value.code == "credit_in_use"
    assert raised.value.fields == {"credit_limit": ["At least 4000."]}
    db.session.rollback()
    account = get_account(db.session, buyer.org.id, BUYER, USD)
    assert account is not None
    assert account.min_balance == -5_000
    # Down to exactly what is owed is allowed, and then nothing more can be spent.
    assert grant_credit(db.session, buyer.org.id, USD, 4_000).min_balance == -4_000
    db.session.commit()
    with pytest.raises(PaymentRequired):
        sale(buyer, 1)
    db.session.rollback()
    topup(buyer.org.id, 4_000)
    assert grant_credit(db.session, buyer.org.id, USD, 0).min_balance == 0
    db.session.commit()
    with pytest.raises(PaymentRequired):
        sale(buyer, 1)
    db.session.rollback()
    assert bal(buyer.org.id, BUYER) == 0


@pytest.mark.parametrize("limit", [-1, True, 10_000_000_000 * 100 + 1])
def test_a_credit_limit_must_be_a_sane_integer(ctx: Flask, buyer: Account, limit: int) -> None:
    with pytest.raises(InvalidInput):
        grant_credit(db.session, buyer.org.id, USD, limit)
    db.session.rollback()


def test_the_database_refuses_a_balance_below_its_floor(ctx: Flask, buyer: Account) -> None:
    topup(buyer.org.id, 100)
    account = get_account(db.session, buyer.org.id, BUYER, USD)
    assert account is not None
    account_id = account.id
    db.session.commit()
    with db.engine.connect() as conn:
        with pytest.raises(IntegrityError):
            conn.execute(
                text("UPDATE ledger_account SET balance = -1 WHERE id = :id"), {"id": account_id}
            )
        conn.rollback()
    assert bal(buyer.org.id, BUYER) == 100


def test_adjustments_need_a_note_and_move_money_against_the_platform(
    ctx: Flask, buyer: Account, admin: Account
) -> None:
    with pytest.raises(InvalidInput):
        adjust(
            db.session,
            key="a",
            org_id=buyer.org.id,
            account=BUYER,
            currency=USD,
            amount=500,
            note="  ",
            actor_org_id=admin.org.id,
        )
    db.session.rollback()
    posted = adjust(
        db.session,
        key="a",
        org_id=buyer.org.id,
        account=BUYER,
        currency=USD,
        amount=500,
        note=" goodwill ",
        actor_org_id=admin.org.id,
    )
    db.session.commit()
    assert posted.entry.memo == "goodwill"
    assert posted.entry.idempotency_key == "adjustment:a"
    assert bal(buyer.org.id, BUYER) == 500
    assert bal(None, AccountKind.PLATFORM_ADJUSTMENTS) == -500
    with pytest.raises(PaymentRequired):
        adjust(
            db.session,
            key="b",
            org_id=buyer.org.id,
            account=BUYER,
            currency=USD,
            amount=-501,
            note="take back",
            actor_org_id=admin.org.id,
        )
    db.session.rollback()
    assert bal(buyer.org.id, BUYER) == 500


# ---------------------------------------------------------------- holds and releases


def test_held_earnings_are_pending_until_released_once(
    ctx: Flask, buyer: Account, publisher: Account
) -> None:
    topup(buyer.org.id, 10_000)
    release_at = in_a_week()
    entry = sale(buyer, 1_000, publisher=publisher, publisher_amount=700, hold_until=release_at)
    assert bal(publisher.org.id, PENDING) == 700
    assert bal(publisher.org.id, PAYABLE) == 0
    assert bal(None, REVENUE) == 300
    hold = hold_for(entry)
    assert hold is not None
    assert (hold.organization_id, hold.amount, hold.currency, hold.status) == (
        publisher.org.id,
        700,
        USD,
        HoldStatus.HELD,
    )
    assert hold.release_at == release_at

    # Not due yet: nothing moves.
    assert release_due_earnings(db.session, now=release_at - dt.timedelta(seconds=1)) == 0
    db.session.commit()
    assert bal(publisher.org.id, PENDING) == 700

    assert release_due_earnings(db.session, now=release_at + dt.timedelta(days=1)) == 1
    db.session.commit()
    assert bal(publisher.org.id, PENDING) == 0
    assert bal(publisher.org.id, PAYABLE) == 700
    hold = hold_for(entry)
    assert hold is not None
    assert hold.status == HoldStatus.RELEASED
    released = db.session.get(JournalEntry, hold.released_entry_id)
    assert released is not None
    assert released.kind == EntryKind.RELEASE
    assert released.idempotency_key == f"release:{hold.id}"
    assert refund_legs(released) == {PENDING: -700, PAYABLE: 700}

    before, money = row_counts(), balances()
    assert release_due_earnings(db.session, now=release_at + dt.timedelta(days=30)) == 0
    db.session.commit()
    assert row_counts() == before
    assert balances() == money


def test_a_hold_date_in_the_past_pays_at_once(
    ctx: Flask, buyer: Account, publisher: Account
) -> None:
    topup(buyer.org.id, 1_000)
    entry = sale(
        buyer,
        1_000,
        publisher=publisher,
        publisher_amount=400,
        hold_until=utcnow() - dt.timedelta(minutes=1),
    )
    assert hold_for(entry) is None
    assert bal(publisher.org.id, PAYABLE) == 400
    assert bal(publisher.org.id, PENDING) == 0


def test_releases_take_only_what_is_due(ctx: Flask, buyer: Account, publisher: Account) -> None:
    topup(buyer.org.id, 10_000)
    now = utcnow()
    sale(
        buyer, 100, publisher=publisher, publisher_amount=60, hold_until=now + dt.timedelta(days=1)
    )
    sale(
        buyer, 100, publisher=publisher, publisher_amount=70, hold_until=now + dt.timedelta(days=3)
    )
    assert bal(publisher.org.id, PENDING) == 130
    assert release_due_earnings(db.session, now=now + dt.timedelta(days=2)) == 1
    db.session.commit()
    assert (bal(publisher.org.id, PENDING), bal(publisher.org.id, PAYABLE)) == (70, 60)
    assert release_due_earnings(db.session, now=now + dt.timedelta(days=4)) == 1
    db.session.commit()
    assert (bal(publisher.org.id, PENDING), bal(publisher.org.id, PAYABLE)) == (0, 130)


# ---------------------------------------------------------------- refunds


def test_partial_refunds_are_proportional_and_never_exceed_the_charge(
    ctx: Flask, buyer: Account, publisher: Account
) -> None:
    topup(buyer.org.id, 10_000)
    entry = sale(buyer, 1_000, publisher=publisher, publisher_amount=600)

    first = refund_charge(db.session, key="r1", charge_entry=entry, amount=250)
    db.session.commit()
    assert first.entry.reverses_id == entry.id
    assert first.entry.kind == EntryKind.RETURN
    assert refund_legs(first.entry) == {BUYER: 250, PAYABLE: -150, REVENUE: -100}

    second = refund_charge(db.session, key="r2", charge_entry=entry, amount=250)
    db.session.commit()
    assert refund_legs(second.entry) == {BUYER: 250, PAYABLE: -150, REVENUE: -100}
    assert bal(buyer.org.id, BUYER) == 9_500
    assert bal(publisher.org.id, PAYABLE) == 300
    assert bal(None, REVENUE) == 200

    before, money = row_counts(), balances()
    for amount in (501, 0, -5):
        with pytest.raises(Conflict) as raised:
            refund_charge(db.session, key=f"r-{amount}", charge_entry=entry, amount=amount)
        assert raised.value.code == "refund_exceeds_charge"
        db.session.rollback()
    assert row_counts() == before
    assert balances() == money

    # The last refund (no amount: all that is left) returns exactly what is left of each part.
    last = refund_charge(db.session, key="r3", charge_entry=entry, kind=EntryKind.REFUND)
    db.session.commit()
    assert last.entry.kind == EntryKind.REFUND
    assert refund_legs(last.entry) == {BUYER: 500, PAYABLE: -300, REVENUE: -200}
    assert bal(buyer.org.id, BUYER) == 10_000
    assert bal(publisher.org.id, PAYABLE) == 0
    assert bal(None, REVENUE) == 0
    assert [r.id for r in reversals_of(db.session, entry)] == [
        first.entry.id,
        second.entry.id,
        last.entry.id,
    ]

    with pytest.raises(Conflict) as raised:
        refund_charge(db.session, key="r4", charge_entry=entry, amount=1)
    assert raised.value.code == "refund_exceeds_charge"
    db.session.rollback()
    with pytest.raises(Conflict):
        refund_charge(db.session, key="r5", charge_entry=entry)
    db.session.rollback()
    assert bal(buyer.org.id, BUYER) == 10_000


@pytest.mark.parametrize(
    ("price", "publisher_amount", "amounts"),
    [
        (3, 2, [1, 1, 1]),
        (100, 99, [1] * 10 + [40, 50]),
        (1_000, 1, [999, 1]),
        (999, 998, [333, 333, 333]),
        (7, 0, [3, 4]),
        (7, 7, [3, 4]),
    ],
)
def test_no_part_of_a_charge_is_ever_refunded_beyond_its_share(
    ctx: Flask,
    buyer: Account,
    publisher: Account,
    price: int,
    publisher_amount: int,
    amounts: list[int],
) -> None:
    """Each refund moves money back to the buyer only, the publisher's running total tracks
    its share of what was refunded within one minor unit, and the platform never gives back
    more than its margin: rounding is never settled by taking a part beyond what it got."""
    assert sum(amounts) == price
    topup(buyer.org.id, price)
    entry = sale(buyer, price, publisher=publisher, publisher_amount=publisher_amount)
    margin = price - publisher_amount
    buyer_back = publisher_back = platform_back = 0
    for i, amount in enumerate(amounts):
        refund = refund_charge(db.session, key=f"r{i}", charge_entry=entry, amount=amount)
        legs = refund_legs(refund.entry)
        assert legs[BUYER] == amount
        assert legs.get(PAYABLE, 0) <= 0
        assert legs.get(REVENUE, 0) <= 0
        buyer_back += amount
        publisher_back -= legs.get(PAYABLE, 0)
        platform_back -= legs.get(REVENUE, 0)
        assert publisher_back <= publisher_amount
        assert platform_back <= margin
        assert abs(publisher_back - buyer_back * publisher_amount / price) < 1
    db.session.commit()
    assert (buyer_back, publisher_back, platform_back) == (price, publisher_amount, margin)
    assert bal(buyer.org.id, BUYER) == price
    assert bal(publisher.org.id, PAYABLE) == 0
    assert bal(None, REVENUE) == 0


def test_a_refund_before_release_takes_from_pending_and_shrinks_the_hold(
    ctx: Flask, buyer: Account, publisher: Account
) -> None:
    topup(buyer.org.id, 10_000)
    release_at = in_a_week()
    entry = sale(buyer, 1_000, publisher=publisher, publisher_amount=600, hold_until=release_at)
    partial = refund_charge(db.session, key="r1", charge_entry=entry, amount=500)
    db.session.commit()
    assert refund_legs(partial.entry) == {BUYER: 500, PENDING: -300, REVENUE: -200}
    assert (bal(publisher.org.id, PENDING), bal(publisher.org.id, PAYABLE)) == (300, 0)
    hold = hold_for(entry)
    assert hold is not None
    assert (hold.amount, hold.status) == (300, HoldStatus.HELD)

    # Only what is still held is released.
    assert release_due_earnings(db.session, now=release_at) == 1
    db.session.commit()
    assert (bal(publisher.org.id, PENDING), bal(publisher.org.id, PAYABLE)) == (0, 300)

    # The rest of the publisher's part now comes from payable.
    rest = refund_charge(db.session, key="r2", charge_entry=entry)
    db.session.commit()
    assert refund_legs(rest.entry) == {BUYER: 500, PAYABLE: -300, REVENUE: -200}
    assert (bal(publisher.org.id, PENDING), bal(publisher.org.id, PAYABLE)) == (0, 0)
    assert bal(buyer.org.id, BUYER) == 10_000


def test_a_full_refund_before_release_reverses_the_hold(
    ctx: Flask, buyer: Account, publisher: Account
) -> None:
    topup(buyer.org.id, 1_000)
    release_at = in_a_week()
    entry = sale(buyer, 1_000, publisher=publisher, publisher_amount=600, hold_until=release_at)
    refund = refund_charge(db.session, key="r", charge_entry=entry, kind=EntryKind.CHARGEBACK)
    db.session.commit()
    assert refund_legs(refund.entry) == {BUYER: 1_000, PENDING: -600, REVENUE: -400}
    hold = hold_for(entry)
    assert hold is not None
    assert (hold.amount, hold.status) == (0, HoldStatus.REVERSED)
    before, money = row_counts(), balances()
    assert release_due_earnings(db.session, now=release_at + dt.timedelta(days=1)) == 0
    db.session.commit()
    assert row_counts() == before
    assert balances() == money
    assert bal(publisher.org.id, PENDING) == 0
    assert bal(publisher.org.id, PAYABLE) == 0


def test_a_refund_after_payout_takes_from_payable_which_may_go_negative(
    ctx: Flask, buyer: Account, publisher: Account
) -> None:
    topup(buyer.org.id, 1_000)
    release_at = in_a_week()
    entry = sale(buyer, 1_000, publisher=publisher, publisher_amount=600, hold_until=release_at)
    release_due_earnings(db.session, now=release_at)
    db.session.commit()
    # Paid out, as billing/payouts.py posts it.
    post_entry(
        db.session,
        key="payout:1",
        kind=EntryKind.PAYOUT,
        currency=USD,
        legs=[Leg(publisher.org.id, PAYABLE, -600), Leg(publisher.org.id, PAID_OUT, 600)],
    )
    db.session.commit()
    assert bal(publisher.org.id, PAYABLE) == 0

    refund = refund_charge(db.session, key="r", charge_entry=entry, amount=500)
    db.session.commit()
    assert refund_legs(refund.entry) == {BUYER: 500, PAYABLE: -300, REVENUE: -200}
    assert bal(publisher.org.id, PAYABLE) == -300  # owed back out of later earnings
    assert bal(publisher.org.id, PENDING) == 0
    assert bal(publisher.org.id, PAID_OUT) == 600
    hold = hold_for(entry)
    assert hold is not None
    assert (hold.amount, hold.status) == (600, HoldStatus.RELEASED)


def test_refunds_refuse_what_is_not_a_charge(ctx: Flask, buyer: Account) -> None:
    entry = topup(buyer.org.id, 1_000)
    with pytest.raises(InvalidInput):
        refund_charge(db.session, key="r", charge_entry=entry)
    db.session.rollback()
    with pytest.raises(ValueError, match="not a refund"):
        refund_charge(db.session, key="r", charge_entry=entry, kind=EntryKind.SALE)
    db.session.rollback()
    assert row_counts() == (1, 2, 0)


@pytest.mark.parametrize(
    ("price", "publisher_amount", "error"),
    [(0, 0, InvalidInput), (-1, 0, InvalidInput), (10, 11, InvalidInput), (10, -1, InvalidInput)],
)
def test_a_charge_must_be_positive_and_cover_the_publisher(
    ctx: Flask, buyer: Account, publisher: Account, price: int, publisher_amount: int, error: type
) -> None:
    topup(buyer.org.id, 1_000)
    before = row_counts()
    with pytest.raises(error):
        sale(buyer, price, publisher=publisher, publisher_amount=publisher_amount)
    db.session.rollback()
    assert row_counts() == before
    with pytest.raises(ValueError, match="not a charge"):
        charge_buyer(
            db.session,
            key="x",
            kind=EntryKind.RETURN,
            buyer_id=buyer.org.id,
            currency=USD,
            price=10,
        )
    db.session.rollback()


def test_currencies_are_separate_books(ctx: Flask, buyer: Account) -> None:
    topup(buyer.org.id, 200_000_000, currency="VND")
    with pytest.raises(PaymentRequired) as raised:
        sale(buyer, 1)
    db.session.rollback()
    assert "0.01 USD needed" in raised.value.message
    sale(buyer, 150_000_000, currency="VND")
    assert bal(buyer.org.id, BUYER, "VND") == 50_000_000
    assert bal(buyer.org.id, BUYER, USD) == 0
    assert bal(None, REVENUE, "VND") == 150_000_000
    with pytest.raises(PaymentRequired) as raised:
        sale(buyer, 50_000_001, currency="VND")
    db.session.rollback()
    assert raised.value.message == (
        "Insufficient balance: 50,000,001 VND needed, 50,000,000 VND available."
    )


# ---------------------------------------------------------------- the books themselves


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_postgres_refuses_to_change_or_delete_ledger_rows(ctx: Flask, buyer: Account) -> None:
    entry = topup(buyer.org.id, 1_000)
    entry_id, posting_id = entry.id, entry.postings[0].id
    db.session.commit()
    statements = [
        ("UPDATE posting SET amount = amount + 1 WHERE id = :id", posting_id),
        ("DELETE FROM posting WHERE id = :id", posting_id),
        ("UPDATE journal_entry SET memo = 'edited' WHERE id = :id", entry_id),
        ("DELETE FROM journal_entry WHERE id = :id", entry_id),
    ]
    for sql, row_id in statements:
        with db.engine.connect() as conn:
            with pytest.raises(DBAPIError, match="the ledger is append-only"):
                conn.execute(text(sql), {"id": row_id})
            conn.rollback()
    # The ORM is refused the same way.
    posting = db.session.get(Posting, posting_id)
    assert posting is not None
    posting.amount = 1
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    assert row_counts() == (1, 2, 0)
    assert sorted(p.amount for p in db.session.get(JournalEntry, entry_id).postings) == [  # type: ignore[union-attr]
        -1_000,
        1_000,
    ]


def test_check_books_detects_a_tampered_cached_balance(ctx: Flask, buyer: Account) -> None:
    topup(buyer.org.id, 1_000)
    account = get_account(db.session, buyer.org.id, BUYER, USD)
    assert account is not None
    account_id, code = account.id, account.code
    db.session.commit()
    assert check_books(db.session).ok
    db.session.commit()

    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE ledger_account SET balance = balance + 1 WHERE id = :id"),
            {"id": account_id},
        )
    books = check_books(db.session)
    db.session.commit()
    assert books.problems == [f"account {code}: cached balance 1001 != postings 1000"]

    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE ledger_account SET balance = balance - 1 WHERE id = :id"),
            {"id": account_id},
        )
    assert check_books(db.session).ok
    db.session.commit()


def test_check_books_detects_an_unbalanced_entry(ctx: Flask, buyer: Account) -> None:
    topup(buyer.org.id, 1_000)
    account = get_account(db.session, buyer.org.id, BUYER, USD)
    assert account is not None
    # Written behind post_entry's back and never committed (Postgres could not delete it).
    bad = JournalEntry(idempotency_key="forged", kind=EntryKind.ADJUSTMENT)
    db.session.add(bad)
    db.session.flush()
    db.session.add(Posting(entry_id=bad.id, account_id=account.id, amount=5, currency=USD))
    db.session.flush()
    bad_id, code = bad.id, account.code
    books = check_books(db.session)
    db.session.rollback()
    assert f"entry {bad_id} does not balance in USD: off by 5" in books.problems
    assert f"entry {bad_id} has 1 posting(s); it needs two or more" in books.problems
    assert f"account {code}: cached balance 1000 != postings 1005" in books.problems
    assert check_books(db.session).ok
    db.session.rollback()
