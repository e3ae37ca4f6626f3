"""The one way money moves: `post_entry` writes a balanced journal entry and its balances.

Rules kept here and nowhere else:
- a replayed idempotency key returns the original entry before any balance check;
- the accounts a movement may take money from are locked in id order (SELECT ... FOR UPDATE on
  Postgres; on SQLite the write transaction began IMMEDIATE and already holds the database
  lock), and their cached balances change at once;
- the hot accounts every sale touches (the platform's accounts and each publisher's earnings)
  are not locked when money only goes in, or when they have no floor: their postings are
  written at once and their cached balances are added to at commit, in id order, so the row
  lock on them lasts for the commit only instead of the whole sale;
- postings sum to zero per currency and never change; a correction is a new entry;
- a balance may not go below its floor (a buyer's credit limit), checked here with a clear
  error and again by the database's CHECK constraint.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing import deferred
from billing.currency import format_amount, normalise_currency
from billing.models import (
    PLATFORM_KINDS,
    AccountKind,
    EntryKind,
    JournalEntry,
    LedgerAccount,
    Posting,
)
from database import utcnow
from errors import Conflict, InvalidInput, PaymentRequired

# Accounts that may never go negative unless a credit limit says so.
FLOORED_KINDS = frozenset({AccountKind.BUYER_BALANCE, AccountKind.PUBLISHER_PENDING})


@dataclass(frozen=True)
class Leg:
    """One side of a movement: `amount` (minor units) gained by an account (org None: platform)."""

    org_id: int | None
    kind: AccountKind
    amount: int


@dataclass(frozen=True)
class Posted:
    """The entry written, or found again for a replayed key (`replayed=True`)."""

    entry: JournalEntry
    replayed: bool


def account_code(org_id: int | None, kind: AccountKind, currency: str) -> str:
    if kind in PLATFORM_KINDS:
        return f"platform:{kind.value}:{currency}"
    if org_id is None:
        raise ValueError(f"{kind} needs an organisation")
    return f"org:{org_id}:{kind.value}:{currency}"


def get_account(
    session: Session, org_id: int | None, kind: AccountKind, currency: str
) -> LedgerAccount | None:
    """The account if it exists (no lock, no creation)."""
    code = account_code(org_id, kind, normalise_currency(currency))
    return session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))


def _known(session: Session) -> dict[str, LedgerAccount]:
    """Accounts this session already loaded, by code (they are never deleted or renamed)."""
    known: dict[str, LedgerAccount] = session.info.setdefault("ledger_accounts", {})
    return known


def ensure_accounts(
    session: Session, specs: Sequence[tuple[int | None, AccountKind]], currency: str
) -> list[LedgerAccount]:
    """The accounts for (org, kind) pairs in one currency, in the order asked: those this
    session has seen from memory, the others in one query, any missing created."""
    currency = normalise_currency(currency)
    codes = [account_code(org_id, kind, currency) for org_id, kind in specs]
    known = _known(session)
    missing = [c for c in codes if (a := known.get(c)) is None or a not in session]
    if missing:
        for account in session.scalars(
            select(LedgerAccount).where(LedgerAccount.code.in_(missing))
        ):
            known[account.code] = account
    out = []
    for code, (org_id, kind) in zip(codes, specs, strict=True):
        found = known.get(code)
        if found is None or found not in session:
            found = known[code] = _create_account(session, code, org_id, kind, currency)
        out.append(found)
    return out


def ensure_account(
    session: Session, org_id: int | None, kind: AccountKind, currency: str
) -> LedgerAccount:
    """The account, created on first use (a concurrent creator is tolerated via a savepoint)."""
    currency = normalise_currency(currency)
    code = account_code(org_id, kind, currency)
    known = _known(session)
    account = known.get(code)
    if account is not None and account in session:
        return account
    account = session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))
    if account is None:
        account = _create_account(session, code, org_id, kind, currency)
    known[code] = account
    return account


def _create_account(
    session: Session, code: str, org_id: int | None, kind: AccountKind, currency: str
) -> LedgerAccount:
    """Create an account not found; a concurrent creator wins through the unique code."""
    account = LedgerAccount(
        code=code,
        organization_id=None if kind in PLATFORM_KINDS else org_id,
        kind=kind,
        currency=currency,
        balance=0,
        min_balance=0 if kind in FLOORED_KINDS else None,
    )
    try:
        with session.begin_nested():
            session.add(account)
    except IntegrityError:
        account = session.scalars(select(LedgerAccount).where(LedgerAccount.code == code)).one()
    return account


def headroom(account: LedgerAccount) -> int | None:
    """How much may still leave the account before its floor (None: it has no floor)."""
    return None if account.min_balance is None else account.balance - account.min_balance


def find_entry(session: Session, key: str) -> JournalEntry | None:
    return session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == key))


def _locked(session: Session) -> set[int]:
    """Accounts locked by this session's open transaction. Forgotten at commit and at any
    rollback, a savepoint's included (Postgres releases row locks taken inside a savepoint
    rolled back), so the worst case is one lock asked for twice, never one skipped."""
    locked: set[int] = session.info.setdefault("ledger_locked", set())
    return locked


@event.listens_for(Session, "after_commit")
def _transaction_committed(session: Session) -> None:
    # after_commit also fires when a savepoint is released; its locks are held until the end.
    if not session.in_nested_transaction():
        session.info.pop("ledger_locked", None)


@event.listens_for(Session, "after_soft_rollback")
def _transaction_rolled_back(session: Session, *_: object) -> None:
    session.info.pop("ledger_locked", None)


def lock_accounts(
    session: Session, ids: Iterable[int], *, skip_locked: bool = False
) -> dict[int, LedgerAccount]:
    """Lock the accounts in id order (the fixed order that rules out deadlocks) and reload them.

    Accounts this transaction already locked are not asked for again. With `skip_locked`,
    accounts another transaction holds are left out of the answer instead of waited for."""
    wanted = set(ids)
    held = _locked(session)
    out = {}
    for account_id in wanted & held:
        account = session.get(LedgerAccount, account_id)
        if account is not None:
            out[account_id] = account
    todo = sorted(wanted - out.keys())
    if todo:
        stmt = (
            select(LedgerAccount)
            .where(LedgerAccount.id.in_(todo))
            .order_by(LedgerAccount.id)
            .with_for_update(skip_locked=skip_locked)
            .execution_options(populate_existing=True)
        )
        for account in session.scalars(stmt):
            out[account.id] = account
            held.add(account.id)
            _known(session)[account.code] = account
    # This transaction's own deferred amounts, added now that the rows are held, so that
    # whoever locks an account to read its balance reads its own writes.
    deferred.apply(session, out.keys())
    return out


def replay(session: Session, key: str, kind: EntryKind) -> Posted | None:
    """The entry already written under `key` (as a replay), or None."""
    existing = find_entry(session, key)
    return _replayed(existing, kind) if existing is not None else None


def post_entry(
    session: Session,
    *,
    key: str,
    kind: EntryKind,
    currency: str,
    legs: Sequence[Leg],
    reference: tuple[str, object] | None = None,
    memo: str | None = None,
    reverses: JournalEntry | None = None,
    actor_org_id: int | None = None,
    at: dt.datetime | None = None,
    new_key: bool = False,
) -> Posted:
    """Write one balanced entry under `key`, or return the entry already written under it.

    `new_key=True` says the key names something created in this very transaction (a sale
    row just inserted), so no look-up for an earlier entry is made; the unique index on the
    key still refuses a duplicate."""
    existing = None if new_key else find_entry(session, key)
    if existing is not None:
        return _replayed(existing, kind)
    currency = normalise_currency(currency)
    legs = [leg for leg in legs if leg.amount != 0]
    if len(legs) < 2:
        raise InvalidInput("A movement of money needs two or more non-zero legs.")
    if sum(leg.amount for leg in legs) != 0:
        raise ValueError(f"unbalanced entry {key}: {legs}")

    accounts = ensure_accounts(session, [(leg.org_id, leg.kind) for leg in legs], currency)
    deltas: dict[int, int] = defaultdict(int)
    by_id: dict[int, LedgerAccount] = {}
    for leg, account in zip(legs, accounts, strict=True):
        deltas[account.id] += leg.amount
        by_id[account.id] = account
    later = {i for i, d in deltas.items() if deferred.deferrable(by_id[i], d)}
    locked = lock_accounts(session, (i for i in deltas if i not in later))
    # Another transaction may have written this key while we waited for the locks.
    existing = None if new_key else find_entry(session, key)
    if existing is not None:
        return _replayed(existing, kind)

    for account_id, delta in deltas.items():
        if account_id in later:
            continue
        account = locked[account_id]
        if (room := headroom(account)) is not None and -delta > room:
            raise _insufficient(account, delta)

    now = at or utcnow()
    entry = JournalEntry(
        idempotency_key=key,
        kind=kind,
        reference_type=reference[0] if reference else None,
        reference_id=str(reference[1]) if reference else None,
        memo=memo,
        reverses_id=reverses.id if reverses is not None else None,
        actor_organization_id=actor_org_id,
        created_at=now,
    )
    session.add(entry)
    for leg, account in zip(legs, accounts, strict=True):
        session.add(
            Posting(
                entry=entry,
                account_id=account.id,
                amount=leg.amount,
                currency=currency,
                created_at=now,
            )
        )
    for account_id, delta in deltas.items():
        if account_id in later:
            deferred.note(session, account_id, delta)
        else:
            locked[account_id].balance += delta
    session.flush()
    return Posted(entry, replayed=False)


def _replayed(entry: JournalEntry, kind: EntryKind) -> Posted:
    if entry.kind != kind:
        raise Conflict(
            f"The idempotency key {entry.idempotency_key!r} was used for a {entry.kind.value} "
            f"entry, not a {kind.value}.",
            code="idempotency_key_reused",
        )
    return Posted(entry, replayed=True)


def _insufficient(account: LedgerAccount, delta: int) -> PaymentRequired:
    available = headroom(account) or 0
    what = "balance" if account.kind == AccountKind.BUYER_BALANCE else "held earnings"
    return PaymentRequired(
        f"Insufficient {what}: {format_amount(-delta, account.currency)} needed, "
        f"{format_amount(max(available, 0), account.currency)} available.",
        fields={"amount": ["More than the available balance."]},
    )


def balance_of(session: Session, org_id: int | None, kind: AccountKind, currency: str) -> int:
    """The cached balance of an account (0 if it was never used)."""
    account = get_account(session, org_id, kind, currency)
    return account.balance if account is not None else 0


def org_accounts(session: Session, org_id: int) -> list[LedgerAccount]:
    """Every account an organisation holds, by currency then kind."""
    stmt = (
        select(LedgerAccount)
        .where(LedgerAccount.organization_id == org_id)
        .order_by(LedgerAccount.currency, LedgerAccount.kind)
    )
    return list(session.scalars(stmt))


def reversals_of(session: Session, entry: JournalEntry) -> list[JournalEntry]:
    stmt = select(JournalEntry).where(JournalEntry.reverses_id == entry.id)
    return list(session.scalars(stmt.order_by(JournalEntry.id)))
