"""The books (accounts, journal entries, postings) and the payment records around them.

Sign convention: a posting's amount is what the account's holder gains. A buyer's balance,
a publisher's earnings and the platform's revenue are positive when money is theirs; the
Stripe clearing account (money that came in from outside) runs negative. Every entry's
postings sum to zero per currency, so the sum of all balances is always zero.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from database import Base, enum_column, utcnow


class AccountKind(enum.StrEnum):
    BUYER_BALANCE = "buyer_balance"  # prepaid money a buyer can spend
    PUBLISHER_PENDING = "publisher_pending"  # earnings held while the sale may be returned
    PUBLISHER_PAYABLE = "publisher_payable"  # earnings due at the next payout
    PUBLISHER_PAID_OUT = "publisher_paid_out"  # everything sent to the publisher, cumulative
    PLATFORM_REVENUE = "platform_revenue"  # the exchange's margin
    PLATFORM_ADJUSTMENTS = "platform_adjustments"  # the other side of manual adjustments
    STRIPE_CLEARING = "stripe_clearing"  # money in (top-ups) and out (refunds) through Stripe


PLATFORM_KINDS = frozenset(
    {AccountKind.PLATFORM_REVENUE, AccountKind.PLATFORM_ADJUSTMENTS, AccountKind.STRIPE_CLEARING}
)


class EntryKind(enum.StrEnum):
    TOPUP = "topup"
    TOPUP_REFUND = "topup_refund"
    SALE = "sale"
    CONVERSION = "conversion"
    RETURN = "return"
    REFUND = "refund"
    RELEASE = "release"
    PAYOUT = "payout"
    PAYOUT_FAILED = "payout_failed"
    ADJUSTMENT = "adjustment"
    REVERSAL = "reversal"
    CHARGEBACK = "chargeback"


class LedgerAccount(Base):
    """One balance: an organisation's (or the platform's) money of one kind in one currency."""

    __tablename__ = "ledger_account"
    __table_args__ = (
        CheckConstraint("min_balance IS NULL OR balance >= min_balance", name="balance_floor"),
        CheckConstraint("min_balance IS NULL OR min_balance <= 0", name="floor_not_positive"),
        Index("ix_ledger_account_org_currency", "organization_id", "currency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # "org:12:buyer_balance:USD" or "platform:platform_revenue:USD": unique even without an org.
    code: Mapped[str] = mapped_column(String(80), unique=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    kind: Mapped[AccountKind] = mapped_column(enum_column(AccountKind, "account_kind", 24))
    currency: Mapped[str] = mapped_column(String(3))
    balance: Mapped[int] = mapped_column(default=0)
    # The lowest the balance may go (minus the credit limit); NULL means no floor.
    min_balance: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def credit_limit(self) -> int:
        return -self.min_balance if self.min_balance else 0


class JournalEntry(Base):
    """One movement of money: two or more postings summing to zero; never changed afterwards."""

    __tablename__ = "journal_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[EntryKind] = mapped_column(enum_column(EntryKind, "entry_kind", 24))
    reference_type: Mapped[str | None] = mapped_column(String(40))
    reference_id: Mapped[str | None] = mapped_column(String(80))
    memo: Mapped[str | None] = mapped_column(Text)
    # A reversal, refund or return points at the entry it (partly) undoes.
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entry.id"), index=True)
    actor_organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    postings: Mapped[list[Posting]] = relationship(
        back_populates="entry", order_by="Posting.id", lazy="selectin"
    )


class Posting(Base):
    __tablename__ = "posting"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        Index("ix_posting_account_id", "account_id", "id"),
        Index("ix_posting_account_created", "account_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entry.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"))
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    # The entry's time, copied so statements range over one indexed table.
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    entry: Mapped[JournalEntry] = relationship(back_populates="postings")
    account: Mapped[LedgerAccount] = relationship(lazy="joined")


class TopUpStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class TopUp(Base):
    """A buyer adding money through Stripe; the balance moves only once Stripe says it succeeded."""

    __tablename__ = "topup"
    __table_args__ = (
        UniqueConstraint("organization_id", "client_key"),
        Index("ix_topup_org_id", "organization_id", "id"),
        Index("ix_topup_status_source", "status", "source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[TopUpStatus] = mapped_column(
        enum_column(TopUpStatus, "topup_status"), default=TopUpStatus.PENDING
    )
    source: Mapped[str] = mapped_column(String(16), default="manual")  # manual | auto
    attempt: Mapped[int] = mapped_column(default=1)
    client_key: Mapped[str | None] = mapped_column(String(255))
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    client_secret: Mapped[str | None] = mapped_column(String(255))
    refunded_amount: Mapped[int] = mapped_column(default=0)
    failure_code: Mapped[str | None] = mapped_column(String(100))
    failure_message: Mapped[str | None] = mapped_column(Text)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entry.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    succeeded_at: Mapped[dt.datetime | None]


class TopUpRefund(Base):
    """Money sent back to the card a top-up came from."""

    __tablename__ = "topup_refund"

    id: Mapped[int] = mapped_column(primary_key=True)
    topup_id: Mapped[int] = mapped_column(ForeignKey("topup.id"), index=True)
    amount: Mapped[int]
    gateway_refund_id: Mapped[str | None] = mapped_column(String(255))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entry.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class StripeEvent(Base):
    """A webhook event we have acted on; the primary key makes every event act once."""

    __tablename__ = "stripe_event"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    object_id: Mapped[str | None] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class BillingProfile(Base):
    """An organisation's payment settings: Stripe customer, saved card, auto top-up, payouts."""

    __tablename__ = "billing_profile"
    __table_args__ = (
        CheckConstraint(
            "auto_topup_threshold IS NULL OR auto_topup_threshold >= 0", name="threshold"
        ),
        CheckConstraint("auto_topup_amount IS NULL OR auto_topup_amount > 0", name="amount"),
    )

    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), primary_key=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    payment_method_id: Mapped[str | None] = mapped_column(String(255))
    card_brand: Mapped[str | None] = mapped_column(String(40))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    auto_topup_enabled: Mapped[bool] = mapped_column(default=False)
    auto_topup_currency: Mapped[str | None] = mapped_column(String(3))
    auto_topup_threshold: Mapped[int | None]
    auto_topup_amount: Mapped[int | None]
    auto_topup_failure: Mapped[str | None] = mapped_column(Text)
    auto_topup_failed_at: Mapped[dt.datetime | None]
    payout_destination: Mapped[str | None] = mapped_column(String(255))  # Stripe Connect acct_
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class HoldStatus(enum.StrEnum):
    HELD = "held"
    RELEASED = "released"
    REVERSED = "reversed"


