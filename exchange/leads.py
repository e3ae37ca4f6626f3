"""Reading leads, always scoped to the organisation that asks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from exchange.errors import NotFound
from exchange.models import Lead, LeadStatus, Organization, Role
from exchange.niches import niche_id_for_filter
from exchange.pagination import Page, paginate


def _visible(org: Organization) -> Select[Any]:
    stmt = select(Lead)
    if org.role != Role.ADMIN:
        # Publishers see their own leads; buyer visibility arrives with sales.
        stmt = stmt.where(Lead.publisher_id == org.id)
    return stmt


def get_lead(session: Session, org: Organization, lead_id: int) -> Lead:
    """One lead the organisation may see, or NotFound (never a hint that it exists)."""
    lead = session.scalar(_visible(org).where(Lead.id == lead_id))
    if lead is None:
        raise NotFound(f"No lead {lead_id}.")
    return lead


def list_leads(
    session: Session,
    org: Organization,
    *,
    limit: int,
    cursor: str | None = None,
    status: LeadStatus | None = None,
    niche: str | None = None,
    created_from: dt.date | None = None,
    created_to: dt.date | None = None,
) -> Page[Lead]:
    """The organisation's leads, newest first, filtered by status, niche and creation date."""
    stmt = _visible(org).options(selectinload(Lead.niche))
    if status is not None:
        stmt = stmt.where(Lead.status == status)
    if niche is not None:
        stmt = stmt.where(Lead.niche_id == niche_id_for_filter(session, niche))
    if created_from is not None:
        start = dt.datetime.combine(created_from, dt.time(), dt.UTC)
        stmt = stmt.where(Lead.created_at >= start)
    if created_to is not None:
        end = dt.datetime.combine(created_to + dt.timedelta(days=1), dt.time(), dt.UTC)
        stmt = stmt.where(Lead.created_at < end)
    return paginate(session, stmt, Lead.id, limit=limit, cursor=cursor)
