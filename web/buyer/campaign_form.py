"""The campaign wizard's form: flat HTML fields <-> the campaign body the API takes.

`parse` turns the posted form into the body `exchange.campaigns` expects, collecting typing
mistakes per form field (web/buyer/campaign_errors.py runs the API's schema on it and maps
the service's problems back onto the fields); `values_of` fills the form from a campaign.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cache
from typing import Any

import pycountry
from werkzeug.datastructures import MultiDict

from billing.currency import exponent
from errors import InvalidInput
from exchange.campaign_rules import DAYS
from exchange.models import Campaign, FieldType, Niche
from web.buyer.money import parse_major

Errors = dict[str, list[str]]
CAP_FIELDS = [
    ("leads", "day"),
    ("leads", "week"),
    ("leads", "month"),
    ("spend", "day"),
    ("spend", "week"),
    ("spend", "month"),
]
SPLIT = re.compile(r"[\s,;]+")
TIMEZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "UTC",
]


@cache
def us_states() -> list[tuple[str, str]]:
    """(ISO 3166-2 code, name) of the US states, DC and territories, by name."""
    subs = pycountry.subdivisions.get(country_code="US") or []
    return sorted(((s.code, s.name) for s in subs), key=lambda s: s[1])


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _money(form: MultiDict[str, str], name: str, currency: str, errors: Errors) -> int | None:
    raw = form.get(name) or ""
    if not raw.strip():
        return None
    try:
        return parse_major(raw, currency, name)
    except InvalidInput as exc:
        errors.setdefault(name, []).extend(exc.fields[name])
        return None


def _int(form: MultiDict[str, str], name: str, errors: Errors, *, low: int = 1) -> int | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        _add(errors, name, "Enter a whole number.")
        return None
    if value < low or value > 10**9:
        _add(errors, name, f"Must be {low} or more." if value < low else "Too large.")
        return None
    return value


def _number(raw: str) -> float | int:
    value = float(raw)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(raw)
    return int(value) if value.is_integer() else value


def _filters(form: MultiDict[str, str], niche: Niche | None, errors: Errors) -> list[Any]:
    """Filters from the niche's generated inputs; `filters.N` ids are kept in `order`."""
    out: list[dict[str, Any]] = []
    for spec in niche.fields if niche else []:
        key = f"filter.{spec.name}"
        if spec.type == FieldType.ENUM:
            chosen = [v for v in form.getlist(key) if v]
            if chosen:
                out.append({"field": spec.name, "op": "in", "value": chosen})
        elif spec.type == FieldType.BOOLEAN:
            value = form.get(key, "")
            if value in ("yes", "no"):
                out.append({"field": spec.name, "op": "=", "value": value == "yes"})
        elif spec.type in (FieldType.NUMBER, FieldType.DATE):
            low, high = (form.get(f"{key}.min", "").strip(), form.get(f"{key}.max", "").strip())
            try:
                if spec.type == FieldType.NUMBER:
                    lo, hi = (_number(low) if low else None), (_number(high) if high else None)
                else:
                    lo, hi = (low or None), (high or None)
            except ValueError:
                _add(errors, key, "Enter numbers.")
                continue
            if lo is not None and hi is not None:
                out.append({"field": spec.name, "op": "between", "value": [lo, hi]})
            elif lo is not None:
                out.append({"field": spec.name, "op": ">=", "value": lo})
            elif hi is not None:
                out.append({"field": spec.name, "op": "<=", "value": hi})
        else:
            words = [w.strip() for w in form.get(key, "").split(",") if w.strip()]
            if words:
                out.append({"field": spec.name, "op": "in", "value": words})
    return out


