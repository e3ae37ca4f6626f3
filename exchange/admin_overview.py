"""What needs an admin's attention, and the ledger check's last recorded result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing.checks import BookCheck, check_books
from exchange.audit import record_event
from exchange.models import (
    AuditEvent,
    Lead,
    LeadReturn,
    LeadStatus,
    Organization,
    PublisherFlag,
    ReturnStage,
    ReturnStatus,
)

BOOK_CHECK = "billing.books_checked"


@dataclass(frozen=True)
class Attention:
    leads_in_review: int
    returns_for_admin: int
    returns_for_publisher: int
    open_flags: int


def attention(session: Session) -> Attention:
    """Counts of the queues admins work (each an indexed count)."""
    in_review = select(func.count(Lead.id)).where(Lead.status == LeadStatus.REVIEW)
    pending = (
        select(LeadReturn.stage, func.count(LeadReturn.id))
        .where(LeadReturn.status == ReturnStatus.PENDING)
        .group_by(LeadReturn.stage)
    )
    by_stage = {stage: int(n) for stage, n in session.execute(pending)}
    flags = select(func.count(PublisherFlag.id)).where(PublisherFlag.cleared_at.is_(None))
    return Attention(
        leads_in_review=int(session.scalar(in_review) or 0),
        returns_for_admin=by_stage.get(ReturnStage.ADMIN, 0),
        returns_for_publisher=by_stage.get(ReturnStage.PUBLISHER, 0),
        open_flags=int(session.scalar(flags) or 0),
    )


def run_book_check(session: Session, admin: Organization) -> BookCheck:
    """Reconcile the ledger now and record the result (platform-wide, with the admin as actor)."""
    result = check_books(session)
    record_event(
        session,
        BOOK_CHECK,
        organization=None,
        actor=admin,
        target_type="ledger",
        data={
            "ok": result.ok,
            "entries": result.entries,
            "postings": result.postings,
            "accounts": result.accounts,
            "problems": result.problems,
        },
    )
    session.flush()
    return result


def last_book_check(session: Session) -> AuditEvent | None:
    """The most recent recorded ledger check (platform events have no organisation)."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.organization_id.is_(None), AuditEvent.action == BOOK_CHECK)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def check_summary(event: AuditEvent | None) -> dict[str, Any] | None:
    """The recorded check as a template reads it: ok, counts, problems, when and by whom."""
    if event is None:
        return None
    return {**event.data, "at": event.created_at, "by": event.actor_organization_id}
