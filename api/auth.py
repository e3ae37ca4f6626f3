"""Bearer API-key authentication for the JSON API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from database import utcnow
from exchange.accounts import authenticate_api_key, needs_touch
from exchange.errors import AuthenticationFailed, PermissionDenied
from exchange.models import ApiKey, Organization, Role
from extensions import db

F = TypeVar("F", bound=Callable[..., Any])


def _bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    if not header:
        raise AuthenticationFailed(
            "Send your API key as 'Authorization: Bearer <key>'.", code="missing_api_key"
        )
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed(
            "The Authorization header must be 'Bearer <key>'.", code="invalid_authorization"
        )
    return token.strip()


def key_required(*roles: Role) -> Callable[[F], F]:
    """Authenticate the request's API key (and its role, when given) before the view runs."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = authenticate_api_key(db.session, _bearer_token())
            org = key.organization
            if roles and org.role not in roles:
                wanted = " or ".join(r.value for r in roles)
                raise PermissionDenied(f"This needs a {wanted} key; yours is {org.role.value}.")
            if needs_touch(key):
                # Bookkeeping in its own short transaction, at most once a minute per key.
                key.last_used_at = utcnow()
                db.session.commit()
            g.api_key, g.org = key, org
            return view(*args, **kwargs)

        # Read by api.blueprint to document the 401 (and, with roles, the 403) it answers.
        wrapper._key_roles = roles  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def current_org() -> Organization:
    return g.org  # type: ignore[no-any-return]


def current_key() -> ApiKey:
    return g.api_key  # type: ignore[no-any-return]
