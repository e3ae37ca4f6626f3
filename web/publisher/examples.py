"""Example leads generated from a niche's field definitions: for the CSV template and the
posting instructions. The values are valid for the niche, so the examples really work."""

from __future__ import annotations

import datetime as dt
from typing import Any

from database import utcnow
from exchange.models import FieldType, Niche, NicheField


def example_value(spec: NicheField) -> Any:
    """A valid value of one niche field."""
    if spec.type == FieldType.ENUM:
        return (spec.choices or [""])[0]
    if spec.type == FieldType.BOOLEAN:
        return True
    if spec.type == FieldType.DATE:
        return "1985-06-15"
    if spec.type == FieldType.NUMBER:
        low = spec.minimum if spec.minimum is not None else 0
        high = spec.maximum if spec.maximum is not None else low + 100
        value = high - 6 if "year" in spec.name else low + (high - low) * 0.05
        return round(max(low, min(high, value)))
    text = f"Example {spec.label or spec.name}".strip()
    return text[: spec.max_length or 100]


def example_lead(niche: Niche, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """A complete, valid lead body for the niche, as the API takes it."""
    captured = (now or utcnow()) - dt.timedelta(hours=1)
    return {
        "niche": niche.slug,
        "external_id": "your-id-1001",
        "first_name": "Maria",
        "last_name": "Lopez",
        "email": "maria.lopez@gmail.com",
        "phone": "+1 415 555 2671",
        "country": "US",
        "postal_code": "94103",
        "ip": "203.0.113.7",
        "source": "google",
        "sub_id": "aff-12",
        "form_seconds": 42.5,
        "consent": {
            "text": f"I agree to be contacted about {niche.name.lower()}.",
            "url": "https://www.example.com/quote",
            "captured_at": captured.replace(second=0, microsecond=0).isoformat(),
        },
        "fields": {f.name: example_value(f) for f in niche.fields},
    }


def example_row(niche: Niche, *, csv_style: bool = True) -> dict[str, Any]:
    """The example lead as one CSV row: consent flattened, yes/no for booleans."""
    lead = example_lead(niche)
    consent = lead.pop("consent")
    fields = lead.pop("fields")
    lead.pop("niche")
    row: dict[str, Any] = {**lead}
    row.update({f"consent_{k}": v for k, v in consent.items()})
    for name, value in fields.items():
        row[name] = ("yes" if value else "no") if isinstance(value, bool) and csv_style else value
    return row


def ping_body(lead: dict[str, Any]) -> dict[str, Any]:
    """The part of a lead a ping carries: no personal data."""
    keep = ("niche", "country", "region", "postal_code", "source", "sub_id", "fields")
    return {k: lead[k] for k in keep if k in lead}
