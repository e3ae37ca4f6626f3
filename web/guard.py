"""Who may see a portal page: a logged-in user whose organisation has the page's role.

Pages never take an organisation id from the URL to decide whose data to show: they pass
`current_org()` to the services, which answer NotFound for another organisation's records.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from exchange.models import Organization, Role, User

F = TypeVar("F", bound=Callable[..., Any])


def portal(*roles: Role) -> Callable[[F], F]:
    """Require a log-in, and (when roles are given) an organisation of one of those roles."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if roles and current_org().role not in roles:
                abort(403, description="This page belongs to another kind of account.")
            return view(*args, **kwargs)

        return login_required(wrapper)  # type: ignore[return-value]

    return decorator


def current_account() -> User:
    """The logged-in user (only call behind `portal`)."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def current_org() -> Organization:
    """The logged-in user's organisation: the acting organisation of every portal service call."""
    return current_account().organization
