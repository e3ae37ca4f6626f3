"""The publisher's dashboard: what its leads did over the last 7, 30 or 90 days (submitted,
accepted, rejected by reason, sold, returned, converted), its earnings, and charts by day,
niche, region and sub-id. The figures come from exchange.reports (grouped, indexed queries)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from flask import render_template, request

from billing.statements import earnings
from database import utcnow
from exchange.models import Role
from exchange.reason_text import reason_text
from exchange.reports import ReportRow, lead_report, rejection_reasons
from extensions import db
from web.guard import current_org, portal
from web.publisher import bp
from web.rendering import money

PERIODS = (7, 30, 90)
TOP = 12  # bars per chart for open-ended keys (regions, sub-ids)


def _totals(rows: list[ReportRow]) -> dict[str, Any]:
    keys = ("leads", "accepted", "rejected", "sold", "returned", "conversions")
    totals: dict[str, Any] = {k: sum(getattr(r, k) for r in rows) for k in keys}
    totals["review"] = max(0, totals["leads"] - totals["accepted"] - totals["rejected"])
    sold = totals["sold"]
    totals["conversion_rate"] = totals["conversions"] / sold if sold else None
    totals["acceptance_rate"] = totals["accepted"] / totals["leads"] if totals["leads"] else None
    totals["return_rate"] = totals["returned"] / sold if sold else None
    return totals


def _bars(rows: list[ReportRow], measure: str, top: int | None = TOP) -> list[tuple[str, int]]:
    by_key: dict[str, int] = defaultdict(int)
    for row in rows:
        by_key[row.key] += getattr(row, measure)
    bars = [(k, v) for k, v in by_key.items() if v]
    if top is None:
        return sorted(bars)
    return sorted(bars, key=lambda kv: (-kv[1], kv[0]))[:top]


def _by_week(bars: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Days folded into weeks (starting Monday), so 90 days stay a readable chart."""
    weeks: dict[str, int] = defaultdict(int)
    for day, value in bars:
        date = dt.date.fromisoformat(day)
        weeks[f"wk {(date - dt.timedelta(days=date.weekday())).isoformat()}"] += value
    return sorted(weeks.items())


@bp.get("/")
@portal(Role.PUBLISHER)
def dashboard() -> Any:
    """Summary cards, rejections by reason and charts for the chosen period."""
    org = current_org()
    try:
        days = int(request.args.get("days", 30))
    except ValueError:
        days = 30
    days = days if days in PERIODS else 30
    until = utcnow().date()
    since = until - dt.timedelta(days=days - 1)
    report = {
        by: lead_report(db.session, org, by=by, since=since, until=until)
        for by in ("day", "niche", "region", "sub_id")
    }
    daily = _bars(report["day"], "leads", top=None)
    earned_daily: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for row in sorted(report["day"], key=lambda r: r.key):
        if row.payouts:
            earned_daily[row.currency].append((row.key, row.payouts))
    if days > 31:
        daily = _by_week(daily)
        earned_daily = defaultdict(list, {c: _by_week(b) for c, b in earned_daily.items()})
    reasons = rejection_reasons(db.session, org, since=since, until=until)
    return render_template(
        "publisher/dashboard.html",
        days=days,
        periods=PERIODS,
        since=since,
        until=until,
        totals=_totals(report["niche"]),
        niche_rows=report["niche"],
        earnings=earnings(db.session, org.id),
        reasons=[(code, reason_text(code), n) for code, n in reasons],
        charts={
            "day": daily,
            "niche": _bars(report["niche"], "leads"),
            "region": _bars(report["region"], "leads"),
            "sub_id": _bars(report["sub_id"], "leads"),
        },
        earned_daily=dict(earned_daily),
        money_in=lambda currency: lambda value: money(value, currency),
    )
