"""Charging buyers for leads and actions, refunding those charges, releasing held earnings.

A charge moves the price from the buyer's balance to the publisher's pending earnings and the
platform's margin in one entry. The publisher's part is held (an `EarningHold`) until the
return window closes, then released to payable. A refund (a return, a dispute) moves money
back, never more than was charged, taking the publisher's part from what is still held or,
once released or paid out, from payable (which may then run negative until later earnings
cover it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing.autotopup import note_balance_after_charge
from billing.ledger import (
    Leg,
    Posted,
    ensure_account,
    lock_accounts,
    post_entry,
    replay,
    reversals_of,
)
from billing.models import (
    AccountKind,
    EarningHold,
    EntryKind,
    HoldStatus,
    JournalEntry,
)
from database import utcnow
from errors import Conflict, InvalidInput

CHARGE_KINDS = frozenset({EntryKind.SALE, EntryKind.CONVERSION})
REFUND_KINDS = frozenset({EntryKind.RETURN, EntryKind.REFUND, EntryKind.CHARGEBACK})


@dataclass(frozen=True)
class ChargeParts:
    """What a charge took from the buyer and gave the publisher (the platform kept the rest)."""

    buyer_id: int
    publisher_id: int | None
    price: int
    publisher_amount: int


def charge(
    session: Session,
    *,
    key: str,
    kind: EntryKind,
    buyer_id: int,
    currency: str,
    price: int,
    publisher_id: int | None = None,
    publisher_amount: int = 0,
    hold_until: dt.datetime | None = None,
    reference: tuple[str, object] | None = None,
    memo: str | None = None,
    new_key: bool = False,
) -> Posted:
    """Charge a buyer `price` for a sale or an action; the publisher earns `publisher_amount`.
    `new_key`: see `post_entry`.

    Raises PaymentRequired when the balance plus credit does not cover the price. Replaying
    `key` returns the first entry and charges nothing.
    """
    if kind not in CHARGE_KINDS:
        raise ValueError(f"{kind} is not a charge")
    if price <= 0:
        raise InvalidInput("A charge must be positive.", fields={"price": ["Must be above 0."]})
    if not 0 <= publisher_amount <= price:
        raise InvalidInput(
            "The publisher's part must be between 0 and the price.",
            fields={"publisher_amount": ["Between 0 and the price."]},
        )
    if publisher_amount and publisher_id is None:
        raise ValueError("publisher_amount without publisher_id")
    held = hold_until is not None and hold_until > utcnow()
    publisher_kind = AccountKind.PUBLISHER_PENDING if held else AccountKind.PUBLISHER_PAYABLE
    posted = post_entry(
        session,
        key=key,
        kind=kind,
        currency=currency,
        legs=[
            Leg(buyer_id, AccountKind.BUYER_BALANCE, -price),
            Leg(publisher_id, publisher_kind, publisher_amount),
            Leg(None, AccountKind.PLATFORM_REVENUE, price - publisher_amount),
        ],
        reference=reference,
        memo=memo,
        new_key=new_key,
    )
    if posted.replayed:
        return posted
    if held and publisher_amount and publisher_id is not None and hold_until is not None:
        session.add(
            EarningHold(
                organization_id=publisher_id,
                entry_id=posted.entry.id,
                currency=posted.entry.postings[0].currency,
                amount=publisher_amount,
                release_at=hold_until,
            )
        )
    buyer_account = next(
        p.account for p in posted.entry.postings if p.account.kind == AccountKind.BUYER_BALANCE
    )
    note_balance_after_charge(session, buyer_id, buyer_account)
    session.flush()
    return posted


def charge_parts(entry: JournalEntry) -> ChargeParts:
    """Read back who paid and who earned what from a charge entry."""
    if entry.kind not in CHARGE_KINDS:
        raise InvalidInput(f"Entry {entry.id} is a {entry.kind.value}, not a charge.")
    buyer = next(p for p in entry.postings if p.account.kind == AccountKind.BUYER_BALANCE)
    publisher = next(
        (
            p
            for p in entry.postings
            if p.account.kind in (AccountKind.PUBLISHER_PENDING, AccountKind.PUBLISHER_PAYABLE)
        ),
        None,
    )
    return ChargeParts(
        buyer_id=int(buyer.account.organization_id or 0),
        publisher_id=publisher.account.organization_id if publisher else None,
        price=-buyer.amount,
        publisher_amount=publisher.amount if publisher else 0,
    )


def refund_parts(refund: JournalEntry) -> tuple[int, int]:
    """(money returned to the buyer, earnings taken back from the publisher) by one refund."""
    buyer_back = publisher_back = 0
    for p in refund.postings:
        if p.account.kind == AccountKind.BUYER_BALANCE:
            buyer_back += p.amount
        elif p.account.kind in (AccountKind.PUBLISHER_PENDING, AccountKind.PUBLISHER_PAYABLE):
            publisher_back -= p.amount
    return buyer_back, publisher_back


def refunded_so_far(session: Session, entry: JournalEntry) -> tuple[int, int]:
    """(money returned to the buyer, earnings taken back from the publisher) for a charge."""
    parts = [refund_parts(refund) for refund in reversals_of(session, entry)]
    return sum(b for b, _ in parts), sum(p for _, p in parts)


def refund_charge(
    session: Session,
    *,
    key: str,
    charge_entry: JournalEntry,
    amount: int | None = None,
    kind: EntryKind = EntryKind.RETURN,
    reference: tuple[str, object] | None = None,
    memo: str | None = None,
) -> Posted:
    """Give a buyer back `amount` (default: all that is left) of a charge, never more.

    The publisher's share and the platform's margin come back in proportion; the last refund
    of a charge returns exactly what is left of each.
    """
    if kind not in REFUND_KINDS:
        raise ValueError(f"{kind} is not a refund")
    if (replayed := replay(session, key, kind)) is not None:
        return replayed
    parts = charge_parts(charge_entry)
    buyer_posting = next(
        p for p in charge_entry.postings if p.account.kind == AccountKind.BUYER_BALANCE
    )
    # Refunds of one charge take turns on the charge's own row, then count what went back.
    # (Not on the buyer's account: locked here, ahead of post_entry's id order, it deadlocked
    # with a concurrent charge of the same buyer holding the publisher's or platform's.)
    session.execute(
        select(JournalEntry.id)
        .where(JournalEntry.id == charge_entry.id)
        .with_for_update(key_share=True)
    )
    if (replayed := replay(session, key, kind)) is not None:
        return replayed
    buyer_back, publisher_back = refunded_so_far(session, charge_entry)
    remaining = parts.price - buyer_back
    if amount is None:
        amount = remaining
    if amount <= 0 or amount > remaining:
        raise Conflict(
            f"A refund of {amount} exceeds what is left of the charge ({remaining} of "
            f"{parts.price}).",
            code="refund_exceeds_charge",
            fields={"amount": [f"At most {remaining}."]},
        )
    publisher_left = parts.publisher_amount - publisher_back
    if amount == remaining:
        publisher_share = publisher_left
    else:
        # Round the running total, not each refund: the publisher has then given back its
        # share of everything refunded so far (rounded down), so the platform never gives
        # back more than its margin however many partial refunds there are.
        due = (buyer_back + amount) * parts.publisher_amount // parts.price
        publisher_share = min(publisher_left, max(0, due - publisher_back))
    legs = [Leg(parts.buyer_id, AccountKind.BUYER_BALANCE, amount)]
    if publisher_share:
        legs += _take_back_earnings(session, charge_entry, parts, publisher_share)
    legs.append(Leg(None, AccountKind.PLATFORM_REVENUE, -(amount - publisher_share)))
    return post_entry(
        session,
        key=key,
        kind=kind,
        currency=buyer_posting.currency,
        legs=legs,
        reference=reference,
        memo=memo,
        reverses=charge_entry,
    )


def _take_back_earnings(
    session: Session, charge_entry: JournalEntry, parts: ChargeParts, share: int
) -> list[Leg]:
    # Reloaded under the lock: a release may have committed since the session last read it.
    hold = session.scalar(
        select(EarningHold)
        .where(EarningHold.entry_id == charge_entry.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    from_pending = 0
    if hold is not None and hold.status == HoldStatus.HELD:
        from_pending = min(share, hold.amount)
        hold.amount -= from_pending
        if hold.amount == 0:
            hold.status = HoldStatus.REVERSED
    legs = [Leg(parts.publisher_id, AccountKind.PUBLISHER_PENDING, -from_pending)]
    legs.append(Leg(parts.publisher_id, AccountKind.PUBLISHER_PAYABLE, -(share - from_pending)))
    return legs


def release_due_earnings(session: Session, *, now: dt.datetime | None = None) -> int:
    """Move held earnings whose return window has closed to payable; returns how many."""
    now = now or utcnow()
    due = session.scalars(
        select(EarningHold)
        .where(EarningHold.status == HoldStatus.HELD, EarningHold.release_at <= now)
        .order_by(EarningHold.id)
        .with_for_update(skip_locked=True)
    ).all()
    # One transaction posts many entries: lock every account they touch at once, in id
    # order, so two release jobs (or a release and a charge) cannot deadlock.
    wallets = {(h.organization_id, h.currency) for h in due if h.amount > 0}
    ids = [
        ensure_account(session, org_id, kind, currency).id
        for org_id, currency in sorted(wallets)
        for kind in (AccountKind.PUBLISHER_PENDING, AccountKind.PUBLISHER_PAYABLE)
    ]
    lock_accounts(session, ids)
    for hold in due:
        if hold.amount > 0:
            posted = post_entry(
                session,
                key=f"release:{hold.id}",
                kind=EntryKind.RELEASE,
                currency=hold.currency,
                legs=[
                    Leg(hold.organization_id, AccountKind.PUBLISHER_PENDING, -hold.amount),
                    Leg(hold.organization_id, AccountKind.PUBLISHER_PAYABLE, hold.amount),
                ],
                reference=("entry", hold.entry_id),
            )
            hold.released_entry_id = posted.entry.id
        hold.status = HoldStatus.RELEASED
    session.flush()
    return len(due)


def next_release(session: Session, org_id: int, currency: str) -> dt.datetime | None:
    """When the publisher's next held earnings become payable."""
    return session.scalar(
        select(func.min(EarningHold.release_at)).where(
            EarningHold.organization_id == org_id,
            EarningHold.currency == currency,
            EarningHold.status == HoldStatus.HELD,
        )
    )
