"""Writing to the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.models import ApiKey, AuditEvent, Organization
from exchange.pagination import Page, paginate


def record_event(
    session: Session,
    action: str,
    *,
    organization: Organization | None,
    actor: Organization | None = None,
    api_key: ApiKey | None = None,
    target_type: str | None = None,
    target_id: object = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event (flushes with the caller's transaction, never commits)."""
    event = AuditEvent(
        organization_id=organization.id if organization else None,
        actor_organization_id=actor.id if actor else None,
        actor_api_key_id=api_key.id if api_key else None,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        data=data or {},
    )
    session.add(event)
    return event


def list_events(
    session: Session, organization: Organization, *, limit: int = 50, cursor: str | None = None
) -> Page[AuditEvent]:
    """The organisation's own audit trail, newest first (indexed on organisation and id)."""
    stmt = select(AuditEvent).where(AuditEvent.organization_id == organization.id)
    return paginate(session, stmt, AuditEvent.id, limit=limit, cursor=cursor)
