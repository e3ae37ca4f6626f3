"""Buyer campaigns (standing orders for leads) and the geography rows matching searches by."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from database import Base, enum_column, utcnow
from exchange.models.accounts import Organization
from exchange.models.niches import Niche


class CampaignStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


class Campaign(Base):
    """What a buyer wants (niche, place, schedule, quality, fields), at what price, how much,
    and where the leads go. Rules are kept as validated JSON; geography is also written out
    to `campaign_target` rows so matching finds campaigns by index."""

    __tablename__ = "campaign"
    __table_args__ = (
        Index("ix_campaign_buyer_id", "buyer_id", "id"),
        Index("ix_campaign_niche_status", "niche_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    niche_id: Mapped[int] = mapped_column(ForeignKey("niche.id"))
    name: Mapped[str] = mapped_column(String(120))
    status: Mapped[CampaignStatus] = mapped_column(
        enum_column(CampaignStatus, "campaign_status"), default=CampaignStatus.ACTIVE
    )
    currency: Mapped[str] = mapped_column(String(3))
    geography: Mapped[dict[str, Any]]
    schedule: Mapped[dict[str, Any] | None]
    min_score: Mapped[int | None]
    min_temperature: Mapped[str | None] = mapped_column(String(8))
    max_lead_age_hours: Mapped[int | None]
    exclusive: Mapped[bool] = mapped_column(default=False)
    filters: Mapped[list[Any]]
    caps: Mapped[dict[str, Any]]
    budget: Mapped[int | None]
    pricing: Mapped[dict[str, Any]]
    delivery: Mapped[dict[str, Any]]
    signing_secret: Mapped[str] = mapped_column(String(64))
    # Ties in the auction go to the campaign that won least recently (round robin).
    last_won_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    buyer: Mapped[Organization] = relationship(lazy="raise")
    niche: Mapped[Niche] = relationship(lazy="joined", innerjoin=True)
    targets: Mapped[list[CampaignTarget]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", lazy="raise"
    )


class CampaignTarget(Base):
    """One place a campaign buys in: a whole country, a subdivision or a postal code (a radius
    is written out as the postal codes inside it)."""

    __tablename__ = "campaign_target"
    __table_args__ = (Index("ix_campaign_target_lookup", "niche_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    niche_id: Mapped[int] = mapped_column(ForeignKey("niche.id"))
    kind: Mapped[str] = mapped_column(String(12))  # country | subdivision | postal
    value: Mapped[str] = mapped_column(String(24))  # "US", "US-CA", "US:94110"

    campaign: Mapped[Campaign] = relationship(back_populates="targets")
