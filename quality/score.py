"""From findings to a 0-100 score and a verdict, with per-niche weights."""

from __future__ import annotations

from collections.abc import Iterable

from quality.facts import NicheRules
from quality.findings import Finding, Severity

FAIL_PENALTY = 45.0  # one failed check sends a lead to review under the default thresholds
WARN_PENALTY = 8.0
PENALTIES = {
    "email_role_account": 5.0,
    "email_missing": 5.0,
    "phone_missing": 10.0,
    "phone_country_mismatch": 10.0,
    "name_partial": 5.0,
    "name_short": 3.0,
    "postal_code_missing": 3.0,
    "consent_incomplete": 10.0,
    "field_implausible": 10.0,
    "lead_rotation": 15.0,
    "form_fast": 10.0,
    "source_flagged": 0.0,  # not a penalty: the lead goes to review (see FORCE_REVIEW)
    "source_returns_high": 10.0,
}
# Findings that send an otherwise acceptable lead to a person.
FORCE_REVIEW = frozenset({"source_flagged"})
# Failures that no score can outweigh.
HARD_REJECTS = frozenset(
    {
        "contact_unreachable",
        "duplicate_lead",
        "consent_missing",
        "consent_in_future",
        "name_missing",
        "form_too_fast",
        "velocity_ip",
    }
)


def penalty(finding: Finding, rules: NicheRules) -> float:
    if finding.severity == Severity.PASS:
        return 0.0
    if finding.code in rules.weights:
        return rules.weights[finding.code]
    default = FAIL_PENALTY if finding.severity == Severity.FAIL else WARN_PENALTY
    return PENALTIES.get(finding.code, default)


def score_findings(findings: Iterable[Finding], rules: NicheRules) -> int:
    """100 minus the penalties, clamped to 0-100."""
    return max(0, min(100, round(100 - sum(penalty(f, rules) for f in findings))))


def verdict(score: int, findings: Iterable[Finding], rules: NicheRules) -> str:
    """accept / review / reject from the niche's thresholds; a hard failure always rejects."""
    if any(f.severity == Severity.FAIL and f.code in HARD_REJECTS for f in findings):
        return "reject"
    if score >= rules.accept_score:
        return "review" if any(f.code in FORCE_REVIEW for f in findings) else "accept"
    if score >= rules.review_score:
        return "review"
    return "reject"


def temperature(probability: float | None, rules: NicheRules) -> str | None:
    """cold / warm / hot at the niche's probability thresholds."""
    if probability is None:
        return None
    if probability >= rules.hot_probability:
        return "hot"
    return "warm" if probability >= rules.warm_probability else "cold"