class EarningHold(Base):
    """A publisher's earnings from one charge, held until the sale can no longer be returned."""

    __tablename__ = "earning_hold"
    __table_args__ = (Index("ix_earning_hold_due", "status", "release_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entry.id"), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int]  # still held; refunds before release take from here
    release_at: Mapped[dt.datetime]
    status: Mapped[HoldStatus] = mapped_column(
        enum_column(HoldStatus, "hold_status"), default=HoldStatus.HELD
    )
    released_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entry.id"))


class PayoutStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"


class Payout(Base):
    """Money sent to a publisher; a failed payout is reversed in the ledger."""

    __tablename__ = "payout"
    __table_args__ = (Index("ix_payout_org_id", "organization_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[PayoutStatus] = mapped_column(
        enum_column(PayoutStatus, "payout_status"), default=PayoutStatus.PENDING
    )
    destination: Mapped[str | None] = mapped_column(String(255))
    transfer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    failure_message: Mapped[str | None] = mapped_column(Text)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entry.id"))
    reversal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entry.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Chargeback(Base):
    """A card dispute (Stripe `charge.dispute.*`) on a buyer's top-up, recorded against the
    buyer's balance; what the balance could not cover is `unrecovered` (the platform's loss
    until the buyer tops up)."""

    __tablename__ = "chargeback"

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_dispute_id: Mapped[str] = mapped_column(String(255), unique=True)
    topup_id: Mapped[int] = mapped_column(ForeignKey("topup.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    unrecovered: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(24))  # Stripe's: needs_response, won, lost...
    reason: Mapped[str | None] = mapped_column(String(64))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entry.id"))
    reversal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entry.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None]
