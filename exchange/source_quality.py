"""How good each source is: return, rejection and conversion rates per publisher and sub-id,
the record quality scoring reads at intake, and the flag that sends a publisher's leads to
review when its return rate in a niche passes the niche's threshold.

`SourceStats` rows are recomputed at every return ruling (returns are rare; sales are not,
so nothing is written per sale). The report for admins and publishers is computed on demand
from indexed queries.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from database import utcnow
from exchange.audit import record_event
from exchange.errors import Conflict, NotFound
from exchange.models import (
    Conversion,
    Lead,
    LeadReturn,
    LeadStatus,
    Niche,
    Organization,
    PublisherFlag,
    ReturnStatus,
    Sale,
    SourceStats,
)
from quality.facts import SourceHistory

WINDOW_DAYS = 30
MIN_SALES_TO_FLAG = 10  # too few sales say nothing about a source


def _counts(
    session: Session, publisher_id: int, niche_id: int, sub_id: str | None, since: dt.datetime
) -> tuple[int, int]:
    """(sales, approved returns) of the source since `since`."""
    sales = select(func.count(Sale.id)).where(
        Sale.publisher_id == publisher_id, Sale.niche_id == niche_id, Sale.created_at >= since
    )
    returns = select(func.count(LeadReturn.id)).where(
        LeadReturn.publisher_id == publisher_id,
        LeadReturn.niche_id == niche_id,
        LeadReturn.kind == "return",
        LeadReturn.status == ReturnStatus.APPROVED,
        LeadReturn.created_at >= since,
    )
    if sub_id is not None:
        sales = sales.join(Lead, Lead.id == Sale.lead_id).where(Lead.sub_id == sub_id)
        returns = returns.where(LeadReturn.sub_id == sub_id)
    return int(session.scalar(sales) or 0), int(session.scalar(returns) or 0)


def _stats_row(session: Session, publisher_id: int, niche_id: int, sub_id: str) -> SourceStats:
    row = session.scalar(
        select(SourceStats).where(
            SourceStats.publisher_id == publisher_id,
            SourceStats.niche_id == niche_id,
            SourceStats.sub_id == sub_id,
        )
    )
    if row is None:
        row = SourceStats(publisher_id=publisher_id, niche_id=niche_id, sub_id=sub_id)
        session.add(row)
    return row


def refresh_source(
    session: Session,
    publisher_id: int,
    niche_id: int,
    sub_id: str | None,
    *,
    now: dt.datetime | None = None,
) -> SourceStats:
    """Recompute the publisher's (and the sub-id's) record in the niche over the last 30
    days; flag the publisher when its return rate reaches the niche's threshold."""
    now = now or utcnow()
    since = now - dt.timedelta(days=WINDOW_DAYS)
    keys = [""] + ([sub_id] if sub_id else [])
    rows = {}
    for key in keys:
        sales, returns = _counts(session, publisher_id, niche_id, key or None, since)
        row = _stats_row(session, publisher_id, niche_id, key)
        row.sales, row.returns = sales, returns
        row.return_rate = round(returns / sales, 4) if sales else 0.0
        rows[key] = row
    publisher_row = rows[""]
    niche = session.get(Niche, niche_id)
    assert niche is not None
    if (
        not publisher_row.flagged
        and publisher_row.sales >= MIN_SALES_TO_FLAG
        and publisher_row.returns * 100 >= niche.flag_return_rate * publisher_row.sales
    ):
        _flag(session, publisher_row, niche, now)
    session.flush()
    return publisher_row


def _flag(session: Session, row: SourceStats, niche: Niche, now: dt.datetime) -> None:
    reason = (
        f"{row.return_rate:.0%} of {row.sales} sales in {niche.slug} were returned in "
        f"{WINDOW_DAYS} days (threshold {niche.flag_return_rate}%)."
    )
    flag = PublisherFlag(
        publisher_id=row.publisher_id,
        niche_id=niche.id,
        return_rate=row.return_rate,
        reason=reason,
        flagged_at=now,
    )
    session.add(flag)
    row.flagged = True
    session.flush()
    record_event(
        session,
        "publisher.flagged",
        organization=session.get(Organization, row.publisher_id),
        target_type="publisher_flag",
        target_id=flag.id,
        data={"niche": niche.slug, "reason": reason},
    )


