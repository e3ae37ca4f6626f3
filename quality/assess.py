"""`assess`: every check over one lead, a score, a verdict and the reasons, never an exception."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from quality.email import check_email
from quality.facts import LeadFacts, Lookups, NicheRules
from quality.findings import Finding, Severity, fail, warn
from quality.fraud import (
    check_duplicate,
    check_form_speed,
    check_rotation,
    check_source,
    check_velocity,
)
from quality.name import check_name
from quality.phone import check_phone
from quality.place_and_consent import check_consent, check_geography
from quality.plausibility import check_fields
from quality.score import score_findings, temperature, verdict

log = logging.getLogger(__name__)

# Given the lead's facts, the probability it converts; None when no model is trained.
Predictor = Callable[[LeadFacts, list[Finding]], float | None]


@dataclass
class QualityReport:
    score: int
    verdict: str
    conversion_probability: float | None
    temperature: str | None
    reasons: list[Finding] = field(default_factory=list)
    model_version: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "verdict": self.verdict,
            "conversion_probability": self.conversion_probability,
            "temperature": self.temperature,
            "reasons": [r.as_dict() for r in self.reasons],
            "model_version": self.model_version,
        }


def _safely(name: str, check: Callable[[], list[Finding] | Finding]) -> list[Finding]:
    try:
        result = check()
    except Exception:  # a broken check must not lose the lead; it is logged and reported
        log.exception("quality check %s failed", name)
        return [warn("check_error", f"The {name} check could not run.")]
    return result if isinstance(result, list) else [result]


def _reachable(findings: list[Finding]) -> bool:
    def ok(prefix: str) -> bool:
        return any(
            f.code.startswith(prefix)
            and f.severity != Severity.FAIL
            and not f.code.endswith("_missing")
            for f in findings
        )

    return ok("email_") or ok("phone_")


def assess(
    lead: LeadFacts,
    rules: NicheRules,
    lookups: Lookups | None = None,
    *,
    predict: Predictor | None = None,
    model_version: str | None = None,
    now: dt.datetime | None = None,
) -> QualityReport:
    """Run every check on a lead and derive its score, verdict and conversion probability."""
    lookups = lookups or Lookups()
    now = now or dt.datetime.now(dt.UTC)
    reasons: list[Finding] = []
    reasons += _safely("e-mail", lambda: check_email(lead.email))
    reasons += _safely("phone", lambda: check_phone(lead.phone, lead.country))
    if not _reachable(reasons):
        reasons.append(
            fail("contact_unreachable", "Neither the e-mail nor the phone reaches anyone.")
        )
    reasons += _safely("name", lambda: check_name(lead.first_name, lead.last_name))
    reasons += _safely("geography", lambda: check_geography(lead))
    reasons += _safely("consent", lambda: check_consent(lead, rules, now))
    reasons += _safely("fields", lambda: check_fields(lead.fields or {}, rules.fields, now.date()))
    reasons += _safely("duplicate", lambda: check_duplicate(lead, rules, lookups, now))
    reasons += _safely("velocity", lambda: check_velocity(lead, lookups, now))
    reasons += _safely("form speed", lambda: check_form_speed(lead))
    reasons += _safely("rotation", lambda: check_rotation(lead, lookups, now))
    reasons += _safely("source", lambda: check_source(lookups.source()))
    score = score_findings(reasons, rules)
    probability = None
    if predict is not None:
        try:
            probability = predict(lead, reasons)
        except Exception:
            log.exception("conversion model failed")
            reasons.append(warn("model_error", "The conversion model could not score this lead."))
    return QualityReport(
        score=score,
        verdict=verdict(score, reasons, rules),
        conversion_probability=None if probability is None else round(float(probability), 4),
        temperature=temperature(probability, rules),
        reasons=reasons,
        model_version=model_version if probability is not None else None,
    )
