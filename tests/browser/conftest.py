"""Browser fixtures: Debian's Chromium (/usr/bin/chromium, headless) driven by Playwright.

No browser is downloaded: Playwright launches the system Chromium. Under CI=true a missing
Chromium fails the run. Every page a test opens fails the test on a console error, an uncaught
script error or a 5xx response; `page_errors.allow_status(422)` admits the browser's console
line for a 4xx document the test provokes on purpose (a form sent back with errors).
Screenshots go to test-artifacts/screenshots/ (kept by CI as artefacts).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from exchange.accounts import create_organization, create_user
from exchange.models import Organization, Role
from extensions import db
from tests.conftest import IN_CI

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "correct horse battery"
WIDE, NARROW = 1280, 390
LOAD_FAILURE = re.compile(r"Failed to load resource: the server responded with a status of (\d{3})")


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or None


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the session."""
    path = chromium_path()
    if path is None:
        if IN_CI:
            pytest.fail("CI=true but Chromium is not installed: the browser tests must run")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True)
        yield browser
        browser.close()


@dataclass
class PageErrors:
    """What went wrong in the browser while a test ran."""

    console: list[str] = field(default_factory=list)
    allowed: set[int] = field(default_factory=set)
    server_errors: list[str] = field(default_factory=list)

    def allow_status(self, *statuses: int) -> None:
        """Expect documents answered with these 4xx statuses (forms sent back with errors)."""
        self.allowed.update(s for s in statuses if 400 <= s < 500)

    def problems(self) -> list[str]:
        found = list(self.server_errors)
        for text in self.console:
            match = LOAD_FAILURE.search(text)
            if match and int(match.group(1)) in self.allowed:
                continue
            found.append(text)
        return found


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


@pytest.fixture
def browser_context(chromium: Any, live_server: str) -> Iterator[Any]:
    context = chromium.new_context(base_url=live_server, viewport={"width": WIDE, "height": 900})
    context.set_default_timeout(10_000)
    yield context
    context.close()


def watch(page: Any, errors: PageErrors) -> Any:
    """Record the page's console errors, uncaught exceptions and 5xx responses."""
    page.on("console", lambda m: errors.console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.console.append(f"uncaught: {e}"))
    page.on(
        "response",
        lambda r: errors.server_errors.append(f"{r.status} {r.url}") if r.status >= 500 else None,
    )
    return page


@pytest.fixture
def page(browser_context: Any, page_errors: PageErrors) -> Iterator[Any]:
    """A page at 1280 px; the test fails on any console error, script error or 5xx."""
    tab = watch(browser_context.new_page(), page_errors)
    yield tab
    problems = page_errors.problems()
    assert not problems, f"the browser reported errors: {problems}"


@pytest.fixture
def new_page(browser_context: Any, page_errors: PageErrors, chromium: Any, live_server: str) -> Any:
    """Another user's page, in its own browser context (own cookies), watched the same way."""
    contexts: list[Any] = []

    def _open() -> Any:
        context = chromium.new_context(
            base_url=live_server, viewport={"width": WIDE, "height": 900}
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return watch(context.new_page(), page_errors)

    yield _open
    for context in contexts:
        context.close()


def screenshot(page: Any, name: str) -> None:
    """Save the page at 1280 px and at 390 px, and check nothing overflows sideways at 390."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    backend = db.engine.dialect.name
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{backend}-{WIDE}.png"), full_page=True)
    page.set_viewport_size({"width": NARROW, "height": 844})
    try:
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{backend}-{NARROW}.png"), full_page=True)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"{name} scrolls sideways by {overflow}px at {NARROW}px"
    finally:
        page.set_viewport_size({"width": WIDE, "height": 900})


@dataclass(frozen=True)
class PortalUser:
    """Plain values, not ORM objects: touching an expired object in the test thread would open
    a transaction there (on SQLite, one holding the write lock the server threads need)."""

    org_id: int
    org_name: str
    role: Role
    email: str
    password: str = PASSWORD

    def org(self) -> Organization:
        """The organisation, loaded in the test's session (end that transaction before clicking)."""
        org = db.session.get(Organization, self.org_id)
        assert org is not None
        return org


@pytest.fixture
def portal_user(ctx: Flask) -> Any:
    """Create an organisation of a role with one user who can log in (committed)."""
    counter = iter(range(1, 1000))

    def _make(role: Role | str, *, name: str | None = None, currency: str = "USD") -> PortalUser:
        role = Role(role)
        n = next(counter)
        org = create_organization(
            db.session, name or f"{role.value.title()} Co {n}", role, currency=currency
        )
        email = f"{role.value}{n}@example.com"
        create_user(db.session, org, email, PASSWORD)
        db.session.commit()
        user = PortalUser(org.id, org.name, role, email)
        db.session.rollback()  # leave no transaction open in the test thread
        return user

    return _make


def log_in(page: Any, user: PortalUser) -> None:
    """Log in through the form and land on the role's dashboard."""
    page.goto("/login")
    page.fill("#email", user.email)
    page.fill("#password", user.password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(rf"/{user.role.value}/"))
