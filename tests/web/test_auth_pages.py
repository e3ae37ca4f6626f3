"""Log-in, CSRF, the rate limit, role checks and the shared account pages via the test client."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from exchange.models import Role
from tests.web.conftest import csrf_token, post_form


def test_a_form_without_its_csrf_token_is_refused(client: FlaskClient, portal_user: Any) -> None:
    user = portal_user(Role.BUYER)
    response = client.post("/login", data={"email": user.email, "password": user.password})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert client.get("/buyer/").status_code == 302  # not logged in


def test_log_in_attempts_are_rate_limited(client: FlaskClient, portal_user: Any) -> None:
    user = portal_user(Role.BUYER)
    token = csrf_token(client)
    statuses = [
        client.post(
            "/login", data={"email": user.email, "password": "wrong one", "csrf_token": token}
        ).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    # Even the right password waits out the limit.
    right = {"email": user.email, "password": user.password, "csrf_token": token}
    assert client.post("/login", data=right).status_code == 429


def test_bad_log_in_input_is_named_next_to_the_field(client: FlaskClient) -> None:
    response = client.post(
        "/login", data={"email": "not-an-email", "password": "", "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Invalid email address." in html and "This field is required." in html


def test_next_only_follows_paths_on_this_site(client: FlaskClient, portal_user: Any) -> None:
    user = portal_user(Role.PUBLISHER)
    data = {"email": user.email, "password": user.password, "csrf_token": csrf_token(client)}
    response = client.post("/login?next=//evil.example/x", data=data)
    assert response.headers["Location"] == "/publisher/"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/publisher/")})
    data["csrf_token"] = csrf_token(client)
    response = client.post("/login?next=/account/audit", data=data)
    assert response.headers["Location"] == "/account/audit"


def test_a_role_cannot_open_another_roles_portal(
    client: FlaskClient, portal_user: Any, login: Any
) -> None:
    login(portal_user(Role.PUBLISHER))
    assert client.get("/publisher/").status_code == 200
    for other in ("/buyer/", "/admin/"):
        assert client.get(other).status_code == 403


def test_a_key_of_another_organisation_cannot_be_revoked(
    client: FlaskClient, portal_user: Any, login: Any, make_account: Any
) -> None:
    other = make_account(Role.PUBLISHER)
    from sqlalchemy import select

    from exchange.models import ApiKey
    from extensions import db

    key_id = db.session.scalar(select(ApiKey.id).where(ApiKey.organization_id == other.org.id))
    db.session.rollback()
    login(portal_user(Role.PUBLISHER))
    response = post_form(client, f"/account/keys/{key_id}/revoke", {}, follow_redirects=True)
    assert f"No API key {key_id}." in response.get_data(as_text=True)
    assert db.session.get(ApiKey, key_id).revoked_at is None
