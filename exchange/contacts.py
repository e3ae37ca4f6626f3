"""Normalising contact details: e-mail addresses and phone numbers."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email


@dataclass(frozen=True)
class Normalised:
    """A normalised value, or the cleaned input plus why it could not be normalised."""

    value: str
    error: str | None = None


def normalise_email(raw: str) -> Normalised:
    """Lower-cased, syntax-checked address; no DNS look-up."""
    cleaned = raw.strip().lower()
    try:
        result = validate_email(cleaned, check_deliverability=False)
    except EmailNotValidError as exc:
        return Normalised(cleaned, str(exc))
    return Normalised(result.normalized.lower())


def normalise_phone(raw: str, country: str | None) -> Normalised:
    """E.164 when the number parses for the lead's country (validity is judged by quality)."""
    cleaned = raw.strip()
    try:
        number = phonenumbers.parse(cleaned, (country or "").upper() or None)
    except phonenumbers.NumberParseException as exc:
        return Normalised(cleaned, f"The phone number could not be read: {exc}.")
    if not phonenumbers.is_possible_number(number):
        return Normalised(cleaned, "The phone number has an impossible length for its country.")
    return Normalised(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
