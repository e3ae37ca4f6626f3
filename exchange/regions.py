"""Countries, subdivisions and postal codes; US ZIPs resolve offline (the `zipcodes` package)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

import pycountry
import zipcodes

from exchange.errors import InvalidInput

US_ZIP = re.compile(r"^(\d{5})(?:-?\d{4})?$")


@dataclass(frozen=True)
class ZipInfo:
    zip_code: str
    region: str
    city: str
    latitude: float
    longitude: float
    timezone: str | None


@dataclass
class ResolvedRegion:
    country: str
    region: str | None
    postal_code: str | None
    city: str | None
    latitude: float | None = None
    longitude: float | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)


def finding(code: str, severity: str, message: str) -> dict[str, Any]:
    """A finding in the quality report's shape."""
    return {"code": code, "severity": severity, "message": message}


def validate_country(code: str) -> str:
    """An ISO 3166-1 alpha-2 code, upper-cased, or InvalidInput."""
    code = (code or "").strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise InvalidInput(
            f"Unknown country {code!r}.",
            fields={"country": ["Use an ISO 3166-1 alpha-2 code such as US or VN."]},
        )
    return code


def validate_currency(code: str) -> str:
    """An ISO 4217 currency code, upper-cased, or InvalidInput."""
    code = (code or "").strip().upper()
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise InvalidInput(
            f"Unknown currency {code!r}.",
            fields={"currency": ["Use an ISO 4217 code such as USD or VND."]},
        )
    return code


@cache
def _subdivisions(country: str) -> dict[str, str]:
    """Lookup keys (code, code without country, lower-case name) -> ISO 3166-2 code."""
    table: dict[str, str] = {}
    for sub in pycountry.subdivisions.get(country_code=country) or []:
        table[sub.code.upper()] = sub.code
        table[sub.code.split("-", 1)[1].upper()] = sub.code
        table[sub.name.lower()] = sub.code
    return table


def normalise_subdivision(country: str, region: str) -> str:
    """ISO 3166-2 code for 'CA', 'US-CA' or 'California' in the given country."""
    value = region.strip()
    table = _subdivisions(country)
    code = table.get(value.upper()) or table.get(value.lower())
    if code is None:
        raise InvalidInput(
            f"Unknown subdivision {region!r} for country {country}.",
            fields={"region": [f"Use an ISO 3166-2 code of {country}, such as {country}-XX."]},
        )
    return code


@lru_cache(maxsize=1)
def _zip_table() -> dict[str, ZipInfo]:
    table = {}
    for z in zipcodes.list_all():
        table[z["zip_code"]] = ZipInfo(
            zip_code=z["zip_code"],
            region=f"US-{z['state']}",
            city=z["city"],
            latitude=float(z["lat"]),
            longitude=float(z["long"]),
            timezone=z.get("timezone") or None,
        )
    return table


def lookup_us_zip(zip_code: str) -> ZipInfo | None:
    """The state, city and coordinates of a US ZIP code, from data shipped with the package."""
    match = US_ZIP.match(zip_code.strip())
    return _zip_table().get(match.group(1)) if match else None


def all_us_zips() -> list[ZipInfo]:
    """Every US ZIP code with its coordinates (for radius searches)."""
    return list(_zip_table().values())


def warm_up() -> None:
    """Load the ZIP table and subdivision data before the first request needs them."""
    _zip_table()
    _subdivisions("US")


def resolve_region(
    country: str, region: str | None, postal_code: str | None, city: str | None
) -> ResolvedRegion:
    """Normalise a lead's place; contradictions become findings, malformed codes InvalidInput."""
    country = validate_country(country)
    subdivision = normalise_subdivision(country, region) if region and region.strip() else None
    result = ResolvedRegion(country, subdivision, None, (city or "").strip() or None)
    if not postal_code or not postal_code.strip():
        return result
    raw_postal = postal_code.strip().upper()
    if country != "US":
        result.postal_code = " ".join(raw_postal.split())
        return result
    match = US_ZIP.match(raw_postal)
    if not match:
        result.postal_code = raw_postal
        result.findings.append(
            finding("postal_code_malformed", "fail", f"{raw_postal!r} is not a US ZIP code.")
        )
        return result
    result.postal_code = match.group(1)
    info = lookup_us_zip(result.postal_code)
    if info is None:
        result.findings.append(
            finding("postal_code_unknown", "fail", f"ZIP code {result.postal_code} does not exist.")
        )
        return result
    result.latitude, result.longitude = info.latitude, info.longitude
    if result.city is None:
        result.city = info.city
    if result.region is None:
        result.region = info.region
    elif result.region != info.region:
        result.findings.append(
            finding(
                "postal_code_region_mismatch",
                "fail",
                f"ZIP code {info.zip_code} is in {info.region}, not {result.region}.",
            )
        )
    return result
