"""Domain errors shared by exchange/ and billing/.

The API maps each class to one HTTP status in one place (api/errors.py). This module sits
beside database.py at the bottom of the import graph, so billing/ can raise them too.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class: `code` is machine-readable, the message is for people."""

    code = "error"

    def __init__(
        self, message: str, *, code: str | None = None, fields: dict[str, Any] | None = None
    ):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class InvalidInput(DomainError):
    """The request is well-formed but its content is not acceptable (422)."""

    code = "invalid_input"


class NotFound(DomainError):
    """The object does not exist or is not the caller's to see (404)."""

    code = "not_found"


class Conflict(DomainError):
    """The request contradicts the current state (409)."""

    code = "conflict"


class PermissionDenied(DomainError):
    """The caller is known but its role may not do this (403)."""

    code = "forbidden"


class AuthenticationFailed(DomainError):
    """No valid credentials (401)."""

    code = "unauthorized"


class PaymentRequired(DomainError):
    """Not enough money: the balance (plus any credit) does not cover the charge (402)."""

    code = "insufficient_funds"


class CardDeclined(DomainError):
    """The payment gateway declined the card (402)."""

    code = "card_declined"


class GatewayError(DomainError):
    """The payment gateway failed or could not be reached; nothing was charged (502)."""

    code = "gateway_error"


class PaymentsUnavailable(DomainError):
    """No payment gateway is configured, so nothing can be charged (503)."""

    code = "payments_not_configured"


class BadRequest(DomainError):
    """The request cannot be trusted or parsed, e.g. a webhook with a bad signature (400)."""

    code = "bad_request"
