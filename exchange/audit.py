"""Writing to the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from exchange.models import ApiKey, AuditEvent, Organization


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
