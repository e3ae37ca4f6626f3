"""CSV uploads of leads from the publisher portal: the file, its progress, and a report line
per row. Rows are submitted a batch at a time, so any process can carry on an upload."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from database import Base, enum_column, utcnow


class UploadStatus(enum.StrEnum):
    PROCESSING = "processing"
    DONE = "done"


class LeadUpload(Base):
    __tablename__ = "lead_upload"
    __table_args__ = (Index("ix_lead_upload_publisher", "publisher_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    publisher_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    niche_id: Mapped[int] = mapped_column(ForeignKey("niche.id"))
    filename: Mapped[str] = mapped_column(String(255))
    delimiter: Mapped[str] = mapped_column(String(1), default=",", server_default=",")
    # The decoded file while rows remain; emptied once every row is in (the leads keep theirs).
    content: Mapped[str | None] = mapped_column(Text)
    status: Mapped[UploadStatus] = mapped_column(
        enum_column(UploadStatus, "upload_status"),
        default=UploadStatus.PROCESSING,
        server_default=UploadStatus.PROCESSING.value,
    )
    total_rows: Mapped[int] = mapped_column(default=0, server_default="0")
    processed_rows: Mapped[int] = mapped_column(default=0, server_default="0")
    # Row outcomes: accepted (sold or waiting for a buyer), review, rejected by quality,
    # invalid (nothing stored), repeated (a row already uploaded: nothing new stored).
    accepted: Mapped[int] = mapped_column(default=0, server_default="0")
    sold: Mapped[int] = mapped_column(default=0, server_default="0")
    review: Mapped[int] = mapped_column(default=0, server_default="0")
    rejected: Mapped[int] = mapped_column(default=0, server_default="0")
    invalid: Mapped[int] = mapped_column(default=0, server_default="0")
    repeated: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]

    @property
    def done(self) -> bool:
        return self.status == UploadStatus.DONE


class LeadUploadRow(Base):
    """What became of one row of an upload, with the reasons in plain words."""

    __tablename__ = "lead_upload_row"

    upload_id: Mapped[int] = mapped_column(
        ForeignKey("lead_upload.id", ondelete="CASCADE"), primary_key=True
    )
    line: Mapped[int] = mapped_column(primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id"))
    reasons: Mapped[list[Any]] = mapped_column(default=list, server_default="[]")
