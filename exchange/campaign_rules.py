"""A campaign's rules: checking them when a buyer writes them, and applying them to a lead.

The marshmallow schema has already checked shapes and types; this module checks meaning
against the niche (field names, operators, values), the place data (countries, subdivisions,
ZIPs), and combinations (a CPL campaign needs a bid, a webhook needs a URL, a maximum below
the bid...). Every problem names its field, e.g. `pricing.bid.max` or `filters.1.value`.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import zoneinfo
from functools import lru_cache
from typing import Any

from exchange.errors import InvalidInput
from exchange.models import FieldType, Niche
from exchange.regions import all_us_zips, lookup_us_zip, normalise_subdivision, validate_country

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OPERATORS = {
    FieldType.ENUM: {"in", "not_in", "=", "!="},
    FieldType.NUMBER: {"=", "!=", ">", ">=", "<", "<=", "between"},
    FieldType.BOOLEAN: {"="},
    FieldType.TEXT: {"=", "!=", "in", "not_in"},
    FieldType.DATE: {"=", ">", ">=", "<", "<=", "between"},
}
TEMPERATURES = ("cold", "warm", "hot")
CAP_PERIODS = ("hour", "day", "week", "month", "total")
KM_PER_MILE = 1.609344
MAX_RADIUS_KM = 500 * KM_PER_MILE


class Problems:
    """Collects per-field messages; `raise_if_any` turns them into one InvalidInput."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.fields:
            first = next(iter(self.fields))
            raise InvalidInput(
                f"The campaign is not valid: {first}: {self.fields[first][0]}",
                fields=self.fields,
            )


def _miles_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 3958.7613 * 2 * math.asin(math.sqrt(a))


@lru_cache(maxsize=256)
def zips_within(center: str, miles: float) -> tuple[str, ...]:
    """Every US ZIP within `miles` of the ZIP `center` (offline data, cached)."""
    origin = lookup_us_zip(center)
    if origin is None:
        return ()
    return tuple(
        sorted(
            z.zip_code
            for z in all_us_zips()
            if _miles_between(origin.latitude, origin.longitude, z.latitude, z.longitude) <= miles
        )
    )


def clean_geography(geo: dict[str, Any], problems: Problems) -> dict[str, Any]:
    """Normalised countries, subdivisions, postal codes and radius; at least one of them."""
    out: dict[str, Any] = {"countries": [], "subdivisions": [], "postal_codes": [], "radius": None}
    for i, code in enumerate(geo.get("countries") or []):
        try:
            out["countries"].append(validate_country(code))
        except InvalidInput:
            problems.add(f"geography.countries.{i}", f"Unknown country {code!r}.")
    for i, value in enumerate(geo.get("subdivisions") or []):
        country, _, _ = str(value).partition("-")
        try:
            out["subdivisions"].append(normalise_subdivision(validate_country(country), value))
        except InvalidInput:
            problems.add(f"geography.subdivisions.{i}", "Use an ISO 3166-2 code like US-CA.")
    for i, value in enumerate(geo.get("postal_codes") or []):
        country, _, code = str(value).rpartition(":")
        country = country or "US"
        code = " ".join(code.upper().split())
        if country == "US" and lookup_us_zip(code) is None:
            problems.add(f"geography.postal_codes.{i}", f"{value!r} is not a known US ZIP code.")
        elif not code:
            problems.add(f"geography.postal_codes.{i}", "Empty postal code.")
        else:
            out["postal_codes"].append(f"{country}:{code[:5] if country == 'US' else code}")
    radius = geo.get("radius")
    if radius:
        center = str(radius.get("postal_code", ""))
        miles = float(radius["distance"]) * (1 / KM_PER_MILE if radius["unit"] == "km" else 1)
        if lookup_us_zip(center) is None:
            problems.add("geography.radius.postal_code", "Not a known US ZIP code.")
        elif miles * KM_PER_MILE > MAX_RADIUS_KM:
            problems.add("geography.radius.distance", "At most 500 miles (805 km).")
        else:
            out["radius"] = {
                "postal_code": center[:5],
                "distance": radius["distance"],
                "unit": radius["unit"],
            }
    if not any(out[k] for k in ("countries", "subdivisions", "postal_codes", "radius")):
        problems.add(
            "geography", "Choose at least one country, subdivision, postal code or radius."
        )
    for key in ("countries", "subdivisions", "postal_codes"):
        out[key] = sorted(set(out[key]))
    return out


