"""Cached balances added to at commit, so the hot accounts' row locks last only for the commit.

`post_entry` writes every posting at once. For an account in `DEFERRED_KINDS` that only gains
money (or has no floor), it does not lock the row or change its cached balance then: it notes
the amount here, and just before the transaction commits the notes are added to the balances
in one UPDATE per account, in id order. A transaction that locks such an account to read its
balance (`lock_accounts`) gets its own notes applied first, so it reads its own writes. Notes
made, or applied, inside a savepoint that rolls back are undone with it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, update
from sqlalchemy.orm import Session, SessionTransaction

from billing.models import PLATFORM_KINDS, AccountKind, LedgerAccount
from database import innermost_transaction, real_session, within_transaction

DEFERRED_KINDS = PLATFORM_KINDS | {AccountKind.PUBLISHER_PENDING, AccountKind.PUBLISHER_PAYABLE}
KEY = "ledger_deferred"


@dataclass
class Note:
    account_id: int
    delta: int
    noted_in: Any  # the innermost transaction when noted
    applied_in: Any = None  # the innermost transaction that applied it, or None


def deferrable(account: LedgerAccount, delta: int) -> bool:
    """Money into a hot account, or any movement of one without a floor, needs no check now."""
    return account.kind in DEFERRED_KINDS and (delta > 0 or account.min_balance is None)


def note(session: Session, account_id: int, delta: int) -> None:
    """Add `delta` to the account's cached balance when this transaction commits."""
    session = real_session(session)
    session.info.setdefault(KEY, []).append(Note(account_id, delta, innermost_transaction(session)))


def apply(session: Session, account_ids: Iterable[int] | None = None) -> None:
    """Add the unapplied notes (of these accounts, or all) to the balances now, in id order."""
    session = real_session(session)
    notes: list[Note] = session.info.get(KEY, [])
    wanted = None if account_ids is None else set(account_ids)
    totals: dict[int, int] = defaultdict(int)
    here = innermost_transaction(session)
    for n in notes:
        if n.applied_in is None and (wanted is None or n.account_id in wanted):
            totals[n.account_id] += n.delta
            n.applied_in = here
    for account_id in sorted(totals):
        if totals[account_id]:
            session.execute(
                update(LedgerAccount)
                .where(LedgerAccount.id == account_id)
                .values(balance=LedgerAccount.balance + totals[account_id])
                .execution_options(synchronize_session=False)
            )
    if totals:
        for obj in list(session.identity_map.values()):
            if isinstance(obj, LedgerAccount) and obj.id in totals:
                session.expire(obj, ["balance"])


@event.listens_for(Session, "before_commit")
def _apply_before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # before_commit also fires when a savepoint is released
    if session.info.get(KEY):
        apply(session)
    session.info.pop(KEY, None)


@event.listens_for(Session, "after_soft_rollback")
def _undo(session: Session, previous: SessionTransaction) -> None:
    notes: list[Note] | None = session.info.get(KEY)
    if not notes:
        return
    kept = []
    for n in notes:
        if within_transaction(n.noted_in, previous):
            continue  # its posting was rolled back too
        if n.applied_in is not None and within_transaction(n.applied_in, previous):
            n.applied_in = None  # its UPDATE was rolled back: apply it again later
        kept.append(n)
    session.info[KEY] = kept
