"""The review queue: leads the quality module could not decide, decided by an admin."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from database import utcnow
from exchange.assessment import assess_lead
from exchange.audit import record_event
from exchange.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from exchange.models import Lead, LeadReason, LeadStatus, Organization, Role
from exchange.niches import niche_id_for_filter
from exchange.pagination import Page, paginate

DECISIONS = {"accept": LeadStatus.UNSOLD, "reject": LeadStatus.REJECTED}
REASSESSABLE = (LeadStatus.RECEIVED, LeadStatus.REVIEW, LeadStatus.REJECTED, LeadStatus.UNSOLD)


def _require_admin(org: Organization) -> None:
    if org.role != Role.ADMIN:
        raise PermissionDenied("Only admins work the review queue.")


def list_reviews(
    session: Session,
    admin: Organization,
    *,
    limit: int,
    cursor: str | None = None,
    niche: str | None = None,
    publisher_id: int | None = None,
    reason: str | None = None,
) -> Page[Lead]:
    """Leads waiting for review, oldest first, filtered by niche, publisher and reason code."""
    _require_admin(admin)
    stmt = select(Lead).options(selectinload(Lead.niche)).where(Lead.status == LeadStatus.REVIEW)
    if niche is not None:
        stmt = stmt.where(Lead.niche_id == niche_id_for_filter(session, niche))
    if publisher_id is not None:
        stmt = stmt.where(Lead.publisher_id == publisher_id)
    if reason is not None:
        stmt = stmt.where(Lead.id.in_(select(LeadReason.lead_id).where(LeadReason.code == reason)))
    return paginate(session, stmt, Lead.id, limit=limit, cursor=cursor, oldest_first=True)


def _lead_for_update(session: Session, lead_id: int) -> Lead:
    # Row lock: two admins deciding the same lead at once decide it once.
    lead = session.scalar(select(Lead).where(Lead.id == lead_id).with_for_update())
    if lead is None:
        raise NotFound(f"No lead {lead_id}.")
    return lead


def decide_review(
    session: Session, admin: Organization, lead_id: int, decision: str, note: str = ""
) -> Lead:
    """Accept (the lead goes on as if it had passed) or reject a lead in review."""
    _require_admin(admin)
    if decision not in DECISIONS:
        raise InvalidInput("decision must be accept or reject.", fields={"decision": ["Unknown."]})
    lead = _lead_for_update(session, lead_id)
    if lead.status != LeadStatus.REVIEW:
        raise Conflict(
            f"Lead {lead_id} is {lead.status.value}, not in review.", code="not_in_review"
        )
    lead.status = DECISIONS[decision]
    review: dict[str, Any] = {
        "decision": decision,
        "note": note,
        "decided_at": utcnow().isoformat(),
    }
    lead.quality = {**(lead.quality or {}), "review": review}
    session.flush()
    record_event(
        session,
        f"review.{decision}",
        organization=lead.publisher,
        actor=admin,
        target_type="lead",
        target_id=lead.id,
        data={"note": note},
    )
    return lead


def reassess_lead(session: Session, admin: Organization, lead_id: int) -> Lead:
    """Run the quality checks on a stored lead again (after a rule or niche change)."""
    _require_admin(admin)
    lead = _lead_for_update(session, lead_id)
    if lead.status not in REASSESSABLE:
        raise Conflict(f"Lead {lead_id} is {lead.status.value}; it cannot be re-assessed.")
    before = lead.status
    report = assess_lead(session, lead)
    session.flush()
    record_event(
        session,
        "lead.reassessed",
        organization=lead.publisher,
        actor=admin,
        target_type="lead",
        target_id=lead.id,
        data={"before": before.value, "after": lead.status.value, "score": report.score},
    )
    return lead