def clear_flag(
    session: Session,
    admin: Organization,
    flag_id: int,
    note: str,
    *,
    now: dt.datetime | None = None,
) -> PublisherFlag:
    """An admin clears a flag: the publisher's leads in the niche are scored normally again."""
    flag = session.scalar(
        select(PublisherFlag).where(PublisherFlag.id == flag_id).with_for_update()
    )
    if flag is None:
        raise NotFound(f"No flag {flag_id}.")
    if flag.cleared_at is not None:
        raise Conflict(f"Flag {flag_id} was already cleared.", code="already_cleared")
    flag.cleared_at, flag.cleared_by_id, flag.clear_note = now or utcnow(), admin.id, note
    _stats_row(session, flag.publisher_id, flag.niche_id, "").flagged = False
    record_event(
        session,
        "publisher.flag_cleared",
        organization=session.get(Organization, flag.publisher_id),
        actor=admin,
        target_type="publisher_flag",
        target_id=flag.id,
        data={"note": note},
    )
    session.flush()
    return flag


def list_flags(session: Session, *, open_only: bool = True) -> list[PublisherFlag]:
    stmt = select(PublisherFlag).order_by(PublisherFlag.id)
    if open_only:
        stmt = stmt.where(PublisherFlag.cleared_at.is_(None))
    return list(session.scalars(stmt))


def source_history(
    session: Session, publisher_id: int, niche_id: int, sub_id: str | None
) -> SourceHistory | None:
    """What scoring knows of a lead's source: one indexed query on `source_stats`."""
    rows = session.scalars(
        select(SourceStats).where(
            SourceStats.publisher_id == publisher_id,
            SourceStats.niche_id == niche_id,
            SourceStats.sub_id.in_(["", sub_id or ""]),
        )
    ).all()
    if not rows:
        return None
    by_key = {r.sub_id: r for r in rows}
    publisher = by_key.get("")
    own = by_key.get(sub_id or "") or publisher
    assert own is not None
    return SourceHistory(
        sales=own.sales,
        return_rate=own.return_rate,
        flagged=bool(publisher and publisher.flagged),
    )


def source_report(
    session: Session,
    *,
    publisher_id: int | None = None,
    niche_id: int | None = None,
    days: int = WINDOW_DAYS,
    by_sub_id: bool = True,
    now: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Per publisher, niche and sub-id over the last `days`: leads, rejected, sold, returned,
    converted, and the rejection, return and conversion rates. Three grouped queries."""
    since = (now or utcnow()) - dt.timedelta(days=days)
    sub = Lead.sub_id if by_sub_id else None

    def keyed(*cols: Any) -> list[Any]:
        return [c for c in cols if c is not None]

    lead_filters = [Lead.created_at >= since]
    if publisher_id is not None:
        lead_filters.append(Lead.publisher_id == publisher_id)
    if niche_id is not None:
        lead_filters.append(Lead.niche_id == niche_id)
    group = keyed(Lead.publisher_id, Lead.niche_id, sub)
    table: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(
        lambda: {"leads": 0, "rejected": 0, "sold": 0, "returned": 0, "converted": 0}
    )
    leads = session.execute(
        select(
            *group,
            func.count(Lead.id),
            func.sum(case((Lead.status == LeadStatus.REJECTED, 1), else_=0)),
        )
        .where(and_(*lead_filters))
        .group_by(*group)
    )
    for *key, total, rejected in leads:
        row = table[tuple(key)]
        row["leads"], row["rejected"] = int(total), int(rejected or 0)
    sales = session.execute(
        select(
            *group,
            func.count(Sale.id),
            func.sum(case((Sale.status == "returned", 1), else_=0)),
        )
        .join(Lead, Lead.id == Sale.lead_id)
        .where(and_(*lead_filters))
        .group_by(*group)
    )
    for *key, sold, returned in sales:
        row = table[tuple(key)]
        row["sold"], row["returned"] = int(sold), int(returned or 0)
    conversions = session.execute(
        select(*group, func.count(func.distinct(Conversion.sale_id)))
        .join(Sale, Sale.id == Conversion.sale_id)
        .join(Lead, Lead.id == Sale.lead_id)
        .where(and_(*lead_filters))
        .group_by(*group)
    )
    for *key, converted in conversions:
        table[tuple(key)]["converted"] = int(converted)
    niches = {nid: slug for nid, slug in session.execute(select(Niche.id, Niche.slug))}
    flagged = {
        (f.publisher_id, f.niche_id)
        for f in session.scalars(select(PublisherFlag).where(PublisherFlag.cleared_at.is_(None)))
    }
    out = []
    for group_key, row in sorted(table.items(), key=lambda kv: tuple(str(k) for k in kv[0])):
        pub, niche = group_key[0], group_key[1]
        out.append(
            {
                "publisher_id": pub,
                "niche": niches.get(niche),
                "sub_id": group_key[2] if by_sub_id else None,
                **row,
                "rejection_rate": _rate(row["rejected"], row["leads"]),
                "return_rate": _rate(row["returned"], row["sold"]),
                "conversion_rate": _rate(row["converted"], row["sold"]),
                "flagged": (pub, niche) in flagged,
            }
        )
    return out


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
