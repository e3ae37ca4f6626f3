"""Logging in as each role in Chromium, the shared account pages, and the phone layout."""

from __future__ import annotations

import re
from typing import Any

import pytest

from exchange.models import Role
from tests.browser.conftest import log_in, screenshot


@pytest.mark.parametrize("role", [Role.PUBLISHER, Role.BUYER, Role.ADMIN])
def test_each_role_logs_in_to_its_own_portal_and_out(
    page: Any, portal_user: Any, role: Role
) -> None:
    user = portal_user(role)
    log_in(page, user)
    assert page.url.endswith(f"/{role.value}/")
    assert user.org_name in page.inner_text("header")
    cookie = next(c for c in page.context.cookies() if c["name"] == "exchange_session")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"
    screenshot(page, f"{role.value}-dashboard")
    page.click("text=Log out")
    page.wait_for_url(re.compile("/login"))
    page.goto(f"/{role.value}/")
    assert "/login" in page.url  # the session is gone


def test_a_wrong_password_is_refused_next_to_the_form(
    page: Any, page_errors: Any, portal_user: Any
) -> None:
    user = portal_user(Role.BUYER)
    page_errors.allow_status(401)
    page.goto("/login")
    screenshot(page, "login")
    page.fill("#email", user.email)
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "Wrong e-mail or password."
    assert "/login" in page.url


def test_api_keys_are_shown_once_and_revoked(page: Any, portal_user: Any) -> None:
    user = portal_user(Role.PUBLISHER)
    log_in(page, user)
    page.click("nav >> text=API keys")
    page.fill("#name", "landing pages")
    page.click("text=Create key")
    key = page.locator("#new-key code").inner_text()
    assert key.startswith("lx_")
    screenshot(page, "api-keys")
    page.reload()
    assert key not in page.content()  # shown once only
    page.click("text=Revoke")
    assert "revoked" in page.locator("table").inner_text()
    page.click("nav >> text=Audit trail")
    trail = page.locator("table").inner_text()
    assert "api_key.revoked" in trail and "user.login" in trail
    screenshot(page, "audit-trail")
