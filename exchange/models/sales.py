"""Sales of leads to buyers' campaigns, and the outbox of deliveries they owe."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from database import Base, enum_column, utcnow
from exchange.models.campaigns import Campaign
from exchange.models.leads import Lead


class SaleStatus(enum.StrEnum):
    SOLD = "sold"
    RETURNED = "returned"


class Sale(Base):
    """One lead sold to one campaign at one price; the ledger entry is `sale:<id>`."""

    __tablename__ = "sale"
    __table_args__ = (
        UniqueConstraint("lead_id", "campaign_id"),
        # Never two campaigns of the same buyer for one lead.
        UniqueConstraint("lead_id", "buyer_id"),
        # Caps and budgets count a campaign's sales by period.
        Index("ix_sale_campaign_created", "campaign_id", "created_at"),
        Index("ix_sale_buyer_id", "buyer_id", "id"),
        Index("ix_sale_publisher_id", "publisher_id", "id"),
        # Reports over a period: everyone's (admins; covering, so the scan reads the index
        # alone), a publisher's, a buyer's.
        Index(
            "ix_sale_created_report",
            "created_at",
            "niche_id",
            "publisher_id",
            "buyer_id",
            "currency",
            "status",
            "pipeline_status",
            "price",
            "publisher_amount",
            "lead_id",
        ),
        Index("ix_sale_publisher_created", "publisher_id", "created_at"),
        Index("ix_sale_buyer_created", "buyer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    publisher_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    niche_id: Mapped[int] = mapped_column(ForeignKey("niche.id"))
    currency: Mapped[str] = mapped_column(String(3))
    price: Mapped[int]
    publisher_amount: Mapped[int]
    exclusive: Mapped[bool]
    status: Mapped[SaleStatus] = mapped_column(
        enum_column(SaleStatus, "sale_status"), default=SaleStatus.SOLD
    )
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entry.id"))
    # The buyer's pipeline: new -> contacted -> qualified -> converted, or lost.
    pipeline_status: Mapped[str] = mapped_column(String(16), default="new", server_default="new")
    lost_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    lead: Mapped[Lead] = relationship(lazy="raise")
    campaign: Mapped[Campaign] = relationship(lazy="raise")


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class Delivery(Base):
    """The outbox: a sale's lead still to be sent to the buyer (webhook, email or portal)."""

    __tablename__ = "delivery"
    __table_args__ = (Index("ix_delivery_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("sale.id"), unique=True)
    method: Mapped[str] = mapped_column(String(16))
    target: Mapped[str | None] = mapped_column(String(2000))
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Conversion(Base):
    """An action a buyer reported on a lead it bought (a sale, an appointment...). For a CPA
    campaign paying for that action it is charged once, as ledger entry `conversion:<id>`."""

    __tablename__ = "conversion"
    __table_args__ = (
        UniqueConstraint("buyer_id", "transaction_id"),
        Index("ix_conversion_sale_id", "sale_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    sale_id: Mapped[int] = mapped_column(ForeignKey("sale.id"))
    action: Mapped[str] = mapped_column(String(40))
    transaction_id: Mapped[str] = mapped_column(String(200))
    value: Mapped[int | None]
    amount: Mapped[int] = mapped_column(default=0)  # what the buyer was charged
    publisher_amount: Mapped[int] = mapped_column(default=0)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entry.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DeliveryAttempt(Base):
    """One try at a delivery: when, what the buyer's server answered, how long it took."""

    __tablename__ = "delivery_attempt"
    __table_args__ = (Index("ix_delivery_attempt_delivery", "delivery_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("delivery.id"))
    attempted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(default=0)


class Ping(Base):
    """A lead without personal data, offered for a bid that holds until `expires_at`; the
    post that follows must match it. A ping reserves nothing."""

    __tablename__ = "ping"
    __table_args__ = (Index("ix_ping_publisher_id", "publisher_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)
    publisher_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    niche_id: Mapped[int] = mapped_column(ForeignKey("niche.id"))
    country: Mapped[str] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(8))
    postal_code: Mapped[str | None] = mapped_column(String(16))
    fields: Mapped[dict[str, Any]]
    bid: Mapped[int | None]  # the publisher's payout on offer; None: nobody wanted it
    currency: Mapped[str] = mapped_column(String(3))
    expires_at: Mapped[dt.datetime]
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id"), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
