"""Geography (postal code against state and country) and consent evidence."""

from __future__ import annotations

import datetime as dt

from quality.facts import LeadFacts, NicheRules
from quality.findings import Finding, Severity, fail, passed, warn

CLOCK_SKEW = dt.timedelta(minutes=5)


def check_geography(lead: LeadFacts) -> list[Finding]:
    """Normalisation's place findings (unknown ZIP, ZIP in another state) become checks."""
    findings = [
        Finding(str(f.get("code")), Severity(f.get("severity", "warn")), str(f.get("message", "")))
        for f in lead.intake_findings
        if str(f.get("code", "")).startswith("postal_code")
        and f.get("severity") in ("warn", "fail")
    ]
    if findings:
        return findings
    if not lead.postal_code:
        return [warn("postal_code_missing", "No postal code was given.")]
    return [passed("geography_ok", "The postal code agrees with the state and country.")]


def check_consent(lead: LeadFacts, rules: NicheRules, now: dt.datetime) -> list[Finding]:
    """Consent evidence: present when the niche requires it, captured in the past, recent enough."""
    captured = lead.consent_captured_at
    if not rules.consent_required and not (captured or lead.consent_text or lead.consent_url):
        return []
    missing = [
        label
        for label, value in (
            ("text", lead.consent_text),
            ("URL", lead.consent_url),
            ("capture time", captured),
        )
        if not value
    ]
    if missing and rules.consent_required:
        return [
            fail("consent_missing", f"Consent is required; the {', '.join(missing)} is missing.")
        ]
    if captured is not None:
        if captured.tzinfo is None:
            captured = captured.replace(tzinfo=dt.UTC)
        if captured > now + CLOCK_SKEW:
            return [fail("consent_in_future", "Consent was captured in the future.")]
        if now - captured > dt.timedelta(days=rules.consent_max_age_days):
            return [
                fail(
                    "consent_too_old",
                    f"Consent is older than the niche's {rules.consent_max_age_days} days.",
                )
            ]
    if missing:
        return [warn("consent_incomplete", f"Consent evidence lacks the {', '.join(missing)}.")]
    return [passed("consent_ok", "Consent evidence is complete.")]
