"""Currencies as Stripe counts them: amounts are integers in the currency's minor unit.

Stripe's zero-decimal currencies (VND, JPY, KRW...) have no minor unit: 50,000 VND is sent as
50000. Its three-decimal currencies (BHD, KWD...) count thousandths. Everything else counts
hundredths. https://docs.stripe.com/currencies#zero-decimal
"""

from __future__ import annotations

from decimal import Decimal

import pycountry

from errors import InvalidInput

ZERO_DECIMAL = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
THREE_DECIMAL = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])
# Stripe's smallest charge is about 0.50 USD; we hold top-ups to a sane range per currency.
MAX_MAJOR_UNITS = 10_000_000_000


def exponent(currency: str) -> int:
    """Digits after the decimal point in Stripe's minor unit for `currency`."""
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def normalise_currency(currency: object, field: str = "currency") -> str:
    """An upper-case ISO 4217 code, or InvalidInput naming the field."""
    if isinstance(currency, str) and len(currency) == 3 and currency.isalpha():
        code = currency.upper()
        if pycountry.currencies.get(alpha_3=code) is not None:
            return code
    raise InvalidInput(
        f"{currency!r} is not an ISO 4217 currency code.",
        fields={field: ["Not a known ISO 4217 currency code, e.g. USD, EUR, VND."]},
    )


def to_major(amount: int, currency: str) -> Decimal:
    """Minor units as a Decimal in major units: 12345 USD -> 123.45, 12345 VND -> 12345."""
    return Decimal(amount).scaleb(-exponent(currency))


def format_amount(amount: int, currency: str) -> str:
    """Human form with the currency's own decimals: '1,234.50 USD', '200,000,000 VND'."""
    digits = exponent(currency)
    return f"{to_major(amount, currency):,.{digits}f} {currency.upper()}"


def max_amount(currency: str) -> int:
    """The largest amount in minor units one movement may carry."""
    return MAX_MAJOR_UNITS * 10 ** exponent(currency)
