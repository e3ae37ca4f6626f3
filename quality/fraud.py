"""Fraud signals: duplicates, velocity by IP / device / sub-id, inhuman form speed, rotation,
and the source's own return record."""

from __future__ import annotations

import datetime as dt

from quality.facts import LeadFacts, Lookups, NicheRules, SourceHistory
from quality.findings import Finding, fail, passed, warn

HOUR = dt.timedelta(hours=1)
# Leads in the last hour from one source: (warn from, fail from).
VELOCITY = {
    "ip": (4, 10, "IP address"),
    "user_agent": (20, 60, "browser and device"),
    "sub_id": (200, 1000, "sub-id"),
}
FASTEST_HUMAN_FORM = 3.0  # seconds; below it a script filled the form
SUSPICIOUSLY_FAST_FORM = 8.0


def check_duplicate(
    lead: LeadFacts, rules: NicheRules, lookups: Lookups, now: dt.datetime
) -> Finding:
    """The same e-mail or phone in the niche within its duplicate window, from any publisher."""
    if not (lead.email or lead.phone) or rules.duplicate_window_days <= 0:
        return passed("duplicate_ok", "No duplicate check applies.")
    since = now - dt.timedelta(days=rules.duplicate_window_days)
    if lookups.duplicates(lead.email, lead.phone, since) > 0:
        return fail(
            "duplicate_lead",
            f"The same person reached this niche in the last {rules.duplicate_window_days} days.",
        )
    return passed("duplicate_ok", "Not seen in this niche's duplicate window.")


def check_velocity(lead: LeadFacts, lookups: Lookups, now: dt.datetime) -> list[Finding]:
    """Many leads from one IP, device or sub-id within an hour."""
    findings = []
    for kind, (warn_at, fail_at, label) in VELOCITY.items():
        value = getattr(lead, kind)
        if not value:
            continue
        count = lookups.recent(kind, value, now - HOUR)
        if count >= fail_at:
            findings.append(fail(f"velocity_{kind}", f"{count} leads from one {label} in an hour."))
        elif count >= warn_at:
            findings.append(warn(f"velocity_{kind}", f"{count} leads from one {label} in an hour."))
    return findings


def check_form_speed(lead: LeadFacts) -> list[Finding]:
    """A form filled faster than a person can type."""
    seconds = lead.form_seconds
    if seconds is None:
        return []
    if seconds < FASTEST_HUMAN_FORM:
        return [fail("form_too_fast", f"The form was filled in {seconds:.1f} s: a bot.")]
    if seconds < SUSPICIOUSLY_FAST_FORM:
        return [warn("form_fast", f"The form was filled in {seconds:.1f} s.")]
    return []


def check_rotation(lead: LeadFacts, lookups: Lookups, now: dt.datetime) -> list[Finding]:
    """The same name and postal code sent again under other contact details (lead rotation)."""
    if not (lead.first_name and lead.last_name and lead.postal_code):
        return []
    count = lookups.rotations(lead.first_name, lead.last_name, lead.postal_code, now - 24 * HOUR)
    if count > 0:
        return [
            warn(
                "lead_rotation",
                f"The same name and postal code arrived {count} time(s) today "
                "with other contact details.",
            )
        ]
    return []


RETURNS_WARN_RATE = 0.15  # a source returned this often costs its leads points
RETURNS_MIN_SALES = 10


def check_source(history: SourceHistory | None) -> list[Finding]:
    """The source's own record: a publisher flagged for its returns sends its leads to
    review; a high return rate lowers the score."""
    if history is None:
        return []
    findings = []
    if history.flagged:
        findings.append(
            warn("source_flagged", "This publisher is under review for its return rate.")
        )
    if history.sales >= RETURNS_MIN_SALES and history.return_rate >= RETURNS_WARN_RATE:
        findings.append(
            warn(
                "source_returns_high",
                f"{history.return_rate:.0%} of this source's last {history.sales} sales "
                "were returned.",
            )
        )
    return findings
