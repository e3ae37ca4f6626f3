"""What `assess` reads: the lead as plain data, the niche rules, database look-ups as callables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LeadFacts:
    """A lead as the quality module sees it (already normalised by the exchange)."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    country: str | None = None
    region: str | None = None
    postal_code: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    source: str | None = None
    sub_id: str | None = None
    consent_text: str | None = None
    consent_url: str | None = None
    consent_captured_at: dt.datetime | None = None
    form_seconds: float | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    # Findings from normalisation (unknown ZIP, ZIP outside the state...), as dicts.
    intake_findings: list[dict[str, Any]] = field(default_factory=list)
    received_at: dt.datetime | None = None
    publisher: str | None = None


@dataclass
class FieldSpec:
    name: str
    type: str


@dataclass
class NicheRules:
    slug: str = "generic"
    accept_score: int = 60
    review_score: int = 40
    consent_required: bool = False
    consent_max_age_days: int = 30
    duplicate_window_days: int = 30
    fields: list[FieldSpec] = field(default_factory=list)
    # Penalty per reason code, overriding the defaults of quality/score.py.
    weights: dict[str, float] = field(default_factory=dict)
    warm_probability: float = 0.2
    hot_probability: float = 0.5


@dataclass(frozen=True)
class SourceHistory:
    """A lead's source (publisher and sub-id) in its niche over the last 30 days: sales,
    the share returned, and whether the publisher is flagged for review."""

    sales: int
    return_rate: float
    flagged: bool


def _no_history() -> SourceHistory | None:
    return None


def _none(*_: Any) -> int:
    return 0


@dataclass
class Lookups:
    """Database questions, answered by indexed queries the caller provides.

    `duplicates(email, phone, since)` counts earlier leads of the niche with that e-mail or
    phone; `recent(kind, value, since)` counts leads with the same `ip`, `user_agent` or
    `sub_id` (of the same publisher); `rotations(first, last, postal_code, since)` counts
    leads of the same person under other contact details; `source()` is the record of the
    lead's publisher and sub-id (returns, a review flag).
    """

    duplicates: Callable[[str | None, str | None, dt.datetime], int] = _none
    recent: Callable[[str, str, dt.datetime], int] = _none
    rotations: Callable[[str, str, str, dt.datetime], int] = _none
    source: Callable[[], SourceHistory | None] = _no_history
