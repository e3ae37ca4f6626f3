"""Reconciliation: do the books add up? (`flask billing check`)"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing.models import JournalEntry, LedgerAccount, Posting


@dataclass
class BookCheck:
    """What `check_books` looked at and every problem it found (empty: the books balance)."""

    entries: int = 0
    postings: int = 0
    accounts: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_books(session: Session, *, limit: int = 50) -> BookCheck:
    """Every entry balances per currency with 2+ postings, every posting's currency is its
    account's, and every cached balance equals the sum of its postings."""
    result = BookCheck(
        entries=session.scalar(select(func.count()).select_from(JournalEntry)) or 0,
        postings=session.scalar(select(func.count()).select_from(Posting)) or 0,
        accounts=session.scalar(select(func.count()).select_from(LedgerAccount)) or 0,
    )
    unbalanced = (
        select(Posting.entry_id, Posting.currency, func.sum(Posting.amount))
        .group_by(Posting.entry_id, Posting.currency)
        .having(func.sum(Posting.amount) != 0)
        .limit(limit)
    )
    for entry_id, currency, total in session.execute(unbalanced):
        result.problems.append(f"entry {entry_id} does not balance in {currency}: off by {total}")

    counts = (
        select(Posting.entry_id, func.count())
        .group_by(Posting.entry_id)
        .having(func.count() < 2)
        .limit(limit)
    )
    for entry_id, n in session.execute(counts):
        result.problems.append(f"entry {entry_id} has {n} posting(s); it needs two or more")

    empty = (
        select(JournalEntry.id)
        .outerjoin(Posting, Posting.entry_id == JournalEntry.id)
        .where(Posting.id.is_(None))
        .limit(limit)
    )
    for (entry_id,) in session.execute(empty):
        result.problems.append(f"entry {entry_id} has no postings")

    mixed = (
        select(Posting.id, Posting.currency, LedgerAccount.currency)
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where(Posting.currency != LedgerAccount.currency)
        .limit(limit)
    )
    for posting_id, posted, held in session.execute(mixed):
        result.problems.append(f"posting {posting_id} is in {posted} on a {held} account")

    sums = (
        select(Posting.account_id, func.sum(Posting.amount).label("total"))
        .group_by(Posting.account_id)
        .subquery()
    )
    drift = (
        select(LedgerAccount.code, LedgerAccount.balance, func.coalesce(sums.c.total, 0))
        .outerjoin(sums, sums.c.account_id == LedgerAccount.id)
        .where(LedgerAccount.balance != func.coalesce(sums.c.total, 0))
        .limit(limit)
    )
    for code, cached, total in session.execute(drift):
        result.problems.append(f"account {code}: cached balance {cached} != postings {total}")

    floors = (
        select(LedgerAccount.code, LedgerAccount.balance, LedgerAccount.min_balance)
        .where(LedgerAccount.min_balance.is_not(None))
        .where(LedgerAccount.balance < LedgerAccount.min_balance)
        .limit(limit)
    )
    for code, balance, floor in session.execute(floors):
        result.problems.append(f"account {code}: balance {balance} below its floor {floor}")
    return result
