"""Training, storing and serving each niche's conversion model."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, undefer

from exchange.models import ConversionModel, Lead, LeadOutcome, Niche, Outcome
from quality import FieldSpec, Finding, LeadFacts, Severity
from quality.conversion import FEATURE_VERSION, TrainedModel, features, model_context, train

CACHE_SECONDS = 30.0


def _specs(niche: Niche) -> list[FieldSpec]:
    return [FieldSpec(f.name, f.type.value) for f in niche.fields]


def lead_features(lead: Lead, specs: list[FieldSpec]) -> dict[str, float]:
    failed = [
        r["code"] for r in (lead.quality or {}).get("reasons", []) if r.get("severity") == "fail"
    ]
    context = model_context(
        lead.source, lead.sub_id, str(lead.publisher_id), lead.created_at, failed
    )
    return features(lead.fields or {}, specs, context)


def training_set(session: Session, niche: Niche) -> tuple[list[dict[str, float]], list[int]]:
    """Features and labels of the niche's leads with a final outcome (converted=1, lost=0)."""
    converted = func.max(case((LeadOutcome.outcome == Outcome.CONVERTED, 1), else_=0))
    labels = (
        select(LeadOutcome.lead_id, converted.label("converted"))
        .where(LeadOutcome.outcome.in_([Outcome.CONVERTED, Outcome.LOST]))
        .group_by(LeadOutcome.lead_id)
        .subquery()
    )
    stmt = (
        select(Lead, labels.c.converted)
        .join(labels, labels.c.lead_id == Lead.id)
        .where(Lead.niche_id == niche.id)
        .order_by(Lead.id)
        .execution_options(yield_per=1000)
    )
    specs = _specs(niche)
    rows, ys = [], []
    for lead, label in session.execute(stmt):
        rows.append(lead_features(lead, specs))
        ys.append(int(label))
    return rows, ys


def train_niche_model(
    session: Session, niche: Niche, *, trained_by: str = "cli"
) -> ConversionModel:
    """Train and store a new version (raises quality.conversion.NotEnoughOutcomes when off)."""
    rows, labels = training_set(session, niche)
    trained = train(rows, labels)
    last = session.scalar(
        select(func.max(ConversionModel.version)).where(ConversionModel.niche_id == niche.id)
    )
    record = ConversionModel(
        niche_id=niche.id,
        version=(last or 0) + 1,
        feature_version=FEATURE_VERSION,
        samples=len(labels),
        metrics=trained.metrics,
        blob=trained.dumps(),
        trained_by=trained_by,
    )
    session.add(record)
    session.flush()
    _cache.forget(niche.id)
    return record


def niches_due(session: Session, *, growth: float = 0.2) -> list[Niche]:
    """Niches whose outcomes grew by `growth` (or that have none yet) since their newest model."""
    due = []
    for niche in session.scalars(select(Niche).where(Niche.is_active).order_by(Niche.id)):
        outcomes = (
            session.scalar(
                select(func.count(func.distinct(LeadOutcome.lead_id)))
                .join(Lead, Lead.id == LeadOutcome.lead_id)
                .where(
                    Lead.niche_id == niche.id,
                    LeadOutcome.outcome.in_([Outcome.CONVERTED, Outcome.LOST]),
                )
            )
            or 0
        )
        trained_on = session.scalar(
            select(ConversionModel.samples)
            .where(ConversionModel.niche_id == niche.id)
            .order_by(ConversionModel.version.desc())
            .limit(1)
        )
        if outcomes and (trained_on is None or outcomes >= trained_on * (1 + growth)):
            due.append(niche)
    return due


class _ModelCache:
    """The newest model of each niche, re-checked at most every CACHE_SECONDS per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[int, tuple[float, int | None, TrainedModel | None, str | None]] = {}

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def forget(self, niche_id: int) -> None:
        with self._lock:
            self._entries.pop(niche_id, None)

    def get(self, session: Session, niche_id: int) -> tuple[TrainedModel | None, str | None]:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(niche_id)
        if entry and now - entry[0] < CACHE_SECONDS:
            return entry[2], entry[3]
        newest = session.scalar(
            select(ConversionModel.id)
            .where(
                ConversionModel.niche_id == niche_id,
                ConversionModel.feature_version == FEATURE_VERSION,
            )
            .order_by(ConversionModel.version.desc())
            .limit(1)
        )
        if entry and entry[1] == newest:
            model, label = entry[2], entry[3]
        elif newest is None:
            model, label = None, None
        else:
            row = session.scalar(
                select(ConversionModel)
                .options(undefer(ConversionModel.blob))
                .where(ConversionModel.id == newest)
            )
            assert row is not None
            model, label = TrainedModel.loads(row.blob, row.metrics), row.label
        with self._lock:
            self._entries[niche_id] = (now, newest, model, label)
        return model, label


_cache = _ModelCache()


def clear_model_cache() -> None:
    """Forget every cached model (tests that rebuild the database start clean)."""
    _cache.clear()


def predictor_for(session: Session, niche: Niche) -> tuple[Any, str | None]:
    """A `predict(facts, reasons)` callable for assess(), or (None, None) while the model is off."""
    model, label = _cache.get(session, niche.id)
    if model is None:
        return None, None
    specs = _specs(niche)

    def predict(facts: LeadFacts, reasons: list[Finding]) -> float:
        failed = [r.code for r in reasons if r.severity == Severity.FAIL]
        context = model_context(
            facts.source, facts.sub_id, facts.publisher, facts.received_at, failed
        )
        return model.predict(features(facts.fields, specs, context))

    return predict, label
