"""Niches (verticals) and the typed fields each one declares."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from database import Base, enum_column, utcnow


class FieldType(enum.StrEnum):
    ENUM = "enum"
    NUMBER = "number"
    BOOLEAN = "boolean"
    TEXT = "text"
    DATE = "date"


# Settings a new niche starts with; the column defaults use the same values.
NICHE_DEFAULTS: dict[str, Any] = {
    "description": "",
    "currency": "USD",
    "return_window_hours": 72,
    "duplicate_window_days": 30,
    "accept_score": 60,
    "review_score": 40,
    "consent_required": False,
    "consent_max_age_days": 30,
    "max_buyers": 3,
    "is_active": True,
}


class Niche(Base):
    __tablename__ = "niche"
    __table_args__ = (
        CheckConstraint("review_score <= accept_score", name="thresholds_ordered"),
        CheckConstraint("return_window_hours >= 0", name="return_window_positive"),
        CheckConstraint("duplicate_window_days >= 0", name="duplicate_window_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    currency: Mapped[str] = mapped_column(String(3), default=NICHE_DEFAULTS["currency"])
    return_window_hours: Mapped[int] = mapped_column(default=NICHE_DEFAULTS["return_window_hours"])
    duplicate_window_days: Mapped[int] = mapped_column(
        default=NICHE_DEFAULTS["duplicate_window_days"]
    )
    # Scores at or above accept_score are accepted, below review_score rejected, between: review.
    accept_score: Mapped[int] = mapped_column(default=NICHE_DEFAULTS["accept_score"])
    review_score: Mapped[int] = mapped_column(default=NICHE_DEFAULTS["review_score"])
    consent_required: Mapped[bool] = mapped_column(default=NICHE_DEFAULTS["consent_required"])
    consent_max_age_days: Mapped[int] = mapped_column(
        default=NICHE_DEFAULTS["consent_max_age_days"]
    )
    max_buyers: Mapped[int] = mapped_column(default=NICHE_DEFAULTS["max_buyers"])
    # Returns: the reasons this niche accepts (None: all of RETURN_REASONS), the share of a
    # buyer's monthly sales it may return, the publisher's time to answer, and the return
    # rate at which a publisher is flagged for review.
    return_reasons: Mapped[list[Any] | None]
    return_cap_percent: Mapped[int] = mapped_column(default=15, server_default="15")
    return_response_hours: Mapped[int] = mapped_column(default=48, server_default="48")
    flag_return_rate: Mapped[int] = mapped_column(default=25, server_default="25")
    is_active: Mapped[bool] = mapped_column(default=NICHE_DEFAULTS["is_active"])
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    fields: Mapped[list[NicheField]] = relationship(
        back_populates="niche",
        order_by="NicheField.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    def field(self, name: str) -> NicheField | None:
        return next((f for f in self.fields if f.name == name), None)


class NicheField(Base):
    __tablename__ = "niche_field"
    __table_args__ = (UniqueConstraint("niche_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    niche_id: Mapped[int] = mapped_column(ForeignKey("niche.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(120))
    type: Mapped[FieldType] = mapped_column(enum_column(FieldType, "field_type"))
    required: Mapped[bool] = mapped_column(default=False)
    choices: Mapped[list[Any] | None] = mapped_column()
    minimum: Mapped[float | None]
    maximum: Mapped[float | None]
    max_length: Mapped[int | None]
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    niche: Mapped[Niche] = relationship(back_populates="fields")
