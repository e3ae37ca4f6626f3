"""CSV uploads of leads: once the file is checked (exchange.upload_files), submit its rows a
batch at a time through the normal intake path, recording what became of each row in plain
words.

Each row carries an idempotency key made from its niche and content, so uploading the same
file again (or a page retrying a batch) stores nothing twice: the row is answered as a replay.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from database import utcnow
from exchange.csv_rows import row_to_submission, snake_case
from exchange.errors import DomainError, InvalidInput, NotFound
from exchange.intake import Renderer, submit_lead
from exchange.models import (
    LeadStatus,
    LeadUpload,
    LeadUploadRow,
    Niche,
    Organization,
    UploadStatus,
)
from exchange.pagination import Page, paginate
from exchange.reason_text import input_errors, quality_reasons
from exchange.upload_files import CONSENT_COLUMNS, create_upload

__all__ = ["create_upload", "get_upload", "list_uploads", "process_upload", "upload_rows"]

BATCH = 25

# Loads and validates a row's body as the API does; InvalidInput (with fields) when it can't.
Loader = Callable[[dict[str, Any]], dict[str, Any]]


def get_upload(session: Session, publisher: Organization, upload_id: int) -> LeadUpload:
    """One of the publisher's uploads, or NotFound."""
    upload = session.get(LeadUpload, upload_id)
    if upload is None or upload.publisher_id != publisher.id:
        raise NotFound(f"No upload {upload_id}.")
    return upload


def list_uploads(
    session: Session, publisher: Organization, *, limit: int = 20, cursor: str | None = None
) -> Page[LeadUpload]:
    """The publisher's uploads, newest first."""
    stmt = select(LeadUpload).where(LeadUpload.publisher_id == publisher.id)
    return paginate(session, stmt, LeadUpload.id, limit=limit, cursor=cursor)


def upload_rows(
    session: Session, publisher: Organization, upload_id: int, *, problems_only: bool = False
) -> list[LeadUploadRow]:
    """What became of each row of an upload, by line (optionally only rows not accepted)."""
    get_upload(session, publisher, upload_id)
    stmt = select(LeadUploadRow).where(LeadUploadRow.upload_id == upload_id)
    if problems_only:
        stmt = stmt.where(LeadUploadRow.outcome.in_(("rejected", "invalid", "review")))
    return list(session.scalars(stmt.order_by(LeadUploadRow.line)))


def _rows(upload: LeadUpload) -> Iterator[tuple[int, dict[str, str]]]:
    text = (upload.content or "").lstrip("\r\n")
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=upload.delimiter)
    # Line numbers count the lines stripped above, so they match the file as the user sees it.
    offset = len(upload.content or "") - len(text)
    skipped = (upload.content or "")[:offset].count("\n")
    for row in itertools.islice(reader, upload.processed_rows, None):
        yield reader.line_num + skipped, row


def row_key(niche: Niche, row: dict[str, Any]) -> str:
    """The idempotency key of a row: the same row in the same niche is the same lead."""
    canonical = json.dumps([niche.slug, row], sort_keys=True, separators=(",", ":"), default=str)
    return "csv:" + hashlib.sha256(canonical.encode()).hexdigest()


def _body(row: dict[str, str], niche: Niche) -> tuple[dict[str, Any], dict[str, str]]:
    unreadable: dict[str, str] = {}
    for column, raw in list(row.items()):
        # row_to_submission reads form_seconds with float() and would raise on text.
        if column and snake_case(column) == "form_seconds" and (raw or "").strip():
            try:
                float(raw)
            except ValueError:
                unreadable[column] = f"{raw!r} is not a number of seconds"
                row = {k: v for k, v in row.items() if k != column}
    body, problems = row_to_submission(row, niche)
    problems.update(unreadable)
    consent = {}
    for column, raw in row.items():
        target = CONSENT_COLUMNS.get(snake_case(column)) if column else None
        if target and (raw or "").strip():
            consent[target] = raw.strip()
    if consent:
        body["consent"] = consent
    return body, problems


OUTCOME_BY_STATUS = {
    LeadStatus.SOLD: "sold",
    LeadStatus.UNSOLD: "accepted",
    LeadStatus.RECEIVED: "accepted",
    LeadStatus.REVIEW: "review",
    LeadStatus.REJECTED: "rejected",
}


def _submit_row(
    session: Session,
    publisher: Organization,
    niche: Niche,
    row: dict[str, str],
    load: Loader,
    render: Renderer,
) -> LeadUploadRow:
    body, problems = _body(row, niche)
    try:
        if problems:
            raise InvalidInput("Columns could not be read.", fields=problems)
        data = load(body)
        with session.begin_nested():
            intake = submit_lead(
                session,
                publisher,
                data,
                raw=dict(row),
                idempotency_key=row_key(niche, row),
                render=render,
            )
    except DomainError as exc:
        reasons = input_errors(exc.fields) if exc.fields else [exc.message]
        return LeadUploadRow(outcome="invalid", reasons=_unique(reasons))
    lead = intake.lead
    if intake.replayed:
        return LeadUploadRow(
            outcome="repeated",
            lead_id=lead.id,
            reasons=[f"Already submitted as lead {lead.id}; nothing new was stored."],
        )
    outcome = OUTCOME_BY_STATUS[lead.status]
    reasons = quality_reasons(lead.quality, warnings=outcome == "review")
    if outcome in ("accepted", "sold"):
        reasons = []
    return LeadUploadRow(outcome=outcome, lead_id=lead.id, reasons=reasons)


def _unique(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(texts))


COUNTERS = {"sold": ("accepted", "sold"), "accepted": ("accepted",), "review": ("review",)}


def process_upload(
    session: Session,
    publisher: Organization,
    upload_id: int,
    *,
    load: Loader,
    render: Renderer,
    batch: int | None = None,
) -> LeadUpload:
    """Submit the next `batch` rows of an upload (each in its own savepoint) and count them."""
    get_upload(session, publisher, upload_id)
    # Taking the row lock makes two pages carrying on the same upload take turns.
    upload = session.scalar(
        select(LeadUpload)
        .where(LeadUpload.id == upload_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert upload is not None
    if upload.done:
        return upload
    niche = session.get(Niche, upload.niche_id)
    assert niche is not None
    batch = batch or BATCH
    seen = 0
    for line, row in itertools.islice(_rows(upload), batch):
        seen += 1
        result = _submit_row(session, publisher, niche, row, load, render)
        result.upload_id, result.line = upload.id, line
        session.add(result)
        for counter in COUNTERS.get(result.outcome, (result.outcome,)):
            setattr(upload, counter, getattr(upload, counter) + 1)
        upload.processed_rows += 1
    if upload.processed_rows >= upload.total_rows or seen < batch:
        upload.status = UploadStatus.DONE
        upload.finished_at = utcnow()
        upload.content = None
    session.flush()
    return upload
