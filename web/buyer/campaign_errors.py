"""The wizard's errors: the API's own campaign schema run on the wizard's body, and every
problem (the schema's or the service's, such as `geography.radius.postal_code` or
`filters.1.value`) mapped onto the form field that shows it."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError

from api.schemas.campaigns import CampaignIn

Errors = dict[str, list[str]]


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def validate(body: dict[str, Any], *, new: bool) -> tuple[dict[str, Any], Errors]:
    """Run the API's own input schema on the body; errors by form field."""
    schema = CampaignIn() if new else CampaignIn(partial=True, exclude=("niche",))
    try:
        return schema.load(body), {}
    except ValidationError as exc:
        errors: Errors = {}
        for path, message in _flatten(exc.messages, ""):
            _add(errors, error_field(path, body), message)
        return {}, errors


def _flatten(messages: Any, path: str) -> list[tuple[str, str]]:
    if isinstance(messages, dict):
        return [
            pair
            for key, value in messages.items()
            for pair in _flatten(value, f"{path}.{key}" if path else str(key))
        ]
    if isinstance(messages, list | tuple):
        return [pair for item in messages for pair in _flatten(item, path)]
    return [(path, str(messages))]


FIELD_OF = {
    "name": "name",
    "niche": "niche",
    "geography": "geography",
    "geography.subdivisions": "states",
    "geography.countries": "states",
    "geography.postal_codes": "zips",
    "geography.radius": "radius_zip",
    "geography.radius.postal_code": "radius_zip",
    "geography.radius.distance": "radius_miles",
    "geography.radius.unit": "radius_unit",
    "schedule": "timezone",
    "schedule.timezone": "timezone",
    "schedule.days": "days",
    "schedule.start_hour": "start_hour",
    "schedule.end_hour": "end_hour",
    "min_score": "min_score",
    "budget": "budget",
    "pricing": "bid_amount",
    "pricing.bid": "bid_amount",
    "pricing.bid.amount": "bid_amount",
    "pricing.bid.percent": "bid_percent",
    "pricing.bid.max": "bid_max",
    "pricing.bid.type": "bid_type",
    "delivery": "delivery_method",
    "delivery.method": "delivery_method",
    "delivery.url": "delivery_url",
    "delivery.email": "delivery_email",
}


def error_field(path: str, body: dict[str, Any]) -> str:
    """The form field that shows a problem at `path` (a service's or the schema's)."""
    parts = path.split(".")
    if parts[0] == "filters" and len(parts) > 1 and parts[1].isdigit():
        filters = body.get("filters") or []
        index = int(parts[1])
        if index < len(filters):
            return f"filter.{filters[index]['field']}"
        return "filters"
    if parts[0] == "caps" and len(parts) == 3:
        return f"cap_{parts[1]}_{parts[2]}"
    # Drop list indexes: geography.postal_codes.3 -> geography.postal_codes.
    key = ".".join(p for p in parts if not p.isdigit())
    while key and key not in FIELD_OF:
        key = key.rpartition(".")[0]
    return FIELD_OF.get(key, "_form")


def map_errors(fields: dict[str, Any], body: dict[str, Any]) -> Errors:
    """A domain error's fields (dotted paths) as messages by form field."""
    errors: Errors = {}
    for path, message in _flatten(fields, ""):
        _add(errors, error_field(path, body), message)
    return errors
