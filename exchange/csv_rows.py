"""Turning one CSV row into a lead submission: known columns to lead fields, the rest to the
niche's own fields under their snake_case names, typed by the niche's definitions."""

from __future__ import annotations

import re
from typing import Any

import pycountry

from exchange.models import FieldType, Niche

LEAD_COLUMNS = {
    "prospect_id": "external_id",
    "external_id": "external_id",
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "phone": "phone",
    "country": "country",
    "region": "region",
    "state": "region",
    "postal_code": "postal_code",
    "zip": "postal_code",
    "zip_code": "postal_code",
    "city": "city",
    "address": "address",
    "ip": "ip",
    "user_agent": "user_agent",
    "source": "source",
    "sub_id": "sub_id",
    "form_seconds": "form_seconds",
}
# Columns that describe what happened after the sale, or the data set's own bookkeeping.
IGNORED = frozenset({"lead_number", "converted", "outcome", "lead_id"})
MISSING = frozenset({"", "select", "null", "none", "n/a", "na"})
TRUE, FALSE = frozenset({"yes", "true", "1", "y"}), frozenset({"no", "false", "0", "n"})


def snake_case(name: str) -> str:
    """'TotalVisits' -> 'total_visits'; 'Do Not Email' -> 'do_not_email'."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def country_code(value: str) -> str | None:
    """An ISO alpha-2 code from a code or an English country name, if there is one."""
    value = value.strip()
    if len(value) == 2 and pycountry.countries.get(alpha_2=value.upper()):
        return value.upper()
    try:
        return str(pycountry.countries.lookup(value).alpha_2)
    except LookupError:
        return None


def _typed(ftype: FieldType, raw: str) -> Any:
    text = raw.strip()
    if text.lower() in MISSING:
        return None
    if ftype == FieldType.BOOLEAN:
        if text.lower() in TRUE:
            return True
        if text.lower() in FALSE:
            return False
        raise ValueError(f"{raw!r} is not yes or no")
    if ftype == FieldType.NUMBER:
        number = float(text)
        return int(number) if number.is_integer() else number
    return text


def row_to_submission(row: dict[str, str], niche: Niche) -> tuple[dict[str, Any], dict[str, str]]:
    """The submission body for one row, and the columns that could not be read (with why)."""
    data: dict[str, Any] = {"niche": niche.slug, "fields": {}}
    errors: dict[str, str] = {}
    for column, raw in row.items():
        if column is None:
            errors["_row"] = "more values than columns"
            continue
        key = snake_case(column)
        raw = raw or ""
        if key in IGNORED:
            continue
        if key in LEAD_COLUMNS:
            target = LEAD_COLUMNS[key]
            if raw.strip().lower() in MISSING:
                continue
            if target == "country":
                code = country_code(raw)
                if code:
                    data["country"] = code
                continue
            data[target] = float(raw) if target == "form_seconds" else raw.strip()
            continue
        spec = niche.field(key)
        if spec is None:
            continue  # a column the niche does not define (such as post-sale notes) is skipped
        try:
            value = _typed(spec.type, raw)
        except ValueError as exc:
            errors[column] = str(exc)
            continue
        if value is not None:
            data["fields"][key] = value
    return data, errors
