"""Reports by day, niche, region, publisher, sub-id or buyer over a period, for each role over
its own data: leads, acceptance, sales, money, returns and conversions.

Each report is a handful of grouped queries whatever the number of rows (leads; sales; CPA
charges; approved disputes; labels: `exchange.report_queries`), each driven by an index on the
viewer and the period.

Periods are whole UTC days, both ends included. Lead measures (leads, accepted, rejected)
count leads received in the period; sale measures (sold, returned, conversions, money) count
sales made in the period. Money is never added across currencies: a row is a (key, currency).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exchange.errors import InvalidInput
from exchange.models import Lead, LeadReason, LeadStatus, Organization, Role
from exchange.report_queries import (
    NONE_LABEL,
    Scope,
    conversion_money,
    disputes,
    labels,
    lead_counts,
    sale_counts,
)

__all__ = [
    "DIMENSIONS",
    "NONE_LABEL",
    "ReportRow",
    "check_dimension",
    "dimensions_for",
    "lead_report",
    "rejection_reasons",
]

DIMENSIONS = ("day", "niche", "region", "publisher", "sub_id", "buyer")
# Who may group by whom: a publisher never learns its buyers' names, nor a buyer its sources.
REFUSED = {Role.PUBLISHER: {"buyer"}, Role.BUYER: {"publisher", "sub_id"}}
MAX_DAYS = 366


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class ReportRow:
    """One group of a report. Money is in minor units of `currency`.

    `revenue` is what buyers paid for the group's sales and CPA actions, net of approved returns
    and disputes (an approved return refunds the whole charge, so a returned sale counts for
    nothing). `payouts` is the publishers' earnings on the same, net the same way. Seen by a
    publisher, both are its own earnings; seen by a buyer, both are its own spend (so neither
    learns the platform's margin). Seen by a buyer, or grouped by buyer, `leads` and `accepted`
    are the leads bought (a lead belongs to no buyer before it is sold).
    """

    key: str
    currency: str
    leads: int = 0
    accepted: int = 0
    rejected: int = 0
    sold: int = 0
    returned: int = 0
    conversions: int = 0
    revenue: int = 0
    payouts: int = 0

    @property
    def margin(self) -> int:
        return self.revenue - self.payouts

    @property
    def acceptance_rate(self) -> float | None:
        return _ratio(self.accepted, self.leads)

    @property
    def return_rate(self) -> float | None:
        return _ratio(self.returned, self.sold)

    @property
    def conversion_rate(self) -> float | None:
        return _ratio(self.conversions, self.sold)

    @property
    def cost_per_lead(self) -> int | None:
        """Revenue per sold lead, rounded to a minor unit."""
        return round(self.revenue / self.sold) if self.sold else None

    @property
    def cost_per_acquisition(self) -> int | None:
        """Revenue per conversion, rounded to a minor unit."""
        return round(self.revenue / self.conversions) if self.conversions else None


def _period(since: Any, until: Any) -> tuple[dt.datetime, dt.datetime]:
    for name, value in (("since", since), ("until", until)):
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise InvalidInput(f"{name} must be a date.", fields={name: ["A date, YYYY-MM-DD."]})
    if until < since:
        raise InvalidInput(
            "The period ends before it starts.", fields={"until": ["On or after the start."]}
        )
    if (until - since).days >= MAX_DAYS:
        raise InvalidInput(
            f"A report covers at most {MAX_DAYS} days.",
            fields={"since": [f"At most {MAX_DAYS} days before the end."]},
        )
    start = dt.datetime.combine(since, dt.time(), dt.UTC)
    return start, dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC)


def check_dimension(viewer: Organization, by: str) -> None:
    """InvalidInput naming `by` unless the viewer may group its data by this dimension."""
    if by not in DIMENSIONS:
        raise InvalidInput(
            f"Unknown dimension {by!r}.", fields={"by": [f"One of {', '.join(DIMENSIONS)}."]}
        )
    if by in REFUSED.get(viewer.role, set()):
        raise InvalidInput(
            f"Reports by {by} are not available to a {viewer.role.value}.",
            fields={"by": ["Not available to your account."]},
        )


def dimensions_for(viewer: Organization) -> tuple[str, ...]:
    """The dimensions this viewer may group by, in display order."""
    return tuple(d for d in DIMENSIONS if d not in REFUSED.get(viewer.role, set()))


def lead_report(
    session: Session,
    viewer: Organization,
    *,
    by: str,
    since: dt.date,
    until: dt.date,
    niche_id: int | None = None,
) -> list[ReportRow]:
    """The viewer's report grouped by `by` over [since, until] (UTC days): see ReportRow."""
    check_dimension(viewer, by)
    start, end = _period(since, until)
    scope = Scope(viewer, by, start, end, niche_id)
    if viewer.role != Role.BUYER and by != "buyer":
        lead_counts(session, scope)
    sale_counts(session, scope)
    conversion_money(session, scope)
    disputes(session, scope)
    label = labels(session, by, [key for key, _ in scope.totals])
    rows = []
    for (key, currency), counts in scope.totals.items():
        row = ReportRow(key=label(key), currency=currency, **counts)
        if viewer.role == Role.PUBLISHER:
            row = replace(row, revenue=row.payouts)
        elif viewer.role == Role.BUYER or by == "buyer":
            row = replace(row, leads=row.sold, accepted=row.sold)
            if viewer.role == Role.BUYER:
                row = replace(row, payouts=row.revenue)
        rows.append(row)
    return sorted(rows, key=lambda r: (r.key, r.currency))


def rejection_reasons(
    session: Session, publisher: Organization, *, since: dt.date, until: dt.date
) -> list[tuple[str, int]]:
    """Why the publisher's leads received in [since, until] were rejected: (reason code,
    rejected leads with it; a lead may have several), most frequent first. One query."""
    start, end = _period(since, until)
    stmt = (
        select(LeadReason.code, func.count(LeadReason.lead_id))
        .join(Lead, Lead.id == LeadReason.lead_id)
        .where(
            Lead.publisher_id == publisher.id,
            Lead.created_at >= start,
            Lead.created_at < end,
            Lead.status == LeadStatus.REJECTED,
        )
        .group_by(LeadReason.code)
    )
    counts = [(code, int(n)) for code, n in session.execute(stmt)]
    return sorted(counts, key=lambda item: (-item[1], item[0]))
