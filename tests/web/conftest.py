"""Portal tests through Flask's test client (forms, CSRF, tenant checks, status codes)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.browser.conftest import PortalUser, portal_user  # noqa: F401  (fixture)

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a page's form."""
    html = client.get(path).get_data(as_text=True)
    match = TOKEN.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def logged_in(client: FlaskClient, user: PortalUser) -> FlaskClient:
    """Log the test client in through the form, as a browser would."""
    response = client.post(
        "/login",
        data={"email": user.email, "password": user.password, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def post_form(client: FlaskClient, path: str, data: dict[str, Any], **kwargs: Any) -> Any:
    """POST a form with the session's CSRF token added."""
    return client.post(
        path, data={**data, "csrf_token": csrf_token(client, "/account/keys")}, **kwargs
    )


@pytest.fixture
def login(client: FlaskClient) -> Any:
    """Log the test client in as a portal user: `login(portal_user(Role.BUYER))`."""
    return lambda user: logged_in(client, user)
