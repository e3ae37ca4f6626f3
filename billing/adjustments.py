"""What only admins do with money: grant credit, post manual adjustments (always with a note)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from billing.currency import format_amount, max_amount, normalise_currency
from billing.ledger import Leg, Posted, ensure_account, lock_accounts, post_entry, replay
from billing.models import AccountKind, EntryKind, LedgerAccount
from errors import Conflict, InvalidInput

ADJUSTABLE = (
    AccountKind.BUYER_BALANCE,
    AccountKind.PUBLISHER_PAYABLE,
)


def _need_note(note: str | None) -> str:
    if not note or not note.strip():
        raise InvalidInput("A note explaining why is required.", fields={"note": ["Required."]})
    return note.strip()


def grant_credit(session: Session, org_id: int, currency: str, credit_limit: int) -> LedgerAccount:
    """Let a buyer's balance go down to -credit_limit (0 takes credit away)."""
    currency = normalise_currency(currency)
    if isinstance(credit_limit, bool) or credit_limit < 0 or credit_limit > max_amount(currency):
        raise InvalidInput(
            "The credit limit must be between 0 and the maximum amount.",
            fields={"credit_limit": ["An integer ≥ 0 in minor units."]},
        )
    account = ensure_account(session, org_id, AccountKind.BUYER_BALANCE, currency)
    account = lock_accounts(session, [account.id])[account.id]
    if account.balance < -credit_limit:
        raise Conflict(
            f"The balance is {format_amount(account.balance, currency)}; the credit limit "
            "cannot be lowered below what is already owed.",
            code="credit_in_use",
            fields={"credit_limit": [f"At least {-account.balance}."]},
        )
    account.min_balance = -credit_limit
    session.flush()
    return account


def adjust(
    session: Session,
    *,
    key: str,
    org_id: int,
    account: AccountKind,
    currency: str,
    amount: int,
    note: str | None,
    actor_org_id: int,
) -> Posted:
    """Credit (positive) or debit (negative) an organisation's account against the platform's
    adjustments account; replaying `key` posts nothing new."""
    note = _need_note(note)
    currency = normalise_currency(currency)
    if account not in ADJUSTABLE:
        raise InvalidInput(
            f"Only {', '.join(a.value for a in ADJUSTABLE)} can be adjusted.",
            fields={"account": ["Not adjustable."]},
        )
    if isinstance(amount, bool) or amount == 0 or abs(amount) > max_amount(currency):
        raise InvalidInput(
            "The amount must be a non-zero integer in minor units.",
            fields={"amount": ["Non-zero, in minor units; negative takes money away."]},
        )
    replayed = replay(session, f"adjustment:{key}", EntryKind.ADJUSTMENT)
    if replayed is not None:
        first = {
            (p.account.organization_id, p.account.kind, p.amount) for p in replayed.entry.postings
        }
        if (org_id, account, amount) not in first or replayed.entry.postings[
            0
        ].currency != currency:
            raise Conflict(
                "This Idempotency-Key was used for a different adjustment.",
                code="idempotency_key_reused",
            )
        return replayed
    return post_entry(
        session,
        key=f"adjustment:{key}",
        kind=EntryKind.ADJUSTMENT,
        currency=currency,
        legs=[
            Leg(org_id, account, amount),
            Leg(None, AccountKind.PLATFORM_ADJUSTMENTS, -amount),
        ],
        reference=("organization", org_id),
        memo=note,
        actor_org_id=actor_org_id,
    )
