"""Domain errors; they live in the top-level `errors` module so billing/ can share them."""

from errors import (
    AuthenticationFailed,
    CardDeclined,
    Conflict,
    DomainError,
    GatewayError,
    InvalidInput,
    NotFound,
    PaymentRequired,
    PermissionDenied,
)

__all__ = [
    "AuthenticationFailed",
    "CardDeclined",
    "Conflict",
    "DomainError",
    "GatewayError",
    "InvalidInput",
    "NotFound",
    "PaymentRequired",
    "PermissionDenied",
]
