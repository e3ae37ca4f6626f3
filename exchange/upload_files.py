"""Checking an uploaded CSV file of leads before any row is submitted: size, encoding, the
header and the columns the niche needs, the number of rows. A refusal says what to fix."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy.orm import Session

from exchange.csv_rows import IGNORED, LEAD_COLUMNS, snake_case
from exchange.errors import InvalidInput, NotFound
from exchange.models import LeadUpload, Niche, Organization
from exchange.niches import get_niche

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
CONSENT_COLUMNS = {
    "consent_text": "text",
    "consent_url": "url",
    "consent_captured_at": "captured_at",
}


def size_limit() -> str:
    """The largest file accepted, in words ('2 MB')."""
    if MAX_BYTES >= 1024 * 1024:
        return f"{MAX_BYTES / (1024 * 1024):g} MB"
    return f"{MAX_BYTES / 1024:g} KB"


def _refuse(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, fields={field: [message]})


def _decode(data: bytes) -> str:
    if not data.strip():
        raise _refuse("file", "The file is empty.")
    if b"\x00" in data or data[:4] == b"PK\x03\x04":
        raise _refuse(
            "file",
            "This is not a CSV file (it looks like a spreadsheet or binary file). "
            "Save it as 'CSV UTF-8' and upload that.",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse(
            "file", "The file is not UTF-8 text. Save it as 'CSV UTF-8' and upload it again."
        ) from None


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def known_columns(niche: Niche) -> set[str]:
    """The snake_case column names an upload to this niche understands."""
    return {*LEAD_COLUMNS, *IGNORED, *CONSENT_COLUMNS, *(f.name for f in niche.fields)}


def _check_header(header: list[str], niche: Niche) -> None:
    names = {snake_case(h) for h in header if h}
    if not names & known_columns(niche):
        raise _refuse(
            "file",
            "The first line must be a header naming the columns, such as "
            "first_name,last_name,email,phone,country,postal_code. "
            "Download the example file for this niche.",
        )
    missing = []
    if "country" not in names:
        missing.append("country")
    if not names & {"email", "phone"}:
        missing.append("email or phone")
    missing += [f.name for f in niche.fields if f.required and f.name not in names]
    if missing:
        raise _refuse("file", f"The file has no column for: {', '.join(missing)}.")


def _count_rows(text: str, delimiter: str) -> int:
    try:
        return sum(1 for _ in csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise _refuse("file", f"The file cannot be read as CSV: {exc}.") from None


def create_upload(
    session: Session, publisher: Organization, niche_slug: str, filename: str, data: bytes
) -> LeadUpload:
    """Check an uploaded CSV file and keep it for processing, or InvalidInput saying why not."""
    try:
        if not niche_slug or "\x00" in niche_slug:
            raise NotFound("No niche.")
        niche = get_niche(session, niche_slug)
    except NotFound:
        raise _refuse("niche", "Choose a niche.") from None
    if not niche.is_active:
        raise _refuse("niche", f"{niche.name} is not accepting leads.")
    # Browsers may send a path ("C:\\fakepath\\leads.csv"); keep the printable base name.
    filename = "".join(c for c in re.split(r"[\\/]", filename or "")[-1] if c.isprintable())
    if not filename:
        raise _refuse("file", "Choose a CSV file to upload.")
    if not filename.lower().endswith((".csv", ".txt")):
        raise _refuse("file", "Upload a .csv file (save a spreadsheet as 'CSV UTF-8').")
    if len(data) > MAX_BYTES:
        raise _refuse("file", f"The file is larger than {size_limit()}; split it.")
    text = _decode(data)
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = _delimiter(first_line)
    try:
        header = next(csv.reader(io.StringIO(text.lstrip("\r\n"), newline=""), delimiter=delimiter))
    except (StopIteration, csv.Error):
        raise _refuse("file", "The file has no header line.") from None
    _check_header(header, niche)
    total = _count_rows(text.lstrip("\r\n"), delimiter)
    if total == 0:
        raise _refuse("file", "The file has a header but no rows of leads.")
    if total > MAX_ROWS:
        raise _refuse(
            "file", f"The file has {total:,} rows; upload at most {MAX_ROWS:,} at a time."
        )
    upload = LeadUpload(
        publisher_id=publisher.id,
        niche_id=niche.id,
        filename=filename[-255:],
        delimiter=delimiter,
        content=text,
        total_rows=total,
    )
    session.add(upload)
    session.flush()
    return upload
