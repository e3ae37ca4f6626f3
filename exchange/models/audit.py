"""The append-only audit log of admin actions and security-relevant changes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from database import Base, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_org_id", "organization_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The organisation the event belongs to (whose trail shows it); the actor may differ.
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    actor_organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    actor_api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
