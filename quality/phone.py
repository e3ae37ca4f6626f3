"""Phone checks: validity for the lead's country, number type, impossible patterns."""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberType

from quality.findings import Finding, fail, passed, warn

FAILING_TYPES = {
    PhoneNumberType.PREMIUM_RATE: "a premium-rate number",
    PhoneNumberType.TOLL_FREE: "a toll-free number",
    PhoneNumberType.SHARED_COST: "a shared-cost number",
    PhoneNumberType.PAGER: "a pager number",
    PhoneNumberType.UAN: "a company switchboard (UAN) number",
}
SEQUENCES = ("0123456789", "9876543210")


def _impossible_pattern(national: str) -> str | None:
    subscriber = national[-7:]
    if len(set(national)) == 1 or len(set(subscriber)) == 1:
        return "repeats one digit"
    if any(subscriber in seq for seq in SEQUENCES) and len(subscriber) >= 7:
        return "is a run of sequential digits"
    return None


def check_phone(phone: str | None, country: str | None) -> list[Finding]:
    """Findings for a phone number, read for the lead's country."""
    if not phone or not phone.strip():
        return [warn("phone_missing", "No phone number was given.")]
    try:
        number = phonenumbers.parse(phone, (country or "").upper() or None)
    except phonenumbers.NumberParseException:
        return [fail("phone_invalid", "The phone number cannot be read.")]
    if not phonenumbers.is_valid_number(number):
        return [fail("phone_invalid", "The phone number is not a valid number.")]
    national = str(number.national_number)
    region = phonenumbers.region_code_for_number(number)
    if region == "US" or number.country_code == 1:
        exchange, line = national[3:6], national[6:]
        if exchange == "555" and line.startswith("01"):
            return [fail("phone_fictional", "555-01xx numbers are reserved for fiction.")]
    pattern = _impossible_pattern(national)
    if pattern:
        return [fail("phone_pattern", f"The phone number {pattern}.")]
    kind = phonenumbers.number_type(number)
    if kind in FAILING_TYPES:
        return [fail("phone_type", f"The phone is {FAILING_TYPES[kind]}, not a person's line.")]
    findings = []
    if country and region and region != country.upper():
        findings.append(
            warn("phone_country_mismatch", f"The phone is from {region}, the lead from {country}.")
        )
    kind_name = {PhoneNumberType.MOBILE: "mobile", PhoneNumberType.FIXED_LINE: "landline"}.get(
        kind, "valid"
    )
    findings.append(passed("phone_ok", f"A {kind_name} number."))
    return findings
