"""Niche fields that are well-typed but implausible (a 200-year-old birth date...)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from quality.facts import FieldSpec
from quality.findings import Finding, warn

BIRTH_HINTS = ("birth", "dob")


def _as_date(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def check_fields(fields: dict[str, Any], specs: list[FieldSpec], today: dt.date) -> list[Finding]:
    """Warnings for dates no real person gives: born over 110 or under 16 years ago, far future."""
    findings = []
    for spec in specs:
        if spec.type != "date" or spec.name not in fields:
            continue
        day = _as_date(fields[spec.name])
        if day is None:
            findings.append(warn("field_unreadable", f"{spec.name} is not a date."))
            continue
        if any(h in spec.name for h in BIRTH_HINTS):
            age = (today - day).days / 365.25
            if age > 110 or age < 16:
                findings.append(
                    warn("field_implausible", f"{spec.name} gives an age of {age:.0f}.")
                )
        elif abs((day - today).days) > 365 * 100:
            findings.append(warn("field_implausible", f"{spec.name} is a century away."))
    return findings
