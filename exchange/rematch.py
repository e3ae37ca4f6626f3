"""Offering unsold accepted leads again: new campaigns may want them, at aged-lead prices.

Run on a schedule (`flask exchange rematch`; Celery beat in production). Each lead is its own
unit of work so a long run holds no locks for long.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from database import utcnow
from exchange.models import Lead, LeadStatus, Sale
from exchange.sales import sell_lead

DEFAULT_MAX_AGE_DAYS = 30


def unsold_lead_ids(
    session: Session,
    *,
    now: dt.datetime | None = None,
    max_age_days: int = DEFAULT_MAX_AGE_DAYS,
    after_id: int = 0,
    limit: int = 500,
) -> list[int]:
    """Unsold leads younger than `max_age_days`, oldest id first (index on status, id)."""
    now = now or utcnow()
    stmt = (
        select(Lead.id)
        .where(Lead.status == LeadStatus.UNSOLD, Lead.id > after_id)
        .where(Lead.created_at >= now - dt.timedelta(days=max_age_days))
        .order_by(Lead.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def rematch_lead(session: Session, lead_id: int, *, now: dt.datetime | None = None) -> list[Sale]:
    """Offer one unsold lead again (locked, so two runs cannot both sell it)."""
    lead = session.scalar(select(Lead).where(Lead.id == lead_id).with_for_update(of=Lead))
    if lead is None or lead.status != LeadStatus.UNSOLD:
        return []
    return sell_lead(session, lead, now=now)
