"""Currencies as Stripe counts them: exponents, formatting, validation, major units."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.currency import exponent, format_amount, max_amount, normalise_currency, to_major
from errors import InvalidInput


@pytest.mark.parametrize(
    ("currency", "digits"),
    [
        ("USD", 2),
        ("EUR", 2),
        ("usd", 2),
        ("VND", 0),
        ("vnd", 0),
        ("JPY", 0),
        ("KRW", 0),
        ("KWD", 3),
        ("BHD", 3),
    ],
)
def test_exponent_follows_stripe_minor_units(currency: str, digits: int) -> None:
    assert exponent(currency) == digits


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (200_000_000, "VND", "200,000,000 VND"),
        (123_450, "USD", "1,234.50 USD"),
        (123_450, "usd", "1,234.50 USD"),
        (5, "USD", "0.05 USD"),
        (0, "USD", "0.00 USD"),
        (-123_450, "USD", "-1,234.50 USD"),
        (1_500, "JPY", "1,500 JPY"),
        (1_234_567, "KWD", "1,234.567 KWD"),
        (1, "KWD", "0.001 KWD"),
    ],
)
def test_format_amount_uses_the_currency_decimals(
    amount: int, currency: str, expected: str
) -> None:
    assert format_amount(amount, currency) == expected


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (12_345, "USD", Decimal("123.45")),
        (12_345, "VND", Decimal("12345")),
        (12_345, "JPY", Decimal("12345")),
        (12_345, "KWD", Decimal("12.345")),
        (-50, "USD", Decimal("-0.50")),
        (0, "KWD", Decimal("0")),
    ],
)
def test_to_major(amount: int, currency: str, expected: Decimal) -> None:
    major = to_major(amount, currency)
    assert isinstance(major, Decimal)
    assert major == expected
    # Back to minor units exactly: no float anywhere.
    assert major.scaleb(exponent(currency)) == amount


def test_to_major_keeps_the_minor_digits() -> None:
    assert str(to_major(100, "USD")) == "1.00"
    assert str(to_major(1000, "KWD")) == "1.000"
    assert str(to_major(100, "VND")) == "100"


@pytest.mark.parametrize(("given", "expected"), [("USD", "USD"), ("usd", "USD"), ("vNd", "VND")])
def test_normalise_currency_upper_cases_known_codes(given: str, expected: str) -> None:
    assert normalise_currency(given) == expected


@pytest.mark.parametrize(
    "bad", ["", "US", "USDX", "ZZQ", "U$D", "12A", " usd", None, 840, b"USD", ["USD"]]
)
def test_normalise_currency_rejects_what_is_not_iso_4217(bad: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        normalise_currency(bad)
    assert raised.value.code == "invalid_input"
    assert list(raised.value.fields) == ["currency"]


def test_normalise_currency_names_the_field() -> None:
    with pytest.raises(InvalidInput) as raised:
        normalise_currency("ABC", field="payout_currency")
    assert list(raised.value.fields) == ["payout_currency"]
    assert "'ABC'" in raised.value.message


def test_max_amount_scales_with_the_exponent() -> None:
    assert max_amount("VND") == 10_000_000_000
    assert max_amount("USD") == 10_000_000_000 * 100
    assert max_amount("KWD") == 10_000_000_000 * 1000
