"""Publisher payouts: pay what is payable above a minimum, through the gateway's transfers.

Each payout is its own unit of work (the caller commits after each): the payable account is
locked and re-read, the payout row and its ledger entry are written, then the gateway is asked
to transfer with `payout:<id>` as its idempotency key. A refused transfer is reversed in the
ledger by an entry pointing at the original, and the payout is marked failed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.currency import exponent
from billing.gateway import PaymentGateway
from billing.ledger import Leg, ensure_account, lock_accounts, post_entry
from billing.models import (
    AccountKind,
    BillingProfile,
    EntryKind,
    JournalEntry,
    LedgerAccount,
    Payout,
    PayoutStatus,
)
from billing.topups import profile_for
from errors import DomainError


@dataclass(frozen=True)
class PayoutResult:
    organization_id: int
    currency: str
    amount: int
    outcome: str  # paid, failed, below_minimum, no_destination
    payout_id: int | None = None
    message: str | None = None


def minimum_in_minor(minimum_major: int, currency: str) -> int:
    return minimum_major * 10 ** exponent(currency)


def payable_accounts(session: Session) -> list[tuple[int, int | None, str]]:
    """(account id, publisher id, currency) of every payable account with money in it."""
    stmt = (
        select(LedgerAccount.id, LedgerAccount.organization_id, LedgerAccount.currency)
        .where(LedgerAccount.kind == AccountKind.PUBLISHER_PAYABLE, LedgerAccount.balance > 0)
        .order_by(LedgerAccount.id)
    )
    return [(a, o, c) for a, o, c in session.execute(stmt)]


def pay_account(
    session: Session, gateway: PaymentGateway, account_id: int, *, minimum_major: int
) -> PayoutResult:
    """Pay one publisher's payable balance in one currency, if it reaches the minimum."""
    account = session.get(LedgerAccount, account_id)
    assert account is not None and account.organization_id is not None
    org_id = account.organization_id
    # Lock both accounts of the payout entry up front, in id order like every movement.
    paid_out = ensure_account(session, org_id, AccountKind.PUBLISHER_PAID_OUT, account.currency)
    account = lock_accounts(session, [account_id, paid_out.id])[account_id]
    amount, currency = account.balance, account.currency
    if amount < max(1, minimum_in_minor(minimum_major, currency)):
        return PayoutResult(org_id, currency, amount, "below_minimum")
    profile = session.get(BillingProfile, org_id)
    destination = profile.payout_destination if profile else None
    if not destination:
        return PayoutResult(org_id, currency, amount, "no_destination")
    payout = Payout(
        organization_id=org_id, amount=amount, currency=currency, destination=destination
    )
    session.add(payout)
    session.flush()
    legs = [
        Leg(org_id, AccountKind.PUBLISHER_PAYABLE, -amount),
        Leg(org_id, AccountKind.PUBLISHER_PAID_OUT, amount),
    ]
    posted = post_entry(
        session,
        key=f"payout:{payout.id}",
        kind=EntryKind.PAYOUT,
        currency=currency,
        legs=legs,
        reference=("payout", payout.id),
    )
    payout.entry_id = posted.entry.id
    try:
        payout.transfer_id = gateway.transfer(
            amount=amount,
            currency=currency,
            destination=destination,
            metadata={"payout_id": str(payout.id), "organization_id": str(org_id)},
            idempotency_key=f"payout:{payout.id}",
        )
    except DomainError as exc:
        fail_payout(session, payout, exc.message)
        return PayoutResult(org_id, currency, amount, "failed", payout.id, exc.message)
    payout.status = PayoutStatus.PAID
    session.flush()
    return PayoutResult(org_id, currency, amount, "paid", payout.id)


def fail_payout(session: Session, payout: Payout, message: str) -> None:
    """Reverse a payout's entry (money back to payable) and mark it failed; once only."""
    if payout.status == PayoutStatus.FAILED:
        return
    original = session.get(JournalEntry, payout.entry_id) if payout.entry_id else None
    reversal = post_entry(
        session,
        key=f"payout-failed:{payout.id}",
        kind=EntryKind.PAYOUT_FAILED,
        currency=payout.currency,
        legs=[
            Leg(payout.organization_id, AccountKind.PUBLISHER_PAYABLE, payout.amount),
            Leg(payout.organization_id, AccountKind.PUBLISHER_PAID_OUT, -payout.amount),
        ],
        reference=("payout", payout.id),
        memo=f"Payout failed: {message}"[:500],
        reverses=original,
    )
    payout.status = PayoutStatus.FAILED
    payout.failure_message = message
    payout.reversal_entry_id = reversal.entry.id
    session.flush()


def set_payout_destination(session: Session, org_id: int, destination: str | None) -> None:
    """Where a publisher's payouts go (a Stripe Connect account id, acct_...)."""
    profile_for(session, org_id, lock=True).payout_destination = destination
    session.flush()
