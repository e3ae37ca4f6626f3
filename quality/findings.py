"""The unit every check returns: a finding with a reason code, a severity and a message."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from typing import Any


class Severity(enum.StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "severity": self.severity.value}


def passed(code: str, message: str) -> Finding:
    return Finding(code, Severity.PASS, message)


def warn(code: str, message: str) -> Finding:
    return Finding(code, Severity.WARN, message)


def fail(code: str, message: str) -> Finding:
    return Finding(code, Severity.FAIL, message)
