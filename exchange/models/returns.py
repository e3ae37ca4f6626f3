"""Returns of sold leads, disputes of CPA charges, and the return history of each source.

(Card chargebacks on top-ups are billing's: billing.models.Chargeback.)
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from database import Base, enum_column, utcnow
from exchange.models.sales import Conversion, Sale

# The fixed list of reasons; a niche may accept fewer (Niche.return_reasons).
RETURN_REASONS = (
    "invalid_phone",
    "invalid_email",
    "disconnected",
    "wrong_person",
    "duplicate",
    "outside_geography",
    "fake_or_fraud",
    "no_consent",
    "other",
)


class ReturnStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ReturnStage(enum.StrEnum):
    PUBLISHER = "publisher"  # waiting for the publisher's answer (until respond_by)
    ADMIN = "admin"  # waiting for an admin's ruling
    DECIDED = "decided"


class LeadReturn(Base):
    """A buyer's return of a sale (kind "return") or dispute of a CPA charge ("dispute").

    `open_key` holds "sale:<id>" / "conversion:<id>" while the return is pending or approved
    and NULL once rejected: its unique index lets one open return exist per sale, however
    many requests race to file one.
    """

    __tablename__ = "lead_return"
    __table_args__ = (
        Index("ix_lead_return_queue", "status", "created_at"),
        Index("ix_lead_return_buyer", "buyer_id", "id"),
        Index("ix_lead_return_publisher", "publisher_id", "id"),
        Index("ix_lead_return_sale", "sale_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="return")
    sale_id: Mapped[int] = mapped_column(ForeignKey("sale.id"))
    conversion_id: Mapped[int | None] = mapped_column(ForeignKey("conversion.id"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    publisher_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    niche_id: Mapped[int] = mapped_column(ForeignKey("niche.id"))
    sub_id: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[dict[str, Any] | None]
    status: Mapped[ReturnStatus] = mapped_column(
        enum_column(ReturnStatus, "return_status"), default=ReturnStatus.PENDING
    )
    stage: Mapped[ReturnStage] = mapped_column(
        enum_column(ReturnStage, "return_stage"), default=ReturnStage.PUBLISHER
    )
    open_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    # The automatic re-check: {"result": proven|disproven|inconclusive, "detail": ...}
    finding: Mapped[dict[str, Any] | None]
    respond_by: Mapped[dt.datetime | None]
    publisher_response: Mapped[str | None] = mapped_column(Text)
    publisher_evidence: Mapped[dict[str, Any] | None]
    responded_at: Mapped[dt.datetime | None]
    amount: Mapped[int] = mapped_column(default=0)  # what the buyer was charged
    currency: Mapped[str] = mapped_column(String(3))
    refunded: Mapped[int] = mapped_column(default=0)  # what went back on approval
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entry.id"))
    decided_by: Mapped[str | None] = mapped_column(String(40))  # "automatic" or "admin:<org>"
    decision_note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    sale: Mapped[Sale] = relationship(lazy="raise")
    conversion: Mapped[Conversion | None] = relationship(lazy="raise")


class SourceStats(Base):
    """A source's record in a niche (sub_id "" is the publisher as a whole), recomputed at
    every ruling over the last 30 days: what quality scoring and the flag read."""

    __tablename__ = "source_stats"
    __table_args__ = (UniqueConstraint("publisher_id", "niche_id", "sub_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    publisher_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    niche_id: Mapped[int] = mapped_column(ForeignKey("niche.id"))
    sub_id: Mapped[str] = mapped_column(String(100), default="")
    sales: Mapped[int] = mapped_column(default=0)
    returns: Mapped[int] = mapped_column(default=0)
    return_rate: Mapped[float] = mapped_column(default=0.0)
    # On the publisher's row (sub_id ""): an open PublisherFlag in this niche.
    flagged: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PublisherFlag(Base):
    """A publisher flagged in a niche for its return rate: its leads there go to review until
    an admin clears the flag."""

    __tablename__ = "publisher_flag"
    __table_args__ = (Index("ix_publisher_flag_open", "publisher_id", "niche_id", "cleared_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    publisher_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    niche_id: Mapped[int] = mapped_column(ForeignKey("niche.id"))
    return_rate: Mapped[float]
    reason: Mapped[str] = mapped_column(Text)
    flagged_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    cleared_at: Mapped[dt.datetime | None]
    cleared_by_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    clear_note: Mapped[str | None] = mapped_column(Text)


class BuyerTerms(Base):
    """A buyer's contract: its own return window and return cap, where it differs from the
    niche's."""

    __tablename__ = "buyer_terms"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), primary_key=True)
    return_window_hours: Mapped[int | None]
    return_cap_percent: Mapped[int | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
