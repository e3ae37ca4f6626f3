"""Amounts typed in major units ("25.50") turned into the minor units the services take."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from billing.currency import exponent, max_amount
from errors import InvalidInput


def parse_major(raw: str, currency: str, field: str, *, zero: bool = False) -> int:
    """Minor units of an amount such as '1,250.50' in `currency`, or InvalidInput on `field`."""

    def bad(message: str) -> InvalidInput:
        return InvalidInput(f"{field}: {message}", fields={field: [message]})

    text = (raw or "").strip().replace(",", "")
    if not text:
        raise bad("Enter an amount.")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise bad("Enter an amount such as 25 or 25.50.") from None
    if not value.is_finite() or value < 0 or (value == 0 and not zero):
        raise bad("Must be zero or more." if zero else "Must be more than zero.")
    try:
        digits = exponent(currency)
    except InvalidInput:
        raise bad(f"Unknown currency {currency!r}.") from None
    minor = value.scaleb(digits)
    if minor != minor.to_integral_value():
        raise bad(
            f"At most {digits} decimals in {currency}." if digits else f"No decimals in {currency}."
        )
    if minor > max_amount(currency):
        raise bad("Too large.")
    return int(minor)
