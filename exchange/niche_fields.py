"""Checking a lead's niche fields against the niche's typed definitions."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from exchange.errors import InvalidInput
from exchange.models import FieldType, Niche, NicheField

FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
DEFAULT_TEXT_LENGTH = 1000


def _check_value(spec: NicheField, value: Any) -> tuple[Any, str | None]:
    """The stored form of one value, or an error message."""
    if spec.type == FieldType.ENUM:
        if not isinstance(value, str) or value not in (spec.choices or []):
            return None, f"Must be one of: {', '.join(map(str, spec.choices or []))}."
        return value, None
    if spec.type == FieldType.NUMBER:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            return None, "Must be a number."
        if spec.minimum is not None and value < spec.minimum:
            return None, f"Must be at least {spec.minimum:g}."
        if spec.maximum is not None and value > spec.maximum:
            return None, f"Must be at most {spec.maximum:g}."
        return value, None
    if spec.type == FieldType.BOOLEAN:
        if not isinstance(value, bool):
            return None, "Must be true or false."
        return value, None
    if spec.type == FieldType.DATE:
        if not isinstance(value, str):
            return None, "Must be a date as YYYY-MM-DD."
        try:
            return dt.date.fromisoformat(value).isoformat(), None
        except ValueError:
            return None, "Must be a date as YYYY-MM-DD."
    if not isinstance(value, str):
        return None, "Must be a string."
    limit = spec.max_length or DEFAULT_TEXT_LENGTH
    if len(value) > limit:
        return None, f"Must be at most {limit} characters."
    return value, None


def clean_lead_fields(niche: Niche, data: dict[str, Any]) -> dict[str, Any]:
    """The lead's fields as stored, or InvalidInput listing every field's problem."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name in data:
        if niche.field(name) is None:
            errors[name] = [f"Unknown field for niche {niche.slug}."]
    for spec in niche.fields:
        value = data.get(spec.name)
        if value is None or value == "":
            if spec.required:
                errors[spec.name] = ["Missing data for required field."]
            continue
        stored, error = _check_value(spec, value)
        if error:
            errors[spec.name] = [error]
        else:
            cleaned[spec.name] = stored
    if errors:
        raise InvalidInput(
            f"The niche fields do not match niche {niche.slug}.", fields={"fields": errors}
        )
    return cleaned
