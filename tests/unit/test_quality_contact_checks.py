"""Validity checks on contact details, each with real examples of a pass and of each failure."""

from __future__ import annotations

import pytest

from quality.email import check_email
from quality.name import check_name
from quality.phone import check_phone


def _codes(findings: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(f.code, f.severity.value) for f in findings]


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("maria.lopez@gmail.com", ("email_ok", "pass")),
        ("Maria.Lopez+solar@Outlook.com", ("email_ok", "pass")),
        ("jsmith@mailinator.com", ("email_disposable", "fail")),
        ("a1b2@guerrillamail.com", ("email_disposable", "fail")),
        ("x@sub.mailinator.com", ("email_disposable", "fail")),
        ("test@test.com", ("email_test_value", "fail")),
        ("asdf@gmail.com", ("email_test_value", "fail")),
        ("someone@example.com", ("email_test_value", "fail")),
        ("info@acmeplumbing.com", ("email_role_account", "warn")),
        ("sales@acmeplumbing.com", ("email_role_account", "warn")),
        ("maria@", ("email_invalid", "fail")),
        ("maria at gmail dot com", ("email_invalid", "fail")),
        ("", ("email_missing", "warn")),
        (None, ("email_missing", "warn")),
    ],
)
def test_email(email: str | None, expected: tuple[str, str]) -> None:
    assert _codes(check_email(email)) == [expected]


@pytest.mark.parametrize(
    ("phone", "country", "expected"),
    [
        ("(415) 555-2671", "US", [("phone_ok", "pass")]),
        ("+84 912 555 871", "VN", [("phone_ok", "pass")]),
        ("020 7946 0958", "GB", [("phone_ok", "pass")]),
        ("212-555-0123", "US", [("phone_fictional", "fail")]),
        ("1-800-555-1234", "US", [("phone_type", "fail")]),
        ("1-900-555-1234", "US", [("phone_type", "fail")]),
        ("(201) 222-2222", "US", [("phone_pattern", "fail")]),
        ("(201) 234-5678", "US", [("phone_pattern", "fail")]),
        ("123", "US", [("phone_invalid", "fail")]),
        ("call me maybe", "US", [("phone_invalid", "fail")]),
        ("(415) 123-4567", "US", [("phone_invalid", "fail")]),
        ("+44 20 7946 0958", "US", [("phone_country_mismatch", "warn"), ("phone_ok", "pass")]),
        (None, "US", [("phone_missing", "warn")]),
    ],
)
def test_phone(phone: str | None, country: str, expected: list[tuple[str, str]]) -> None:
    assert _codes(check_phone(phone, country)) == expected


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        ("Maria", "Lopez", [("name_ok", "pass")]),
        ("Nguyễn", "Văn An", [("name_ok", "pass")]),
        ("Mary-Jane", "O'Brien", [("name_ok", "pass")]),
        ("Dick", "Cummings", [("name_ok", "pass")]),  # real names a broad profanity list rejects
        ("Bjørn", "Ståhl", [("name_ok", "pass")]),
        ("Maria", "", [("name_partial", "warn")]),
        ("", None, [("name_missing", "fail")]),
        ("John2", "Smith", [("name_digits", "fail")]),
        ("Test", "Smith", [("name_test_value", "fail")]),
        ("Maria", "Fake", [("name_test_value", "fail")]),
        ("Qwerty", "Smith", [("name_test_value", "fail")]),
        ("Sdfgh", "Smith", [("name_mash", "fail")]),
        ("Aaaa", "Smith", [("name_repeated", "fail")]),
        ("Maria", "Shit", [("name_profanity", "fail")]),
        ("---", "Smith", [("name_not_letters", "fail")]),
    ],
)
def test_name(first: str, last: str | None, expected: list[tuple[str, str]]) -> None:
    assert _codes(check_name(first, last)) == expected
