"""The report page (dimension, period, niche; table and charts) and its CSV export."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from flask import Response, render_template, request
from sqlalchemy import select

from billing.currency import exponent, to_major
from errors import InvalidInput
from exchange.models import Niche, Organization, Role
from exchange.reports import ReportRow, lead_report, rejection_reasons
from extensions import db
from web.forms import field_errors
from web.guard import current_org, portal
from web.reports import bp
from web.reports.query import (
    COLUMNS,
    LABELS,
    PRESETS,
    Column,
    ReportQuery,
    dimension_options,
    fallback,
    parse,
    preset,
)

CHART_ROWS = 20
# Spreadsheets run cells starting with these as formulas: a sub-id is the publisher's text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _page(viewer: Organization, **context: Any) -> str:
    niches = db.session.execute(select(Niche.slug, Niche.name).order_by(Niche.name)).all()
    return render_template(
        "reports/index.html",
        dimensions=dimension_options(viewer),
        niches=[("", "All niches"), *((slug, name) for slug, name in niches)],
        columns=COLUMNS[viewer.role],
        labels=LABELS,
        presets=[(days, *preset(days)) for days in PRESETS],
        can_plan=viewer.role in (Role.BUYER, Role.ADMIN),
        **context,
    )


def _bad(viewer: Organization, exc: InvalidInput) -> tuple[str, int]:
    return _page(viewer, errors=field_errors(exc), form=fallback(request.args), query=None), 422


def _run(viewer: Organization, query: ReportQuery) -> list[ReportRow]:
    return lead_report(
        db.session,
        viewer,
        by=query.by,
        since=query.since,
        until=query.until,
        niche_id=query.niche_id,
    )


def _charts(viewer: Organization, rows: list[ReportRow], by: str) -> list[dict[str, Any]]:
    """A chart of leads (or purchases) by group, and one of money per currency."""
    counted = "sold" if viewer.role == Role.BUYER else "leads"
    counts: dict[str, int] = defaultdict(int)
    money: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    measure = "payouts" if viewer.role == Role.PUBLISHER else "revenue"
    for row in rows:
        counts[row.key] += getattr(row, counted)
        money[row.currency][row.key] += getattr(row, measure)
    title = {"sold": "Leads bought", "leads": "Leads"}[counted]
    money_title = {
        Role.ADMIN: "Revenue",
        Role.PUBLISHER: "Earnings",
        Role.BUYER: "Spend",
    }[viewer.role]
    charts = [{"title": f"{title} by {LABELS[by].lower()}", "rows": _top(counts, by), "fmt": None}]
    for currency, values in sorted(money.items()):
        charts.append(
            {
                "title": f"{money_title} by {LABELS[by].lower()} ({currency})",
                "rows": _top(values, by),
                "fmt": _money_fmt(currency),
            }
        )
    return charts


def _money_fmt(currency: str) -> Callable[[int], str]:
    """Major units without the code (the chart's title names the currency): bars stay short."""
    digits = exponent(currency)
    return lambda value: f"{to_major(int(value), currency):,.{digits}f}"


def _top(values: dict[str, int], by: str) -> list[tuple[str, int]]:
    if by == "day":
        return sorted(values.items())[-CHART_ROWS:]
    return sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))[:CHART_ROWS]


@bp.get("/")
@portal()
def index() -> str | tuple[str, int]:
    """The viewer's report: by dimension over a period, as a table and charts."""
    viewer = current_org()
    try:
        query = parse(db.session, viewer, request.args)
        rows = _run(viewer, query)
    except InvalidInput as exc:
        return _bad(viewer, exc)
    reasons = []
    if viewer.role == Role.PUBLISHER:
        reasons = rejection_reasons(db.session, viewer, since=query.since, until=query.until)
    return _page(
        viewer,
        errors={},
        form=query.args(),
        query=query,
        rows=rows,
        charts=_charts(viewer, rows, query.by),
        reasons=reasons,
    )


def _cell(row: ReportRow, column: Column) -> Any:
    value = getattr(row, column.name)
    if value is None:
        return ""
    if column.kind == "money":
        return f"{to_major(int(value), row.currency):.{exponent(row.currency)}f}"
    if column.kind == "percent":
        return f"{value * 100:.2f}"
    return value


def _text(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_START) else value


@bp.get("/export.csv")
@portal()
def export() -> Response | tuple[str, int]:
    """The same report as a CSV file: money in major units, rates in percent."""
    viewer = current_org()
    try:
        query = parse(db.session, viewer, request.args)
        rows = _run(viewer, query)
    except InvalidInput as exc:
        return _bad(viewer, exc)
    columns = COLUMNS[viewer.role]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            LABELS[query.by],
            "Currency",
            *(f"{c.title} (%)" if c.kind == "percent" else c.title for c in columns),
        ]
    )
    for row in rows:
        writer.writerow([_text(row.key), row.currency, *(_cell(row, c) for c in columns)])
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{query.filename()}"'
    response.headers["Cache-Control"] = "no-store"
    return response
