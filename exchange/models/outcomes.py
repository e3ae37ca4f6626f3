"""What buyers report about leads (the model learns from it) and the trained model versions."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column

from database import Base, enum_column, utcnow


class Outcome(enum.StrEnum):
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    CONVERTED = "converted"
    LOST = "lost"


class LeadOutcome(Base):
    __tablename__ = "lead_outcome"
    __table_args__ = (Index("ix_lead_outcome_lead_id", "lead_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id"))
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    outcome: Mapped[Outcome] = mapped_column(enum_column(Outcome, "outcome"))
    reason: Mapped[str | None] = mapped_column(Text)
    reported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ConversionModel(Base):
    """One trained version of a niche's conversion model, with its evaluation."""

    __tablename__ = "conversion_model"
    __table_args__ = (UniqueConstraint("niche_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    niche_id: Mapped[int] = mapped_column(ForeignKey("niche.id"))
    version: Mapped[int]
    feature_version: Mapped[int]
    samples: Mapped[int]
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    blob: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    trained_by: Mapped[str] = mapped_column(String(64), default="cli")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def label(self) -> str:
        return f"v{self.version}"