def parse(
    form: MultiDict[str, str], niche: Niche | None, currency: str, *, new: bool
) -> tuple[dict[str, Any], Errors]:
    """The campaign body from the wizard's fields, and the mistakes found on the way."""
    errors: Errors = {}
    geography: dict[str, Any] = {
        "subdivisions": [s for s in form.getlist("states") if s],
        "postal_codes": [z for z in SPLIT.split(form.get("zips", "")) if z],
    }
    radius_zip = form.get("radius_zip", "").strip()
    miles_raw = form.get("radius_miles", "").strip()
    if radius_zip or miles_raw:
        try:
            miles = float(miles_raw) if miles_raw else None
        except ValueError:
            miles = None
            _add(errors, "radius_miles", "Enter a distance such as 25.")
        if not radius_zip:
            _add(errors, "radius_zip", "A radius needs the ZIP code at its centre.")
        elif miles is None and not errors.get("radius_miles"):
            _add(errors, "radius_miles", "How far around the ZIP code?")
        elif miles is not None:
            unit = form.get("radius_unit") if form.get("radius_unit") in ("mi", "km") else "mi"
            geography["radius"] = {"postal_code": radius_zip, "distance": miles, "unit": unit}
    body: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "geography": geography,
        "min_score": _int(form, "min_score", errors, low=0),
        "exclusive": form.get("exclusive") == "on",
        "filters": _filters(form, niche, errors),
        "budget": _money(form, "budget", currency, errors),
        "delivery": {"method": form.get("delivery_method", "")},
    }
    if new:
        body["niche"] = niche.slug if niche else ""
    if form.get("schedule") == "on":
        body["schedule"] = {
            "timezone": form.get("timezone", ""),
            "days": [d for d in form.getlist("days") if d],
            "start_hour": _int(form, "start_hour", errors, low=0),
            "end_hour": _int(form, "end_hour", errors, low=0),
        }
        body["schedule"] = {k: v for k, v in body["schedule"].items() if v is not None}
    else:
        body["schedule"] = None
    caps: dict[str, dict[str, int]] = {}
    for kind, period in CAP_FIELDS:
        name = f"cap_{kind}_{period}"
        value = (
            _money(form, name, currency, errors) if kind == "spend" else _int(form, name, errors)
        )
        if value is not None:
            caps.setdefault(kind, {})[period] = value
    body["caps"] = caps
    if form.get("pricing_model", "cpl") == "cpl":
        bid: dict[str, Any] = {"type": form.get("bid_type", "fixed")}
        if bid["type"] == "relative":
            bid["percent"] = _int(form, "bid_percent", errors)
        else:
            bid["amount"] = _money(form, "bid_amount", currency, errors)
        bid["max"] = _money(form, "bid_max", currency, errors)
        body["pricing"] = {"model": "cpl", "bid": {k: v for k, v in bid.items() if v is not None}}
    method = body["delivery"]["method"]
    # An empty box is "no URL" (the service names it), not a malformed URL.
    if method == "webhook" and form.get("delivery_url", "").strip():
        body["delivery"]["url"] = form.get("delivery_url", "").strip()
    elif method == "email" and form.get("delivery_email", "").strip():
        body["delivery"]["email"] = form.get("delivery_email", "").strip()
    if not body["name"]:
        _add(errors, "name", "Give the campaign a name.")
    return {k: v for k, v in body.items() if v is not None or k == "schedule"}, errors


def _major(amount: int | None, currency: str) -> str:
    if amount is None:
        return ""
    return f"{Decimal(amount).scaleb(-exponent(currency)):.{exponent(currency)}f}"


def values_of(campaign: Campaign) -> dict[str, Any]:
    """The wizard's field values for a stored campaign."""
    cur = campaign.currency
    geo = campaign.geography or {}
    radius = geo.get("radius") or {}
    schedule = campaign.schedule or {}
    bid = (campaign.pricing or {}).get("bid") or {}
    caps = campaign.caps or {}
    values: dict[str, Any] = {
        "name": campaign.name,
        "states": geo.get("subdivisions") or [],
        "zips": "\n".join(p.split(":", 1)[1] for p in geo.get("postal_codes") or []),
        "radius_zip": radius.get("postal_code", ""),
        "radius_miles": f"{radius['distance']:g}" if radius else "",
        "radius_unit": radius.get("unit", "mi"),
        "schedule": "on" if schedule else "",
        "timezone": schedule.get("timezone", "America/New_York"),
        "days": schedule.get("days") or list(DAYS),
        "start_hour": schedule.get("start_hour", 8),
        "end_hour": schedule.get("end_hour", 20),
        "min_score": "" if campaign.min_score is None else campaign.min_score,
        "exclusive": "on" if campaign.exclusive else "",
        "pricing_model": (campaign.pricing or {}).get("model", "cpl"),
        "bid_type": bid.get("type", "fixed"),
        "bid_amount": _major(bid.get("amount"), cur),
        "bid_percent": bid.get("percent", ""),
        "bid_max": _major(bid.get("max"), cur),
        "budget": _major(campaign.budget, cur),
        "delivery_method": campaign.delivery.get("method", "portal"),
        "delivery_url": campaign.delivery.get("url", ""),
        "delivery_email": campaign.delivery.get("email", ""),
    }
    for kind, period in CAP_FIELDS:
        amount = (caps.get(kind) or {}).get(period)
        key = f"cap_{kind}_{period}"
        values[key] = _major(amount, cur) if kind == "spend" else ("" if amount is None else amount)
    for rule in campaign.filters or []:
        key, op, value = f"filter.{rule['field']}", rule["op"], rule["value"]
        if op == "between":
            values[f"{key}.min"], values[f"{key}.max"] = value
        elif op in (">=", ">"):
            values[f"{key}.min"] = value
        elif op in ("<=", "<"):
            values[f"{key}.max"] = value
        elif isinstance(value, bool):
            values[key] = ["yes" if value else "no"]
        elif isinstance(value, list):
            values[key] = [str(v) for v in value]
            values[f"{key}.text"] = ", ".join(map(str, value))
    return values


def form_values(form: MultiDict[str, str]) -> dict[str, Any]:
    """What the buyer typed, to show again next to the errors (filter.X and the
    multiple-choice fields as lists)."""
    values: dict[str, Any] = {k: form.get(k) for k in form}
    for key in form:
        if key in ("states", "days") or (key.startswith("filter.") and key.count(".") == 1):
            values[key] = form.getlist(key)
            values[f"{key}.text"] = form.get(key, "")
    values.setdefault("days", [])
    values.setdefault("states", [])
    return values


def new_values() -> dict[str, Any]:
    """A new campaign's starting values."""
    return {
        "states": [],
        "days": list(DAYS[:5]),
        "timezone": "America/New_York",
        "start_hour": 8,
        "end_hour": 20,
        "bid_type": "fixed",
        "pricing_model": "cpl",
        "delivery_method": "webhook",
        "radius_unit": "mi",
    }
