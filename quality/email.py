"""E-mail checks: syntax, disposable domains, role accounts, obvious test values."""

from __future__ import annotations

import re

from disposable_email_domains import blocklist
from email_validator import EmailNotValidError, validate_email

from quality.findings import Finding, fail, passed, warn

ROLE_ACCOUNTS = frozenset(
    [
        "admin",
        "info",
        "sales",
        "support",
        "contact",
        "office",
        "hello",
        "team",
        "billing",
        "marketing",
        "noreply",
        "no-reply",
        "webmaster",
        "postmaster",
        "abuse",
        "help",
        "enquiries",
        "inquiries",
        "mail",
        "jobs",
        "hr",
    ]
)
TEST_LOCALS = frozenset(
    [
        "test",
        "testing",
        "tester",
        "asdf",
        "qwerty",
        "fake",
        "example",
        "sample",
        "demo",
        "none",
        "null",
    ]
)
TEST_DOMAINS = frozenset(
    [
        "test.com",
        "example.com",
        "example.org",
        "example.net",
        "email.com",
        "domain.com",
        "fake.com",
        "none.com",
        "asdf.com",
        "test.test",
    ]
)
MASH = re.compile(r"^(asdf|qwer|zxcv|hjkl|sdfg|aaaa|xxxx|abc123|123)")


def check_email(email: str | None) -> list[Finding]:
    """Findings for an e-mail address (no DNS look-up: that needs the network)."""
    if not email or not email.strip():
        return [warn("email_missing", "No e-mail address was given.")]
    try:
        normalised = validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        return [fail("email_invalid", f"The e-mail address is not valid: {exc}")]
    local, _, domain = normalised.rpartition("@")
    labels = domain.split(".")
    if any(".".join(labels[i:]) in blocklist for i in range(len(labels) - 1)):
        return [fail("email_disposable", f"{domain} is a disposable e-mail provider.")]
    base_local = local.split("+", 1)[0]
    if base_local in TEST_LOCALS or domain in TEST_DOMAINS or MASH.match(base_local):
        return [fail("email_test_value", f"{normalised} looks like a test or made-up address.")]
    if base_local in ROLE_ACCOUNTS:
        return [warn("email_role_account", f"{local}@ is a shared role account, not a person.")]
    return [passed("email_ok", "The e-mail address is well-formed.")]
