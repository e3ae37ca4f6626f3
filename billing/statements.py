"""What an organisation sees of its money: balances, earnings, ledger lines and statements."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from billing.charges import next_release
from billing.currency import format_amount, normalise_currency
from billing.ledger import org_accounts
from billing.models import AccountKind, JournalEntry, LedgerAccount, Posting
from errors import InvalidInput

EARNING_KINDS = (
    AccountKind.PUBLISHER_PENDING,
    AccountKind.PUBLISHER_PAYABLE,
    AccountKind.PUBLISHER_PAID_OUT,
)


def balance_row(account: LedgerAccount) -> dict[str, Any]:
    """A buyer balance as shown: balance, credit limit, what can be spent, and in words."""
    return {
        "currency": account.currency,
        "balance": account.balance,
        "credit_limit": account.credit_limit,
        "available": account.balance + account.credit_limit,
        "display": format_amount(account.balance, account.currency),
    }


def balances(session: Session, org_id: int) -> list[dict[str, Any]]:
    """The buyer balance per currency: balance, credit limit, and what can be spent."""
    return [
        balance_row(a) for a in org_accounts(session, org_id) if a.kind == AccountKind.BUYER_BALANCE
    ]


def earnings(session: Session, org_id: int) -> list[dict[str, Any]]:
    """A publisher's earnings per currency: pending (returnable), payable, and paid."""
    by_currency: dict[str, dict[str, Any]] = {}
    for account in org_accounts(session, org_id):
        if account.kind not in EARNING_KINDS:
            continue
        row = by_currency.setdefault(
            account.currency,
            {"currency": account.currency, "pending": 0, "payable": 0, "paid": 0},
        )
        name = {
            AccountKind.PUBLISHER_PENDING: "pending",
            AccountKind.PUBLISHER_PAYABLE: "payable",
            AccountKind.PUBLISHER_PAID_OUT: "paid",
        }[account.kind]
        row[name] = account.balance
    for currency, row in by_currency.items():
        row["next_release_at"] = next_release(session, org_id, currency)
    return list(by_currency.values())


def ledger_lines(org_id: int, *, currency: str | None = None) -> Select[Any]:
    """The organisation's postings with their entries, for paginating by posting id."""
    stmt = (
        select(Posting)
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where(LedgerAccount.organization_id == org_id)
    )
    if currency:
        stmt = stmt.where(Posting.currency == normalise_currency(currency))
    return stmt


def line_dict(posting: Posting) -> dict[str, Any]:
    """One ledger line as the API and CSV show it."""
    entry: JournalEntry = posting.entry
    return {
        "id": posting.id,
        "entry_id": entry.id,
        "created_at": posting.created_at,
        "kind": entry.kind.value,
        "account": posting.account.kind.value,
        "currency": posting.currency,
        "amount": posting.amount,
        "reference_type": entry.reference_type,
        "reference_id": entry.reference_id,
        "memo": entry.memo,
    }


@dataclass
class Statement:
    """Opening balance, every movement, closing balance: per account, for one period."""

    period: str
    currency: str
    start: dt.datetime
    end: dt.datetime
    accounts: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)


def parse_period(period: str) -> tuple[dt.datetime, dt.datetime]:
    """'2026-11' -> [Nov 1, Dec 1) in UTC; 'YYYY-MM-DD' -> that day."""
    try:
        if len(period) == 7:
            start = dt.datetime.strptime(period, "%Y-%m").replace(tzinfo=dt.UTC)
            end = (start + dt.timedelta(days=32)).replace(day=1)
            return start, end
        if len(period) == 10:
            start = dt.datetime.strptime(period, "%Y-%m-%d").replace(tzinfo=dt.UTC)
            return start, start + dt.timedelta(days=1)
    except ValueError:
        pass
    raise InvalidInput(
        f"{period!r} is not a period.",
        fields={"period": ["A month (YYYY-MM) or a day (YYYY-MM-DD)."]},
    )


def statement(session: Session, org_id: int, period: str, currency: str) -> Statement:
    """The organisation's statement for a month or a day in one currency."""
    currency = normalise_currency(currency)
    start, end = parse_period(period)
    result = Statement(period=period, currency=currency, start=start, end=end)
    accounts = [a for a in org_accounts(session, org_id) if a.currency == currency]
    ids = [a.id for a in accounts]
    opening = dict.fromkeys(ids, 0)
    if ids:
        stmt = (
            select(Posting.account_id, func.sum(Posting.amount))
            .where(Posting.account_id.in_(ids), Posting.created_at < start)
            .group_by(Posting.account_id)
        )
        opening.update({aid: int(total) for aid, total in session.execute(stmt)})
        moves = session.scalars(
            select(Posting)
            .where(
                Posting.account_id.in_(ids), Posting.created_at >= start, Posting.created_at < end
            )
            .order_by(Posting.created_at, Posting.id)
        ).all()
    else:
        moves = []
    running = dict(opening)
    for posting in moves:
        running[posting.account_id] += posting.amount
        result.lines.append({**line_dict(posting), "balance_after": running[posting.account_id]})
    for account in accounts:
        ins = sum(p.amount for p in moves if p.account_id == account.id and p.amount > 0)
        outs = sum(-p.amount for p in moves if p.account_id == account.id and p.amount < 0)
        result.accounts.append(
            {
                "account": account.kind.value,
                "opening_balance": opening[account.id],
                "money_in": ins,
                "money_out": outs,
                "closing_balance": running[account.id],
            }
        )
    return result
