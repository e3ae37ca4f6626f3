"""The price book: base prices by niche and place, and each niche's price settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from database import Base, utcnow


class PriceRule(Base):
    """A base CPL and floor for a niche in a place: the whole niche (place ""), a country
    ("US"), a subdivision ("US-CA") or a postal code ("US:94110"). The most specific rule
    matching a lead wins."""

    __tablename__ = "price_rule"
    __table_args__ = (
        UniqueConstraint("niche_id", "place"),
        CheckConstraint("base_cpl > 0", name="base_positive"),
        CheckConstraint("floor >= 0", name="floor_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    niche_id: Mapped[int] = mapped_column(ForeignKey("niche.id"))
    place_kind: Mapped[str] = mapped_column(String(12))  # niche | country | subdivision | postal
    place: Mapped[str] = mapped_column(String(24))
    base_cpl: Mapped[int]
    floor: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class NichePricing(Base):
    """How a niche's base price moves: quality tiers, exclusivity, age; and what publishers earn."""

    __tablename__ = "niche_pricing"

    niche_id: Mapped[int] = mapped_column(ForeignKey("niche.id"), primary_key=True)
    # [{"min_score": 90, "multiplier": 1.2}, ...]: the highest tier the score reaches applies.
    quality_tiers: Mapped[list[Any]]
    exclusive_multiplier: Mapped[float] = mapped_column(default=1.5)
    # [{"after_days": 1, "multiplier": 0.7}, ...]: the latest step the lead's age reached applies.
    aged_discounts: Mapped[list[Any]]
    payout_type: Mapped[str] = mapped_column(String(8), default="share")  # share | fixed
    payout_value: Mapped[int] = mapped_column(default=70)  # percent, or minor units
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PublisherPayout(Base):
    """A publisher's own payout terms in a niche, overriding the niche's."""

    __tablename__ = "publisher_payout"

    niche_id: Mapped[int] = mapped_column(ForeignKey("niche.id"), primary_key=True)
    publisher_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), primary_key=True)
    payout_type: Mapped[str] = mapped_column(String(8))
    payout_value: Mapped[int]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