def geography_targets(geo: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, value) rows for the campaign_target index: a radius becomes its ZIP codes."""
    rows = [("country", c) for c in geo["countries"]]
    rows += [("subdivision", s) for s in geo["subdivisions"]]
    postal = set(geo["postal_codes"])
    if geo.get("radius"):
        r = geo["radius"]
        miles = r["distance"] / KM_PER_MILE if r["unit"] == "km" else r["distance"]
        postal.update(f"US:{z}" for z in zips_within(r["postal_code"], float(miles)))
    rows += [("postal", p) for p in sorted(postal)]
    return rows


def place_targets(
    country: str, region: str | None, postal_code: str | None
) -> list[tuple[str, str]]:
    """The (kind, value) index rows a lead in this place matches (see geography_targets)."""
    places = [("country", country)]
    if region:
        places.append(("subdivision", region))
    if postal_code:
        places.append(("postal", f"{country}:{postal_code}"))
    return places


def clean_schedule(schedule: dict[str, Any] | None, problems: Problems) -> dict[str, Any] | None:
    """Days and hours in the buyer's time zone; None means always open."""
    if not schedule:
        return None
    try:
        zoneinfo.ZoneInfo(schedule["timezone"])
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems.add("schedule.timezone", "Use an IANA time zone such as America/New_York.")
    days = schedule.get("days") or list(DAYS)
    start, end = schedule.get("start_hour", 0), schedule.get("end_hour", 24)
    if start >= end:
        problems.add("schedule.end_hour", "Must be after start_hour.")
    return {
        "timezone": schedule["timezone"],
        "days": [d for d in DAYS if d in days],
        "start_hour": start,
        "end_hour": end,
    }


def schedule_open(schedule: dict[str, Any] | None, at: dt.datetime) -> bool:
    """Whether the campaign takes leads at `at` (an aware time) in its own time zone."""
    if not schedule:
        return True
    local = at.astimezone(zoneinfo.ZoneInfo(schedule["timezone"]))
    return (
        DAYS[local.weekday()] in schedule["days"]
        and schedule["start_hour"] <= local.hour < schedule["end_hour"]
    )


def clean_filters(niche: Niche, filters: list[dict[str, Any]], problems: Problems) -> list[Any]:
    """Filters on the niche's fields, with operators and values that fit each field's type."""
    out = []
    for i, rule in enumerate(filters):
        spec = niche.field(rule["field"])
        if spec is None:
            problems.add(f"filters.{i}.field", f"The {niche.slug} niche has no such field.")
            continue
        op, value = rule["op"], rule["value"]
        if op not in OPERATORS[spec.type]:
            allowed = ", ".join(sorted(OPERATORS[spec.type]))
            problems.add(f"filters.{i}.op", f"For a {spec.type.value} field use one of {allowed}.")
            continue
        values = value if op in ("in", "not_in", "between") else [value]
        if not isinstance(values, list) or not values:
            problems.add(f"filters.{i}.value", "Give a non-empty list for this operator.")
            continue
        if op == "between" and len(values) != 2:
            problems.add(f"filters.{i}.value", "Give [low, high].")
            continue
        for v in values:
            message = _value_problem(spec.type, spec.choices, v)
            if message:
                problems.add(f"filters.{i}.value", message)
                break
        else:
            out.append({"field": rule["field"], "op": op, "value": value})
    return out


