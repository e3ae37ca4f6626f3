"""Why a place gets its price: the rule the price book picked and each multiplier it applied."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from exchange.models import Niche
from exchange.pricing import (
    Place,
    Quote,
    multiplier,
    payout_terms,
    quote,
    rule_for,
    settings_for,
)


@dataclass
class Explanation:
    """A quote with its derivation: the places searched, the rule used and each step."""

    quote: Quote
    place: Place
    searched: list[str]
    base_cpl: int | None = None
    steps: list[tuple[str, float]] = field(default_factory=list)
    payout_terms: tuple[str, int] | None = None  # ("share", percent) or ("fixed", amount)


def explain_quote(
    session: Session,
    niche: Niche,
    place: Place,
    *,
    score: float | None = None,
    exclusive: bool = False,
    age_days: float = 0,
) -> Explanation:
    """The niche's price for the place (as `pricing.quote` computes it) and how it was derived."""
    result = quote(session, niche, place, score=score, exclusive=exclusive, age_days=age_days)
    searched = [k or "(whole niche)" for k in place.keys()]  # noqa: SIM118 (a method)
    found = Explanation(result, place, searched)
    rule = rule_for(session, niche.id, place)
    if rule is None:
        return found
    settings = settings_for(session, niche)
    found.base_cpl = rule.base_cpl
    tier = multiplier(settings.quality_tiers, "min_score", score if score is not None else 0)
    found.steps.append((f"quality tier for score {score if score is not None else 0:g}", tier))
    if exclusive:
        found.steps.append(("exclusive", settings.exclusive_multiplier))
    found.steps.append(
        (f"age {age_days:g} days", multiplier(settings.aged_discounts, "after_days", age_days))
    )
    found.payout_terms = payout_terms(session, niche, None)
    return found
