"""Reading admin form and query values: each bad value becomes a message next to its field.

A `Fields` reader collects every problem of a submission before the view decides, so one
answer lists them all; the view then re-renders the form (422) with the values typed.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from billing.currency import exponent, max_amount

MAX_NOTE = 2000


class Fields:
    """Typed reads of a form or query string; problems land in `errors` by field name."""

    def __init__(self, data: MultiDict[str, str]):
        self.data = data
        self.errors: dict[str, list[str]] = {}

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def raw(self, name: str) -> str:
        return (self.data.get(name) or "").strip()

    def text(self, name: str, *, required: bool = False, max_len: int = MAX_NOTE) -> str:
        value = self.raw(name)
        if "\x00" in value:
            self.fail(name, "NUL characters are not allowed.")
            return ""
        if required and not value:
            self.fail(name, "Required.")
        elif len(value) > max_len:
            self.fail(name, f"At most {max_len} characters.")
        return value

    def choice(self, name: str, options: tuple[str, ...] | list[str], *, default: str = "") -> str:
        value = self.raw(name) or default
        if value not in options:
            self.fail(name, f"One of: {', '.join(o for o in options if o)}.")
            return default
        return value

    def integer(
        self,
        name: str,
        *,
        required: bool = True,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int | None:
        value = self.raw(name)
        if not value:
            if required:
                self.fail(name, "Required.")
            return None
        try:
            number = int(value)
        except ValueError:
            self.fail(name, "A whole number.")
            return None
        if minimum is not None and number < minimum:
            self.fail(name, f"At least {minimum}.")
        elif maximum is not None and number > maximum:
            self.fail(name, f"At most {maximum}.")
        return number

    def decimal(
        self, name: str, *, required: bool = True, minimum: float = 0, maximum: float = 1e9
    ) -> float | None:
        value = self.raw(name)
        if not value:
            if required:
                self.fail(name, "Required.")
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            self.fail(name, "A number.")
            return None
        if not number.is_finite() or not minimum <= number <= maximum:
            self.fail(name, f"Between {minimum:g} and {maximum:g}.")
            return None
        return float(number)

    def money(
        self, name: str, currency: str, *, required: bool = True, minimum: int = 0
    ) -> int | None:
        """A major-unit amount typed by a person ('1,250.50') in minor units of `currency`."""
        value = self.raw(name).replace(",", "").replace(" ", "")
        if not value:
            if required:
                self.fail(name, "Required.")
            return None
        digits = exponent(currency)
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            self.fail(name, f"An amount in {currency}, e.g. {_example(currency)}.")
            return None
        minor = number.scaleb(digits)
        if minor != minor.to_integral_value():
            places = f"{digits} decimal{'s' if digits != 1 else ''}" if digits else "no decimals"
            self.fail(name, f"{currency} amounts have {places}.")
            return None
        amount = int(minor)
        if amount < minimum:
            self.fail(name, "Must not be negative." if minimum == 0 else "Too small.")
            return None
        if amount > max_amount(currency):
            self.fail(name, "Too large.")
            return None
        return amount


def _example(currency: str) -> str:
    digits = exponent(currency)
    return "25" + ("." + "0" * digits if digits else "")


def schema_errors(error: ValidationError, prefix: str = "") -> dict[str, list[str]]:
    """A marshmallow error's messages keyed like the form's inputs: 'a', 'a-0-b'."""
    found: dict[str, list[str]] = {}
    _walk(error.messages, prefix, found)
    return found


def _walk(messages: Any, path: str, found: dict[str, list[str]]) -> None:
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = "_form" if key == "_schema" else str(key)
            _walk(value, f"{path}-{name}" if path else name, found)
    elif isinstance(messages, list | tuple):
        for item in messages:
            _walk(item, path, found)
    else:
        found.setdefault(path or "_form", []).append(str(messages))
