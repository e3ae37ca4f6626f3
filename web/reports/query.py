"""Reading a report's query string, and the columns each role sees (page and CSV alike)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from errors import InvalidInput
from exchange.models import Niche, Organization, Role
from exchange.reports import check_dimension, dimensions_for

PRESETS = (7, 30, 90)
DEFAULT_DAYS = 30
LABELS = {
    "day": "Day",
    "niche": "Niche",
    "region": "Region",
    "publisher": "Publisher",
    "sub_id": "Sub-id",
    "buyer": "Buyer",
}


@dataclass(frozen=True)
class Column:
    name: str  # a ReportRow attribute
    title: str
    kind: str  # "count", "money" or "percent"


def _columns(*specs: tuple[str, str, str]) -> tuple[Column, ...]:
    return tuple(Column(*spec) for spec in specs)


COLUMNS: dict[Role, tuple[Column, ...]] = {
    Role.ADMIN: _columns(
        ("leads", "Leads", "count"),
        ("accepted", "Accepted", "count"),
        ("acceptance_rate", "Acceptance", "percent"),
        ("rejected", "Rejected", "count"),
        ("sold", "Sales", "count"),
        ("returned", "Returns", "count"),
        ("conversions", "Conversions", "count"),
        ("conversion_rate", "Conversion rate", "percent"),
        ("revenue", "Revenue", "money"),
        ("payouts", "Payouts", "money"),
        ("margin", "Margin", "money"),
        ("cost_per_lead", "Cost per lead", "money"),
        ("cost_per_acquisition", "Cost per acquisition", "money"),
    ),
    Role.PUBLISHER: _columns(
        ("leads", "Leads", "count"),
        ("accepted", "Accepted", "count"),
        ("acceptance_rate", "Acceptance", "percent"),
        ("rejected", "Rejected", "count"),
        ("sold", "Sales", "count"),
        ("returned", "Returns", "count"),
        ("conversions", "Conversions", "count"),
        ("conversion_rate", "Conversion rate", "percent"),
        ("payouts", "Earnings", "money"),
        ("cost_per_lead", "Earnings per sale", "money"),
    ),
    Role.BUYER: _columns(
        ("sold", "Leads bought", "count"),
        ("returned", "Returns", "count"),
        ("conversions", "Conversions", "count"),
        ("conversion_rate", "Conversion rate", "percent"),
        ("revenue", "Spend", "money"),
        ("cost_per_lead", "Cost per lead", "money"),
        ("cost_per_acquisition", "Cost per acquisition", "money"),
    ),
}


@dataclass(frozen=True)
class ReportQuery:
    by: str
    since: dt.date
    until: dt.date
    niche: str  # slug, "" for all
    niche_id: int | None

    def args(self, **changes: Any) -> dict[str, str]:
        """The query string of this report (with changes), for links and the CSV export."""
        base = {
            "by": self.by,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "niche": self.niche,
        }
        return {k: str(v) for k, v in {**base, **changes}.items() if v}

    def filename(self) -> str:
        niche = f"-{self.niche}" if self.niche else ""
        return (
            f"report-by-{self.by}{niche}-{self.since.isoformat()}-to-{self.until.isoformat()}.csv"
        )


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def preset(days: int) -> tuple[dt.date, dt.date]:
    """The last `days` days, today included."""
    end = today()
    return end - dt.timedelta(days=days - 1), end


def _date(raw: str | None, name: str, default: dt.date, errors: dict[str, list[str]]) -> dt.date:
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        errors[name] = ["A date, YYYY-MM-DD."]
        return default


def parse(session: Session, viewer: Organization, args: Mapping[str, str]) -> ReportQuery:
    """The report asked for in `args`, or InvalidInput naming each bad parameter."""
    errors: dict[str, list[str]] = {}
    by = (args.get("by") or "niche").strip()
    try:
        check_dimension(viewer, by)
    except InvalidInput as exc:
        errors.update(exc.fields)
    start, end = preset(DEFAULT_DAYS)
    since = _date(args.get("since"), "since", start, errors)
    until = _date(args.get("until"), "until", end, errors)
    if "until" not in errors and "since" not in errors and until < since:
        errors["until"] = ["On or after the start."]
    slug = (args.get("niche") or "").strip()
    niche_id = None
    if slug:
        niche_id = session.scalar(select(Niche.id).where(Niche.slug == slug))
        if niche_id is None:
            errors["niche"] = [f"No niche {slug!r}."]
    if errors:
        raise InvalidInput("Check the report's settings.", fields=errors)
    return ReportQuery(by, since, until, slug, niche_id)


def fallback(args: Mapping[str, str]) -> dict[str, str]:
    """What the form shows again after bad input: the values as typed."""
    return {name: args.get(name, "") for name in ("by", "since", "until", "niche")}


def dimension_options(viewer: Organization) -> list[tuple[str, str]]:
    return [(d, LABELS[d]) for d in dimensions_for(viewer)]
