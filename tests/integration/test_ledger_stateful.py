"""The ledger against a model: random top-ups, credit, charges, refunds, reversals, releases,
adjustments and replayed keys, with the books checked after every step.

Each Hypothesis example gets fresh organisations (the database is wiped only after the test),
so the model covers those organisations' accounts and the platform's accounts as they were
when the example began.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from billing.adjustments import adjust, grant_credit
from billing.charges import charge, refund_charge, refunded_so_far, release_due_earnings
from billing.checks import check_books
from billing.ledger import Leg, Posted, balance_of, post_entry
from billing.models import (
    PLATFORM_KINDS,
    AccountKind,
    EarningHold,
    EntryKind,
    HoldStatus,
    JournalEntry,
    LedgerAccount,
    Posting,
)
from database import utcnow
from errors import Conflict, PaymentRequired
from exchange.accounts import create_organization
from exchange.models import Role
from extensions import db

BUYER = AccountKind.BUYER_BALANCE
PENDING = AccountKind.PUBLISHER_PENDING
PAYABLE = AccountKind.PUBLISHER_PAYABLE
REVENUE = AccountKind.PLATFORM_REVENUE
CLEARING = AccountKind.STRIPE_CLEARING
ADJUSTMENTS = AccountKind.PLATFORM_ADJUSTMENTS
CURRENCIES = ("USD", "JPY")
REFUND_KINDS = (EntryKind.RETURN, EntryKind.REFUND, EntryKind.CHARGEBACK)

AccountKey = tuple[int | None, AccountKind, str]
_names = itertools.count(1)


@dataclass
class ChargeModel:
    """What the model expects of one charge and its refunds."""

    entry_id: int
    buyer: int
    publisher: int | None
    currency: str
    price: int
    publisher_amount: int
    release_at: dt.datetime | None  # set when the publisher's part is held
    hold_left: int = 0
    released: bool = False
    buyer_back: int = 0
    publisher_back: int = 0

    @property
    def hold_status(self) -> HoldStatus:
        if self.released:
            return HoldStatus.RELEASED
        return HoldStatus.HELD if self.hold_left else HoldStatus.REVERSED


@dataclass
class TopUpModel:
    entry_id: int
    buyer: int
    currency: str
    amount: int


def everything() -> tuple[tuple[int, int, int], dict[str, int]]:
    """Row counts and every balance: equal before and after means nothing changed."""
    counts = (
        db.session.scalar(select(func.count()).select_from(JournalEntry)) or 0,
        db.session.scalar(select(func.count()).select_from(Posting)) or 0,
        db.session.scalar(select(func.count()).select_from(EarningHold)) or 0,
    )
    balances = dict(db.session.execute(select(LedgerAccount.code, LedgerAccount.balance)).all())
    return counts, balances


class LedgerMachine(RuleBasedStateMachine):
    """Runs in the test's app context (db.session is the test's session)."""

    def __init__(self) -> None:
        super().__init__()
        db.session.rollback()
        run = uuid.uuid4().hex[:8]
        self.buyers = [
            create_organization(db.session, f"sm {run} buyer {next(_names)}", Role.BUYER).id
            for _ in range(2)
        ]
        self.publishers = [
            create_organization(db.session, f"sm {run} pub {next(_names)}", Role.PUBLISHER).id
            for _ in range(2)
        ]
        self.admin = create_organization(db.session, f"sm {run} admin", Role.ADMIN).id
        db.session.commit()
        self.base = utcnow()
        self.keys = (f"{run}:{n}" for n in itertools.count())
        self.model: dict[AccountKey, int] = {}
        for currency in CURRENCIES:
            for kind in PLATFORM_KINDS:
                self.model[(None, kind, currency)] = balance_of(db.session, None, kind, currency)
        self.floors: dict[tuple[int, str], int] = {}
        self.charges: list[ChargeModel] = []
        self.topups: list[TopUpModel] = []
        self.reversed_topups: set[int] = set()
        # A key that wrote an entry, the call that wrote it (to replay) and the entry's id.
        self.written: list[tuple[str, EntryKind, Callable[[], Posted], int]] = []

    def teardown(self) -> None:
        db.session.rollback()

    # ------------------------------------------------------------ model helpers

    def move(self, org: int | None, kind: AccountKind, currency: str, amount: int) -> None:
        key = (None if kind in PLATFORM_KINDS else org, kind, currency)
        self.model[key] = self.model.get(key, 0) + amount

    def expected(self, org: int | None, kind: AccountKind, currency: str) -> int:
        return self.model.get((org, kind, currency), 0)

    def floor(self, buyer: int, currency: str) -> int:
        return self.floors.get((buyer, currency), 0)

    def refused(self, call: Callable[[], Any], error: type[Exception], code: str) -> None:
        """The call raises `error` with `code` and leaves the database as it was."""
        before = everything()
        try:
            call()
        except error as exc:
            assert getattr(exc, "code", None) == code, exc
        else:
            raise AssertionError(f"expected {error.__name__} ({code})")
        finally:
            db.session.rollback()
        assert everything() == before

    def wrote(self, key: str, kind: EntryKind, call: Callable[[], Posted]) -> Posted:
        posted = call()
        db.session.commit()
        assert posted.replayed is False
        assert posted.entry.kind == kind
        self.written.append((key, kind, call, posted.entry.id))
        return posted

    # ------------------------------------------------------------ rules

    @initialize(usd=st.integers(0, 20_000), jpy=st.integers(0, 20_000))
    def starting_money(self, usd: int, jpy: int) -> None:
        for buyer in (0, 1):
            for currency, amount in (("USD", usd), ("JPY", jpy)):
                if amount:
                    self.top_up(buyer, currency, amount)

    @rule(
        buyer=st.integers(0, 1),
        currency=st.sampled_from(CURRENCIES),
        amount=st.integers(1, 5_000),
    )
    def top_up(self, buyer: int, currency: str, amount: int) -> None:
        org, key = self.buyers[buyer], next(self.keys)

        def call() -> Posted:
            return post_entry(
                db.session,
                key=key,
                kind=EntryKind.TOPUP,
                currency=currency,
                legs=[Leg(None, CLEARING, -amount), Leg(org, BUYER, amount)],
            )

        posted = self.wrote(key, EntryKind.TOPUP, call)
        self.move(None, CLEARING, currency, -amount)
        self.move(org, BUYER, currency, amount)
        self.topups.append(TopUpModel(posted.entry.id, org, currency, amount))

    @rule(
        buyer=st.integers(0, 1), currency=st.sampled_from(CURRENCIES), limit=st.integers(0, 3_000)
    )
    def set_credit(self, buyer: int, currency: str, limit: int) -> None:
        org = self.buyers[buyer]
        if self.expected(org, BUYER, currency) < -limit:
            self.refused(
                lambda: grant_credit(db.session, org, currency, limit), Conflict, "credit_in_use"
            )
            return
        account = grant_credit(db.session, org, currency, limit)
        db.session.commit()
        assert account.min_balance == -limit
        self.floors[(org, currency)] = -limit

    @rule(
        buyer=st.integers(0, 1),
        publisher=st.sampled_from([None, 0, 1]),
        currency=st.sampled_from(CURRENCIES),
        price=st.integers(1, 3_000),
        percent=st.integers(0, 100),
        hold_days=st.sampled_from([None, 1, 2, 3]),
        kind=st.sampled_from([EntryKind.SALE, EntryKind.CONVERSION]),
    )
    def charge_buyer(
        self,
        buyer: int,
        publisher: int | None,
        currency: str,
        price: int,
        percent: int,
        hold_days: int | None,
        kind: EntryKind,
    ) -> None:
        org, key = self.buyers[buyer], next(self.keys)
        pub = None if publisher is None else self.publishers[publisher]
        share = 0 if pub is None else price * percent // 100
        hold_until = None if hold_days is None else self.base + dt.timedelta(days=hold_days)

        def call() -> Posted:
            return charge(
                db.session,
                key=key,
                kind=kind,
                buyer_id=org,
                currency=currency,
                price=price,
                publisher_id=pub,
                publisher_amount=share,
                hold_until=hold_until,
            )

        if self.expected(org, BUYER, currency) - price < self.floor(org, currency):
            self.refused(call, PaymentRequired, "insufficient_funds")
            return
        posted = self.wrote(key, kind, call)
        held = hold_until is not None and share > 0
        self.move(org, BUYER, currency, -price)
        self.move(pub, PENDING if held else PAYABLE, currency, share)
        self.move(None, REVENUE, currency, price - share)
        self.charges.append(
            ChargeModel(
                entry_id=posted.entry.id,
                buyer=org,
                publisher=pub,
                currency=currency,
                price=price,
                publisher_amount=share,
                release_at=hold_until if held else None,
                hold_left=share if held else 0,
            )
        )

    @precondition(lambda self: self.charges)
    @rule(
        pick=st.integers(0, 10_000),
        how=st.sampled_from(["full", "part", "part", "too_much"]),
        x=st.integers(0, 10_000),
        kind=st.sampled_from(REFUND_KINDS),
    )
    def refund(self, pick: int, how: str, x: int, kind: EntryKind) -> None:
        self.give_back(self.charges[pick % len(self.charges)], how, x, kind)

    @precondition(lambda self: self.partly_refunded())
    @rule(
        pick=st.integers(0, 10_000),
        how=st.sampled_from(["full", "part", "part", "part", "too_much"]),
        x=st.integers(0, 10_000),
        kind=st.sampled_from(REFUND_KINDS),
    )
    def refund_again(self, pick: int, how: str, x: int, kind: EntryKind) -> None:
        charges = self.partly_refunded()
        self.give_back(charges[pick % len(charges)], how, x, kind)

    def partly_refunded(self) -> list[ChargeModel]:
        return [c for c in self.charges if 0 < c.buyer_back < c.price]

    def give_back(self, c: ChargeModel, how: str, x: int, kind: EntryKind) -> None:
        remaining = c.price - c.buyer_back
        amount = {
            "full": None,
            "part": 1 + x % max(remaining, 1),
            "too_much": remaining + 1 + x % 100,
        }[how]
        key = next(self.keys)

        def call() -> Posted:
            entry = db.session.get(JournalEntry, c.entry_id)
            assert entry is not None
            return refund_charge(db.session, key=key, charge_entry=entry, amount=amount, kind=kind)

        wanted = remaining if amount is None else amount
        if wanted <= 0 or wanted > remaining:
            self.refused(call, Conflict, "refund_exceeds_charge")
            return
        posted = self.wrote(key, kind, call)
        assert posted.entry.reverses_id == c.entry_id
        # The publisher's running total is its share of what went back, rounded down, and
        # all of it once the whole price went back.
        back = c.buyer_back + wanted
        publisher_total = (
            c.publisher_amount if back == c.price else back * c.publisher_amount // c.price
        )
        share = publisher_total - c.publisher_back
        from_pending = min(share, c.hold_left) if not c.released else 0
        c.hold_left -= from_pending
        c.buyer_back, c.publisher_back = back, publisher_total
        self.move(c.buyer, BUYER, c.currency, wanted)
        self.move(c.publisher, PENDING, c.currency, -from_pending)
        self.move(c.publisher, PAYABLE, c.currency, -(share - from_pending))
        self.move(None, REVENUE, c.currency, -(wanted - share))

    @rule(days=st.integers(0, 4))
    def release(self, days: int) -> None:
        now = self.base + dt.timedelta(days=days, minutes=1)
        due = [
            c
            for c in self.charges
            if c.release_at is not None and c.release_at <= now and c.hold_status == HoldStatus.HELD
        ]
        count = release_due_earnings(db.session, now=now)
        db.session.commit()
        assert count >= len(due)  # other examples' holds may be released too
        for c in due:
            self.move(c.publisher, PENDING, c.currency, -c.hold_left)
            self.move(c.publisher, PAYABLE, c.currency, c.hold_left)
            c.released = True
        # Calling again does nothing.
        before = everything()
        assert release_due_earnings(db.session, now=now) == 0
        db.session.commit()
        assert everything() == before

    @precondition(lambda self: self.topups)
    @rule(pick=st.integers(0, 10_000))
    def reverse_top_up(self, pick: int) -> None:
        t = self.topups[pick % len(self.topups)]
        key = f"reversal:{t.entry_id}"

        def call() -> Posted:
            return post_entry(
                db.session,
                key=key,
                kind=EntryKind.REVERSAL,
                currency=t.currency,
                legs=[Leg(None, CLEARING, t.amount), Leg(t.buyer, BUYER, -t.amount)],
                reverses=db.session.get(JournalEntry, t.entry_id),
            )

        if t.entry_id in self.reversed_topups:
            before = everything()
            again = call()
            db.session.commit()
            assert again.replayed is True
            assert everything() == before
            return
        if self.expected(t.buyer, BUYER, t.currency) - t.amount < self.floor(t.buyer, t.currency):
            self.refused(call, PaymentRequired, "insufficient_funds")
            return
        posted = self.wrote(key, EntryKind.REVERSAL, call)
        assert posted.entry.reverses_id == t.entry_id
        self.reversed_topups.add(t.entry_id)
        self.move(None, CLEARING, t.currency, t.amount)
        self.move(t.buyer, BUYER, t.currency, -t.amount)

    @rule(
        side=st.sampled_from(["buyer", "publisher"]),
        who=st.integers(0, 1),
        currency=st.sampled_from(CURRENCIES),
        amount=st.integers(-2_000, 2_000).filter(bool),
    )
    def adjust_account(self, side: str, who: int, currency: str, amount: int) -> None:
        org = (self.buyers if side == "buyer" else self.publishers)[who]
        kind = BUYER if side == "buyer" else PAYABLE
        key = next(self.keys)

        def call() -> Posted:
            return adjust(
                db.session,
                key=key,
                org_id=org,
                account=kind,
                currency=currency,
                amount=amount,
                note="stateful test",
                actor_org_id=self.admin,
            )

        if kind == BUYER and self.expected(org, kind, currency) + amount < self.floor(
            org, currency
        ):
            self.refused(call, PaymentRequired, "insufficient_funds")
            return
        self.wrote(f"adjustment:{key}", EntryKind.ADJUSTMENT, call)
        self.move(org, kind, currency, amount)
        self.move(None, ADJUSTMENTS, currency, -amount)

    @precondition(lambda self: self.written)
    @rule(pick=st.integers(0, 10_000), other_kind=st.booleans())
    def replay_a_key(self, pick: int, other_kind: bool) -> None:
        key, kind, call, entry_id = self.written[pick % len(self.written)]
        if other_kind:
            wrong = EntryKind.PAYOUT  # never written by this machine

            def reuse() -> Posted:
                return post_entry(
                    db.session,
                    key=key,
                    kind=wrong,
                    currency="USD",
                    legs=[Leg(None, REVENUE, -1), Leg(None, CLEARING, 1)],
                )

            self.refused(reuse, Conflict, "idempotency_key_reused")
            return
        before = everything()
        posted = call()
        db.session.commit()
        assert posted.replayed is True
        assert posted.entry.id == entry_id
        assert posted.entry.kind == kind
        assert everything() == before

    # ------------------------------------------------------------ invariants

    @invariant()
    def books_balance(self) -> None:
        books = check_books(db.session)
        db.session.rollback()
        assert books.ok, books.problems

    @invariant()
    def balances_match_the_model(self) -> None:
        orgs = [*self.buyers, *self.publishers]
        accounts = db.session.scalars(
            select(LedgerAccount).where(LedgerAccount.organization_id.in_(orgs))
        ).all()
        actual = {(a.organization_id, a.kind, a.currency): a.balance for a in accounts}
        for currency in CURRENCIES:
            for kind in PLATFORM_KINDS:
                actual[(None, kind, currency)] = balance_of(db.session, None, kind, currency)
        for key in actual.keys() | self.model.keys():
            assert actual.get(key, 0) == self.model.get(key, 0), key
        for a in accounts:
            if a.min_balance is not None:
                assert a.balance >= a.min_balance, a.code
            if a.kind == BUYER:
                assert a.min_balance == self.floor(a.organization_id or 0, a.currency), a.code
            elif a.kind == PENDING:
                assert a.min_balance == 0, a.code
            else:
                assert a.min_balance is None, a.code
        db.session.rollback()

    @invariant()
    def charges_are_never_refunded_beyond_their_parts(self) -> None:
        for c in self.charges:
            entry = db.session.get(JournalEntry, c.entry_id)
            assert entry is not None
            buyer_back, publisher_back = refunded_so_far(db.session, entry)
            assert (buyer_back, publisher_back) == (c.buyer_back, c.publisher_back)
            assert 0 <= buyer_back <= c.price
            assert 0 <= publisher_back <= c.publisher_amount
            assert buyer_back - publisher_back <= c.price - c.publisher_amount
            hold = db.session.scalar(select(EarningHold).where(EarningHold.entry_id == c.entry_id))
            if c.release_at is None:
                assert hold is None
            else:
                assert hold is not None
                assert (hold.amount, hold.status) == (c.hold_left, c.hold_status)
        for (org, kind, currency), value in self.model.items():
            if org is not None and kind == PENDING:
                held = sum(
                    c.hold_left
                    for c in self.charges
                    if c.publisher == org and c.currency == currency and not c.released
                )
                assert value == held
                assert balance_of(db.session, org, kind, currency) == held
        db.session.rollback()


def test_the_ledger_matches_its_model_under_random_operations(ctx: Flask) -> None:
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
