"""Leads as submitted, normalised, and the idempotency keys that guard their intake."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from database import Base, JSONType, enum_column, utcnow
from exchange.models.accounts import Organization
from exchange.models.niches import Niche


class LeadStatus(enum.StrEnum):
    RECEIVED = "received"
    REVIEW = "review"
    REJECTED = "rejected"
    UNSOLD = "unsold"
    SOLD = "sold"


class Lead(Base):
    __tablename__ = "lead"
    __table_args__ = (
        UniqueConstraint("publisher_id", "external_id"),
        Index("ix_lead_publisher_id", "publisher_id", "id"),
        Index("ix_lead_publisher_status_id", "publisher_id", "status", "id"),
        Index("ix_lead_publisher_niche_id", "publisher_id", "niche_id", "id"),
        Index("ix_lead_publisher_created", "publisher_id", "created_at"),
        # Quality look-ups: each is one indexed query (duplicates, velocity, rotation).
        Index("ix_lead_niche_email_created", "niche_id", "email", "created_at"),
        Index("ix_lead_niche_phone_created", "niche_id", "phone", "created_at"),
        Index("ix_lead_ip_created", "ip", "created_at"),
        Index("ix_lead_user_agent_created", "user_agent_hash", "created_at"),
        Index("ix_lead_publisher_sub_created", "publisher_id", "sub_id", "created_at"),
        Index("ix_lead_person_created", "postal_code", "last_name", "created_at"),
        # The review queue, oldest first.
        Index("ix_lead_status_id", "status", "id"),
        # Reports over a period for all publishers (admins): every column they group or count
        # by, so the scan reads the index alone.
        Index(
            "ix_lead_created_report",
            "created_at",
            "niche_id",
            "status",
            "publisher_id",
            "region",
            "sub_id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    publisher_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    niche_id: Mapped[int] = mapped_column(ForeignKey("niche.id"))
    external_id: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[LeadStatus] = mapped_column(
        enum_column(LeadStatus, "lead_status"), default=LeadStatus.RECEIVED
    )

    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))

    country: Mapped[str] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(8))
    postal_code: Mapped[str | None] = mapped_column(String(16))
    city: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)

    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(Text)
    # A short hash of the user agent, so device velocity is an index look-up on a small key.
    user_agent_hash: Mapped[str | None] = mapped_column(String(16))
    form_seconds: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(String(100))
    sub_id: Mapped[str | None] = mapped_column(String(100))

    consent_text: Mapped[str | None] = mapped_column(Text)
    consent_url: Mapped[str | None] = mapped_column(String(2048))
    consent_captured_at: Mapped[dt.datetime | None]

    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # What normalisation noticed (a ZIP that contradicts the state...): input for quality.
    findings: Mapped[list[Any]] = mapped_column(default=list)
    quality: Mapped[dict[str, Any] | None] = mapped_column()
    score: Mapped[int | None] = mapped_column(Integer)
    # Kept with the lead so lists show them without a query per lead; payout is the
    # publisher's earnings from the lead's sales, in minor units.
    sales_count: Mapped[int] = mapped_column(default=0, server_default="0")
    payout: Mapped[int] = mapped_column(default=0, server_default="0")
    raw_payload: Mapped[dict[str, Any]] = deferred(mapped_column(JSONType))
    # The body first answered to the publisher; replays return exactly this.
    intake_response: Mapped[dict[str, Any] | None] = deferred(mapped_column(JSONType))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    publisher: Mapped[Organization] = relationship()
    niche: Mapped[Niche] = relationship()
    reasons: Mapped[list[LeadReason]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class LeadReason(Base):
    """One non-passing reason of a lead's quality report, for queues and reports by reason."""

    __tablename__ = "lead_reason"
    __table_args__ = (Index("ix_lead_reason_code_lead", "code", "lead_id"),)

    lead_id: Mapped[int] = mapped_column(
        ForeignKey("lead.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    severity: Mapped[str] = mapped_column(String(8))


class IdempotencyKey(Base):
    """A client's Idempotency-Key, bound to the first request's fingerprint and result."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("organization_id", "scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    scope: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
