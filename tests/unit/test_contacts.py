from __future__ import annotations

import pytest

from exchange.contacts import normalise_email, normalise_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Jane.Doe@Gmail.COM", "jane.doe@gmail.com"),
        ("  bob@example.com ", "bob@example.com"),
        ("ÉLODIE@exemple.fr", "élodie@exemple.fr"),
    ],
)
def test_email_is_lower_cased_and_trimmed(raw: str, expected: str) -> None:
    result = normalise_email(raw)
    assert (result.value, result.error) == (expected, None)


@pytest.mark.parametrize("raw", ["not-an-email", "a@b", "two@@example.com", "x@localhost"])
def test_unreadable_email_is_kept_with_a_reason(raw: str) -> None:
    result = normalise_email(raw)
    assert result.value == raw.strip().lower()
    assert result.error


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("(415) 555-2671", "US", "+14155552671"),
        ("415.555.2671", "US", "+14155552671"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("0912 345 678", "VN", "+84912345678"),
        ("020 7946 0958", "gb", "+442079460958"),
    ],
)
def test_phone_becomes_e164(raw: str, country: str, expected: str) -> None:
    result = normalise_phone(raw, country)
    assert (result.value, result.error) == (expected, None)


@pytest.mark.parametrize("raw", ["call me", "12", "+1 415 555 26711234567"])
def test_unreadable_phone_is_kept_with_a_reason(raw: str) -> None:
    result = normalise_phone(raw, "US")
    assert result.value == raw
    assert result.error
