"""Pacing of a list of campaigns: what each has bought today, this week, this month and in
total, against its caps and budget, in one query for the whole list (not one per campaign)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from database import UTCDateTime
from exchange.models import Campaign, Sale, SaleStatus
from exchange.sales import period_starts

PERIODS = ("day", "week", "month", "total")


@dataclass(frozen=True)
class Pace:
    """One period's use against the campaign's caps (None: no cap)."""

    period: str
    leads: int
    spend: int
    lead_cap: int | None
    spend_cap: int | None

    @property
    def share(self) -> float | None:
        """The larger of leads/cap and spend/cap (0..1+), None without a cap."""
        shares = [
            used / cap
            for used, cap in ((self.leads, self.lead_cap), (self.spend, self.spend_cap))
            if cap
        ]
        return max(shares) if shares else None


def usage_by_campaign(
    session: Session, campaigns: Sequence[Campaign], now: dt.datetime
) -> dict[int, dict[str, Pace]]:
    """Per campaign id, per period (day, week, month, total): leads and spend of unreturned
    sales against the caps; the total period's spend cap is the budget when there is one.
    Periods start in each campaign's own time zone. One indexed query for all campaigns."""
    if not campaigns:
        return {}
    starts = {c.id: period_starts(c, now) for c in campaigns}
    columns: list[Any] = [Sale.campaign_id]
    for period in PERIODS:
        start = case(
            {cid: literal(s[period], UTCDateTime()) for cid, s in starts.items()},
            value=Sale.campaign_id,
        )
        after = Sale.created_at >= start
        columns.append(func.coalesce(func.sum(case((after, 1), else_=0)), 0))
        columns.append(func.coalesce(func.sum(case((after, Sale.price), else_=0)), 0))
    rows = session.execute(
        select(*columns)
        .where(Sale.campaign_id.in_(list(starts)), Sale.status == SaleStatus.SOLD)
        .group_by(Sale.campaign_id)
    ).all()
    used = {row[0]: row[1:] for row in rows}
    result: dict[int, dict[str, Pace]] = {}
    for campaign in campaigns:
        counts = used.get(campaign.id, (0,) * (2 * len(PERIODS)))
        caps = campaign.caps or {}
        result[campaign.id] = {}
        for i, period in enumerate(PERIODS):
            spend_cap = (caps.get("spend") or {}).get(period)
            if period == "total" and campaign.budget is not None:
                spend_cap = min(spend_cap or campaign.budget, campaign.budget)
            result[campaign.id][period] = Pace(
                period,
                int(counts[2 * i]),
                int(counts[2 * i + 1]),
                (caps.get("leads") or {}).get(period),
                spend_cap,
            )
    return result
