"""Running the quality module on a lead: facts in, report and status out."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from database import utcnow
from exchange.conversion import predictor_for
from exchange.models import Lead, LeadReason, LeadStatus, Niche
from quality import FieldSpec, LeadFacts, Lookups, NicheRules, QualityReport, Severity, assess
from quality.facts import SourceHistory

STATUS_BY_VERDICT = {
    "accept": LeadStatus.UNSOLD,  # accepted; the exchange sells it (or it waits, unsold)
    "review": LeadStatus.REVIEW,
    "reject": LeadStatus.REJECTED,
}


def user_agent_hash(user_agent: str | None) -> str | None:
    return hashlib.sha256(user_agent.encode()).hexdigest()[:16] if user_agent else None


def niche_rules(niche: Niche) -> NicheRules:
    return NicheRules(
        slug=niche.slug,
        accept_score=niche.accept_score,
        review_score=niche.review_score,
        consent_required=niche.consent_required,
        consent_max_age_days=niche.consent_max_age_days,
        duplicate_window_days=niche.duplicate_window_days,
        fields=[FieldSpec(f.name, f.type.value) for f in niche.fields],
    )


def lead_facts(lead: Lead) -> LeadFacts:
    return LeadFacts(
        first_name=lead.first_name,
        last_name=lead.last_name,
        email=lead.email,
        phone=lead.phone,
        country=lead.country,
        region=lead.region,
        postal_code=lead.postal_code,
        ip=lead.ip,
        user_agent=lead.user_agent,
        source=lead.source,
        sub_id=lead.sub_id,
        consent_text=lead.consent_text,
        consent_url=lead.consent_url,
        consent_captured_at=lead.consent_captured_at,
        form_seconds=lead.form_seconds,
        fields=dict(lead.fields or {}),
        intake_findings=list(lead.findings or []),
        received_at=lead.created_at or utcnow(),
        publisher=str(lead.publisher.id),
    )


def lookups_for(session: Session, lead: Lead) -> Lookups:
    """Indexed queries answering the quality module's questions about other leads."""
    # Before its first flush a new lead knows its niche and publisher only as objects.
    niche_id, publisher_id = lead.niche.id, lead.publisher.id
    others = Lead.status != LeadStatus.REJECTED
    if lead.id is not None:
        others = others & (Lead.id != lead.id)

    def duplicates(email: str | None, phone: str | None, since: dt.datetime) -> int:
        same = [c == v for c, v in ((Lead.email, email), (Lead.phone, phone)) if v]
        query = select(
            exists().where(Lead.niche_id == niche_id, or_(*same), Lead.created_at >= since, others)
        )
        return int(bool(session.scalar(query)))

    def recent(kind: str, value: str, since: dt.datetime) -> int:
        if kind == "ip":
            where = [Lead.ip == value]
        elif kind == "user_agent":
            where = [Lead.user_agent_hash == user_agent_hash(value)]
        else:
            where = [Lead.publisher_id == publisher_id, Lead.sub_id == value]
        query = select(func.count()).where(*where, Lead.created_at >= since)
        if lead.id is not None:
            query = query.where(Lead.id != lead.id)
        return session.scalar(query) or 0

    def rotations(first: str, last: str, postal_code: str, since: dt.datetime) -> int:
        different_contact = or_(Lead.email != lead.email, Lead.phone != lead.phone)
        query = select(func.count()).where(
            Lead.niche_id == niche_id,
            Lead.postal_code == postal_code,
            Lead.last_name == last,
            Lead.first_name == first,
            Lead.created_at >= since,
            different_contact,
            others,
        )
        return session.scalar(query) or 0

    def source() -> SourceHistory | None:
        from exchange.source_quality import source_history

        return source_history(session, publisher_id, niche_id, lead.sub_id)

    return Lookups(duplicates=duplicates, recent=recent, rotations=rotations, source=source)


def _noting_database_errors(lookups: Lookups, errors: list[SQLAlchemyError]) -> Lookups:
    """The lookups, each noting a database error before the quality module swallows it (a
    check that fails is only a warning there, but the transaction is lost: the database
    went away, or Postgres aborted the transaction)."""

    def noting(lookup: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(lookup)
        def call(*args: Any) -> Any:
            try:
                return lookup(*args)
            except SQLAlchemyError as exc:
                errors.append(exc)
                raise

        return call

    return Lookups(
        **{f.name: noting(getattr(lookups, f.name)) for f in dataclasses.fields(Lookups)}
    )


def assess_lead(session: Session, lead: Lead, *, now: dt.datetime | None = None) -> QualityReport:
    """Assess a lead and record the report, score and resulting status on it (no commit).
    A database error in a look-up is raised here, never mistaken for a failed check."""
    predict, model_version = predictor_for(session, lead.niche)
    errors: list[SQLAlchemyError] = []
    report = assess(
        lead_facts(lead),
        niche_rules(lead.niche),
        _noting_database_errors(lookups_for(session, lead), errors),
        predict=predict,
        model_version=model_version,
        now=now or utcnow(),
    )
    if errors:
        raise errors[0]
    lead.quality = report.as_dict()
    lead.score = report.score
    lead.status = STATUS_BY_VERDICT[report.verdict]
    worst: dict[str, str] = {}
    for reason in report.reasons:
        if reason.severity != Severity.PASS and worst.get(reason.code) != "fail":
            worst[reason.code] = reason.severity.value
    lead.reasons = [LeadReason(code=code, severity=sev) for code, sev in worst.items()]
    return report