def _value_problem(kind: FieldType, choices: list[Any] | None, value: Any) -> str | None:
    if kind == FieldType.ENUM and value not in (choices or []):
        return f"{value!r} is not one of {', '.join(map(str, choices or []))}."
    if kind == FieldType.NUMBER and (isinstance(value, bool) or not isinstance(value, int | float)):
        return "Must be a number."
    if kind == FieldType.BOOLEAN and not isinstance(value, bool):
        return "Must be true or false."
    if kind == FieldType.DATE:
        try:
            dt.date.fromisoformat(str(value))
        except ValueError:
            return "Must be a date as YYYY-MM-DD."
    if kind == FieldType.TEXT and not isinstance(value, str):
        return "Must be a string."
    return None


_COMPARE: dict[str, Any] = {
    "in": lambda have, want: have in want,
    "not_in": lambda have, want: have not in want,
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "between": lambda have, want: want[0] <= have <= want[1],
}


def filters_match(filters: list[dict[str, Any]], fields: dict[str, Any]) -> bool:
    """Whether a lead's fields pass every filter (a missing field fails the filter)."""
    for rule in filters:
        if rule["field"] not in fields:
            return False
        try:
            if not _COMPARE[rule["op"]](fields[rule["field"]], rule["value"]):
                return False
        except TypeError:
            return False
    return True


def clean_caps(caps: dict[str, Any] | None) -> dict[str, Any]:
    """Caps in leads and in money per period; missing periods are unlimited."""
    caps = caps or {}
    return {
        kind: {p: caps[kind][p] for p in CAP_PERIODS if caps.get(kind, {}).get(p) is not None}
        for kind in ("leads", "spend")
    }


def clean_pricing(pricing: dict[str, Any], problems: Problems) -> dict[str, Any]:
    """CPL (a fixed or price-book-relative bid, with an optional maximum) or CPA."""
    model = pricing["model"]
    if model == "cpl":
        bid = pricing.get("bid")
        if not bid:
            problems.add("pricing.bid", "A CPL campaign needs a bid.")
            return {"model": "cpl"}
        if bid["type"] == "fixed" and not bid.get("amount"):
            problems.add("pricing.bid.amount", "A fixed bid needs an amount.")
        if bid["type"] == "relative" and not bid.get("percent"):
            problems.add("pricing.bid.percent", "A relative bid needs a percent of the price book.")
        if bid.get("max") is not None and bid.get("amount") and bid["max"] < bid["amount"]:
            problems.add("pricing.bid.max", "The maximum cannot be below the bid.")
        if pricing.get("actions"):
            problems.add("pricing.actions", "Actions belong to CPA campaigns.")
        return {"model": "cpl", "bid": {k: v for k, v in bid.items() if v is not None}}
    actions = pricing.get("actions") or {}
    if not actions:
        problems.add("pricing.actions", "A CPA campaign needs at least one action and amount.")
    if pricing.get("bid"):
        problems.add("pricing.bid", "A CPA campaign has no bid; use cpl for a small per-lead fee.")
    return {"model": "cpa", "actions": actions, "cpl": pricing.get("cpl") or 0}


def clean_delivery(delivery: dict[str, Any], problems: Problems) -> dict[str, Any]:
    """Webhook (URL), email (address) or portal only."""
    method = delivery["method"]
    if method == "webhook" and not delivery.get("url"):
        problems.add("delivery.url", "A webhook delivery needs a URL.")
    if method == "email" and not delivery.get("email"):
        problems.add("delivery.email", "An email delivery needs an address.")
    if method != "webhook" and delivery.get("url"):
        problems.add("delivery.url", f"Only webhook delivery takes a URL, not {method}.")
    keep = {"webhook": "url", "email": "email"}.get(method)
    return {"method": method, **({keep: delivery.get(keep)} if keep else {})}
