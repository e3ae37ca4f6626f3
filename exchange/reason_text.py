"""Quality reason codes and input errors in plain words, for people reading a lead's report.

The quality module's own messages are precise but terse ("555-01xx numbers are reserved for
fiction."); a publisher wants to know what to fix. Unknown codes fall back to the message.
"""

from __future__ import annotations

from typing import Any

PLAIN: dict[str, str] = {
    "email_invalid": "The e-mail address is not valid.",
    "email_disposable": "The e-mail domain is disposable (a throw-away inbox).",
    "email_test_value": "The e-mail address looks made up or is a test address.",
    "email_role_account": "The e-mail is a shared role address (info@, sales@), not a person's.",
    "email_missing": "No e-mail address was given.",
    "phone_invalid": "The phone number is not valid.",
    "phone_unparseable": "The phone number is not valid.",
    "phone_fictional": "The phone number is a fictional 555-01xx number.",
    "phone_pattern": "The phone number is a fake pattern (repeated or sequential digits).",
    "phone_type": "The phone number is not a person's line (toll-free, premium or similar).",
    "phone_country_mismatch": "The phone number is from another country than the lead.",
    "phone_missing": "No phone number was given.",
    "contact_unreachable": "Neither the e-mail nor the phone number reaches the person.",
    "name_missing": "The lead has no name.",
    "name_digits": "The name contains digits.",
    "name_test_value": "The name is a placeholder (such as 'Test'), not a person's name.",
    "name_not_letters": "The name has no letters.",
    "name_profanity": "The name contains profanity.",
    "name_repeated": "The name repeats a single letter.",
    "name_mash": "The name looks like keyboard mashing.",
    "name_partial": "Only a first or a last name was given.",
    "name_short": "The name is very short.",
    "postal_code_missing": "No postal code was given.",
    "postal_code_malformed": "The postal code is not in the country's format.",
    "postal_code_unknown": "The postal code does not exist.",
    "postal_code_region_mismatch": "The postal code is not in the given state or region.",
    "consent_missing": "Consent evidence is missing (this niche requires it).",
    "consent_in_future": "The consent time is in the future.",
    "consent_too_old": "The consent is older than this niche accepts.",
    "consent_incomplete": "The consent evidence is incomplete.",
    "duplicate_lead": "The same person was already submitted in this niche recently.",
    "lead_rotation": "The same name and address came with different contact details recently.",
    "form_too_fast": "The form was filled in too fast for a person: likely a bot.",
    "form_fast": "The form was filled in suspiciously fast.",
    "velocity_ip": "Too many leads came from the same IP address within an hour.",
    "velocity_user_agent": "Too many leads came from the same browser and device within an hour.",
    "velocity_sub_id": "Too many leads came from the same sub-id within an hour.",
    "field_implausible": "A niche field has an implausible value.",
    "field_unreadable": "A niche field could not be read.",
    "source_flagged": "Your account is under review in this niche for its return rate.",
    "source_returns_high": "Leads from this source are often returned by buyers.",
    "check_error": "One of the checks could not run; an admin will look at the lead.",
    "model_error": "The conversion model could not score the lead.",
}

# Lead fields by their API name, as a person calls them.
FIELD_LABELS: dict[str, str] = {
    "niche": "Niche",
    "external_id": "External id",
    "first_name": "First name",
    "last_name": "Last name",
    "email": "E-mail",
    "phone": "Phone",
    "country": "Country",
    "region": "State / region",
    "postal_code": "Postal code",
    "city": "City",
    "address": "Address",
    "ip": "IP address",
    "user_agent": "User agent",
    "form_seconds": "Form seconds",
    "source": "Source",
    "sub_id": "Sub-id",
    "consent": "Consent",
    "fields": "Niche fields",
    "_schema": "Row",
    "_row": "Row",
}
# marshmallow's stock messages, said plainly.
MESSAGES: dict[str, str] = {
    "Missing data for required field.": "is missing",
    "Field may not be null.": "is missing",
    "Not a valid string.": "is not text",
    "Not a valid number.": "is not a number",
    "Not a valid IP address.": "is not a valid IP address",
    "Not a valid datetime.": "is not a date and time (ISO 8601 with a time zone)",
    "Not a valid aware datetime.": "needs a time zone (e.g. 2026-01-31T14:05:00+00:00)",
    "Length must be 2.": "must be a two-letter ISO code such as US",
}


def reason_text(code: str, message: str = "") -> str:
    """One quality reason in plain words."""
    return PLAIN.get(code) or message or code.replace("_", " ").capitalize() + "."


def quality_reasons(quality: dict[str, Any] | None, *, warnings: bool = True) -> list[str]:
    """A lead's non-passing reasons in plain words, failures first, each said once."""
    reasons = [r for r in (quality or {}).get("reasons") or [] if r.get("severity") != "pass"]
    if not warnings:
        reasons = [r for r in reasons if r.get("severity") == "fail"]
    reasons.sort(key=lambda r: r.get("severity") != "fail")
    texts: list[str] = []
    for reason in reasons:
        text = reason_text(str(reason.get("code", "")), str(reason.get("message", "")))
        if text not in texts:
            texts.append(text)
    return texts


def _label(name: str) -> str:
    return FIELD_LABELS.get(name) or name.replace("_", " ").capitalize()


def input_errors(messages: Any, prefix: str = "") -> list[str]:
    """Field errors ({field: [messages]}, nested) as sentences: 'Country is missing.'"""
    if isinstance(messages, str):
        text = MESSAGES.get(messages)
        if text:
            return [f"{prefix or 'Value'} {text}."]
        return [f"{prefix}: {messages}" if prefix else messages]
    if isinstance(messages, list | tuple):
        return [s for m in messages for s in input_errors(m, prefix)]
    if isinstance(messages, dict):
        out: list[str] = []
        for name, inner in messages.items():
            label = _label(str(name))
            if name in ("fields", "_schema", "_row"):
                out += input_errors(inner, "" if name == "fields" else label)
            else:
                out += input_errors(inner, f"{prefix} {label.lower()}" if prefix else label)
        return out
    return [str(messages)]
