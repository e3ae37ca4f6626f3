"""The grouped queries behind `exchange.reports`: one per kind of measure (leads; sales; CPA
charges; approved disputes), each summing into a report's (key, currency) totals, and the
labels of the keys. Each reads an index on the viewer and the period; none reads row by row.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Date, Select, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from exchange.models import (
    Conversion,
    Lead,
    LeadReturn,
    LeadStatus,
    Niche,
    Organization,
    ReturnStatus,
    Role,
    Sale,
    SaleStatus,
)

NONE_LABEL = "(none)"
ACCEPTED = (LeadStatus.UNSOLD, LeadStatus.SOLD)
COUNTS = ("leads", "accepted", "rejected", "sold", "returned", "conversions", "revenue", "payouts")


class utc_day(FunctionElement[dt.date]):
    """The UTC calendar day of a timestamp (Postgres would otherwise use the session's zone)."""

    type = Date()
    inherit_cache = True


@compiles(utc_day)
def _utc_day_default(element: utc_day, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _utc_day_postgres(element: utc_day, compiler: Any, **kw: Any) -> str:
    return f"date(timezone('UTC', {compiler.process(element.clauses, **kw)}))"


@dataclass
class Scope:
    """The viewer's slice of the data and the SQL expression of the grouping key."""

    viewer: Organization
    by: str
    since: dt.datetime
    until: dt.datetime  # exclusive: the day after the last day
    niche_id: int | None
    totals: dict[tuple[Any, str], dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    )

    def sale_key(self) -> Any:
        return {
            "day": utc_day(Sale.created_at),
            "niche": Sale.niche_id,
            "region": Lead.region,
            "publisher": Sale.publisher_id,
            "sub_id": Lead.sub_id,
            "buyer": Sale.buyer_id,
        }[self.by]

    def sales(self, stmt: Select[Any]) -> Select[Any]:
        """Restrict a statement over Sale to the viewer's sales in the period."""
        stmt = stmt.where(Sale.created_at >= self.since, Sale.created_at < self.until)
        if self.by in ("region", "sub_id"):
            stmt = stmt.join(Lead, Lead.id == Sale.lead_id)
        if self.niche_id is not None:
            stmt = stmt.where(Sale.niche_id == self.niche_id)
        if self.viewer.role == Role.PUBLISHER:
            stmt = stmt.where(Sale.publisher_id == self.viewer.id)
        elif self.viewer.role == Role.BUYER:
            stmt = stmt.where(Sale.buyer_id == self.viewer.id)
        return stmt

    def add(self, key: Any, currency: str, **counts: Any) -> None:
        row = self.totals[(key, currency)]
        for name, value in counts.items():
            row[name] += int(value or 0)


def lead_counts(session: Session, scope: Scope) -> None:
    # Grouped by niche too, and each niche's currency looked up afterwards: joining the niche
    # row for every lead would cost more than the index scan itself.
    key = {
        "day": utc_day(Lead.created_at),
        "niche": Lead.niche_id,
        "region": Lead.region,
        "publisher": Lead.publisher_id,
        "sub_id": Lead.sub_id,
    }[scope.by]
    stmt = (
        select(
            key,
            Lead.niche_id,
            func.count(Lead.id),
            func.sum(case((Lead.status.in_(ACCEPTED), 1), else_=0)),
            func.sum(case((Lead.status == LeadStatus.REJECTED, 1), else_=0)),
        )
        .where(Lead.created_at >= scope.since, Lead.created_at < scope.until)
        .group_by(key, Lead.niche_id)
    )
    if scope.niche_id is not None:
        stmt = stmt.where(Lead.niche_id == scope.niche_id)
    if scope.viewer.role == Role.PUBLISHER:
        stmt = stmt.where(Lead.publisher_id == scope.viewer.id)
    groups = session.execute(stmt).all()
    niches = {g[1] for g in groups}
    currency = dict(
        session.execute(select(Niche.id, Niche.currency).where(Niche.id.in_(niches))).all()
        if niches
        else []
    )
    for value, niche_id, leads, accepted, rejected in groups:
        scope.add(value, currency[niche_id], leads=leads, accepted=accepted, rejected=rejected)


def sale_counts(session: Session, scope: Scope) -> None:
    key = scope.sale_key()
    kept = Sale.status != SaleStatus.RETURNED
    stmt = scope.sales(
        select(
            key,
            Sale.currency,
            func.count(Sale.id),
            func.sum(case((kept, 0), else_=1)),
            func.sum(case((kept & (Sale.pipeline_status == "converted"), 1), else_=0)),
            func.sum(case((kept, Sale.price), else_=0)),
            func.sum(case((kept, Sale.publisher_amount), else_=0)),
        )
        .select_from(Sale)
        .group_by(key, Sale.currency)
    )
    for value, currency, sold, returned, converted, revenue, payouts in session.execute(stmt):
        scope.add(
            value,
            currency,
            sold=sold,
            returned=returned,
            conversions=converted,
            revenue=revenue,
            payouts=payouts,
        )


def conversion_money(session: Session, scope: Scope) -> None:
    """What CPA actions on the group's sales charged and paid."""
    key = scope.sale_key()
    stmt = scope.sales(
        select(
            key,
            Sale.currency,
            func.sum(Conversion.amount),
            func.sum(Conversion.publisher_amount),
        )
        .select_from(Sale)
        .join(Conversion, Conversion.sale_id == Sale.id)
        .where(Conversion.amount > 0)
        .group_by(key, Sale.currency)
    )
    for value, currency, revenue, payouts in session.execute(stmt):
        scope.add(value, currency, revenue=revenue, payouts=payouts)


def disputes(session: Session, scope: Scope) -> None:
    """Approved disputes refund a CPA charge entirely: take it back out."""
    key = scope.sale_key()
    stmt = scope.sales(
        select(
            key,
            Sale.currency,
            func.sum(Conversion.amount),
            func.sum(Conversion.publisher_amount),
        )
        .select_from(LeadReturn)
        .join(Conversion, Conversion.id == LeadReturn.conversion_id)
        .join(Sale, Sale.id == LeadReturn.sale_id)
        .where(LeadReturn.kind == "dispute", LeadReturn.status == ReturnStatus.APPROVED)
        .group_by(key, Sale.currency)
    )
    for value, currency, revenue, payouts in session.execute(stmt):
        scope.add(value, currency, revenue=-int(revenue or 0), payouts=-int(payouts or 0))


def labels(session: Session, by: str, keys: list[Any]) -> Any:
    """A function from a raw group key to its label, with one query for names."""
    names: dict[Any, str] = {}
    ids = [k for k in keys if k is not None]
    if by == "niche" and ids:
        names = dict(session.execute(select(Niche.id, Niche.slug).where(Niche.id.in_(ids))).all())
    elif by in ("publisher", "buyer") and ids:
        names = dict(
            session.execute(
                select(Organization.id, Organization.name).where(Organization.id.in_(ids))
            ).all()
        )

    def label(key: Any) -> str:
        if key is None or key == "":
            return NONE_LABEL
        if isinstance(key, dt.date):
            return key.isoformat()
        return names.get(key, str(key))

    return label
