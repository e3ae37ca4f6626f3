"""Lead intake: idempotent, normalising, storing the lead with its raw payload."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, undefer

from exchange.assessment import assess_lead, user_agent_hash
from exchange.contacts import normalise_email, normalise_phone
from exchange.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from exchange.models import IdempotencyKey, Lead, LeadStatus, Organization, Role
from exchange.niche_fields import clean_lead_fields
from exchange.niches import get_niche
from exchange.regions import finding, resolve_region
from exchange.sales import sell_lead
from exchange.tally import note

SCOPE = "lead"
log = logging.getLogger(__name__)

Renderer = Callable[[Lead], dict[str, Any]]


@dataclass
class Intake:
    """The outcome of a submission: the lead, and whether this was a replay of an earlier one."""

    lead: Lead
    replayed: bool

    @property
    def response(self) -> dict[str, Any]:
        return self.lead.intake_response or {}


def fingerprint(data: dict[str, Any]) -> str:
    """A stable hash of a request body, to tell a true replay from a reused key."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _find_replay(
    session: Session, publisher: Organization, key: str | None, external_id: str | None, digest: str
) -> Lead | None:
    if key:
        record = session.scalar(
            select(IdempotencyKey).where(
                IdempotencyKey.organization_id == publisher.id,
                IdempotencyKey.scope == SCOPE,
                IdempotencyKey.key == key,
            )
        )
        if record is not None:
            if record.fingerprint != digest:
                raise Conflict(
                    "This Idempotency-Key was already used with a different request body.",
                    code="idempotency_key_reused",
                )
            return session.scalar(
                select(Lead)
                .options(undefer(Lead.intake_response))
                .where(Lead.id == record.resource_id)
            )
    if external_id:
        return session.scalar(
            select(Lead)
            .options(undefer(Lead.intake_response))
            .where(Lead.publisher_id == publisher.id, Lead.external_id == external_id)
        )
    return None


def _build_lead(session: Session, publisher: Organization, data: dict[str, Any]) -> Lead:
    try:
        niche = get_niche(session, data["niche"])
    except NotFound:
        raise InvalidInput(
            f"Unknown niche {data['niche']!r}.", fields={"niche": ["No such niche."]}
        ) from None
    if not niche.is_active:
        raise InvalidInput(
            f"Niche {niche.slug!r} is not accepting leads.", fields={"niche": ["Niche is closed."]}
        )
    fields = clean_lead_fields(niche, data.get("fields") or {})
    place = resolve_region(
        data["country"], data.get("region"), data.get("postal_code"), data.get("city")
    )
    findings = list(place.findings)
    email = phone = None
    if data.get("email"):
        normalised = normalise_email(data["email"])
        email = normalised.value
        if normalised.error:
            findings.append(finding("email_invalid", "fail", normalised.error))
    if data.get("phone"):
        normalised = normalise_phone(data["phone"], place.country)
        phone = normalised.value
        if normalised.error:
            findings.append(finding("phone_unparseable", "fail", normalised.error))
    consent = data.get("consent") or {}
    captured: dt.datetime | None = consent.get("captured_at")
    return Lead(
        publisher=publisher,
        niche=niche,
        external_id=data.get("external_id"),
        status=LeadStatus.RECEIVED,
        first_name=(data.get("first_name") or "").strip(),
        last_name=(data.get("last_name") or "").strip(),
        email=email,
        phone=phone,
        country=place.country,
        region=place.region,
        postal_code=place.postal_code,
        city=place.city,
        address=(data.get("address") or "").strip() or None,
        latitude=place.latitude,
        longitude=place.longitude,
        ip=str(data["ip"]) if data.get("ip") else None,
        user_agent=data.get("user_agent"),
        user_agent_hash=user_agent_hash(data.get("user_agent")),
        form_seconds=data.get("form_seconds"),
        source=data.get("source"),
        sub_id=data.get("sub_id"),
        consent_text=consent.get("text"),
        consent_url=consent.get("url"),
        consent_captured_at=captured.astimezone(dt.UTC) if captured else None,
        fields=fields,
        findings=findings,
    )


def submit_lead(
    session: Session,
    publisher: Organization,
    data: dict[str, Any],
    *,
    raw: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    render: Renderer,
    promised_payout: int | None = None,
) -> Intake:
    """Store a publisher's lead once; a replay (Idempotency-Key or external_id) gets the first.

    `promised_payout` (from a ping) is what the publisher earns if the lead sells."""
    if publisher.role != Role.PUBLISHER:
        raise PermissionDenied("Only publishers submit leads.")
    external_id = data.get("external_id")
    digest = fingerprint(raw if raw is not None else data)
    prior = _find_replay(session, publisher, idempotency_key, external_id, digest)
    if prior is not None:
        return Intake(prior, replayed=True)

    lead = _build_lead(session, publisher, data)
    lead.raw_payload = raw if raw is not None else {}
    assess_lead(session, lead)
    try:
        # A savepoint, so that losing a race to a concurrent twin leaves our transaction usable.
        with session.begin_nested():
            session.add(lead)
            session.flush()
            if idempotency_key:
                session.add(
                    IdempotencyKey(
                        organization_id=publisher.id,
                        scope=SCOPE,
                        key=idempotency_key,
                        fingerprint=digest,
                        resource_id=lead.id,
                    )
                )
                session.flush()
    except IntegrityError:
        prior = _find_replay(session, publisher, idempotency_key, external_id, digest)
        if prior is None:
            raise
        log.info("intake race lost to lead %s; answering as a replay", prior.id)
        return Intake(prior, replayed=True)
    # An accepted lead is offered to the campaigns at once, in the same transaction.
    sell_lead(session, lead, promised_payout=promised_payout)
    note(session, "lead", str((lead.quality or {}).get("verdict", "unknown")))
    lead.intake_response = render(lead)
    session.flush()
    return Intake(lead, replayed=False)
