"""Domain errors. The API maps each class to one HTTP status in one place (api/errors.py)."""

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
