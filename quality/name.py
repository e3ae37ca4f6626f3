"""Name checks: empty, short, digits, keyboard mashes, repeated letters, test values, profanity."""

from __future__ import annotations

import re
import unicodedata

from quality.findings import Finding, fail, passed, warn

KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890")
TEST_VALUES = frozenset(
    [
        "test",
        "tester",
        "testing",
        "fake",
        "asdf",
        "qwerty",
        "none",
        "null",
        "na",
        "n/a",
        "unknown",
        "anonymous",
        "nobody",
        "sample",
        "demo",
        "foo",
        "bar",
        "baz",
        "xxx",
        "abc",
        "john",
        "doe",
        "jane",
        "doe",
        "firstname",
        "lastname",
        "name",
    ]
)
# A deliberately short list of unambiguous obscenities matched as whole words only: broad
# lists reject real surnames (Dick, Cummings, Hancock, Weiner).
PROFANITY = frozenset(
    [
        "fuck",
        "fucker",
        "fucking",
        "shit",
        "bullshit",
        "cunt",
        "asshole",
        "motherfucker",
        "bitch",
        "wanker",
        "twat",
    ]
)
REPEATED = re.compile(r"(.)\1\1")
WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*", re.UNICODE)


def _is_mash(token: str) -> bool:
    t = token.lower()
    if len(t) >= 4 and any(t in row or t in row[::-1] for row in KEYBOARD_ROWS):
        return True
    return len(t) >= 5 and not re.search(r"[aeiouyàáâãäåèéêëìíîïòóôõöùúûüý]", t) and t.isascii()


def _check_part(value: str, label: str) -> Finding | None:
    text = unicodedata.normalize("NFKC", value).strip()
    lower = text.lower()
    if not text:
        return None
    if any(ch.isdigit() for ch in text):
        return fail("name_digits", f"The {label} contains digits.")
    if lower in TEST_VALUES or lower in {"test test", "fake name"}:
        return fail("name_test_value", f"The {label} {text!r} is a placeholder, not a name.")
    words = WORD.findall(lower)
    if not words:
        return fail("name_not_letters", f"The {label} has no letters.")
    if any(w in PROFANITY for w in words):
        return fail("name_profanity", f"The {label} contains profanity.")
    if REPEATED.search(lower.replace(" ", "")) or len(set(lower.replace(" ", ""))) == 1:
        return fail("name_repeated", f"The {label} repeats one letter.")
    if any(_is_mash(w) for w in words):
        return fail("name_mash", f"The {label} {text!r} looks like keyboard mashing.")
    return None


def check_name(first: str | None, last: str | None) -> list[Finding]:
    """Findings for a person's name; a lead without any name fails."""
    first, last = (first or "").strip(), (last or "").strip()
    if not first and not last:
        return [fail("name_missing", "The lead has no name.")]
    findings = [f for f in (_check_part(first, "first name"), _check_part(last, "last name")) if f]
    if findings:
        return findings
    if not first or not last:
        return [warn("name_partial", "Only one part of the name was given.")]
    if len(first) + len(last) < 3:
        return [warn("name_short", "The name is very short.")]
    return [passed("name_ok", "The name looks like a person's name.")]
