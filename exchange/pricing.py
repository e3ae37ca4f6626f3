"""The price book: what a lead fetches by niche, place, quality, exclusivity and age, and what
its publisher earns. Admins keep the rules; quotes and the auction read them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from exchange.errors import Conflict, InvalidInput, NotFound
from exchange.models import Niche, NichePricing, PriceRule, PublisherPayout
from exchange.regions import (
    lookup_us_zip,
    normalise_subdivision,
    resolve_region,
    validate_country,
)

DEFAULT_TIERS = [
    {"min_score": 90, "multiplier": 1.25},
    {"min_score": 75, "multiplier": 1.0},
    {"min_score": 0, "multiplier": 0.8},
]
DEFAULT_AGED = [
    {"after_days": 1, "multiplier": 0.6},
    {"after_days": 7, "multiplier": 0.35},
    {"after_days": 30, "multiplier": 0.15},
]
SPECIFICITY = {"postal": 3, "subdivision": 2, "country": 1, "niche": 0}


@dataclass(frozen=True)
class Place:
    """A lead's place as the price book reads it."""

    country: str | None = None
    subdivision: str | None = None
    postal_code: str | None = None

    def keys(self) -> list[str]:
        """Every price-book place this lead is in, least specific first."""
        keys = [""]
        if self.country:
            keys.append(self.country)
        if self.subdivision:
            keys.append(self.subdivision)
        if self.country and self.postal_code:
            keys.append(f"{self.country}:{self.postal_code}")
        return keys


@dataclass(frozen=True)
class Quote:
    currency: str
    price: int  # what a buyer pays at the price book's price
    floor: int  # no sale below this
    payout: int  # what the publisher earns on a sale at `price`
    rule_place: str | None  # the rule used ("" = niche-wide), None when the niche has none


def place_of(
    country: str | None, region: str | None = None, postal_code: str | None = None
) -> Place:
    """Normalise a place for the price book as intake does; a US ZIP alone implies the US
    and its state."""
    if not country:
        if not (postal_code and lookup_us_zip(postal_code)):
            return Place(None, None, " ".join(postal_code.upper().split()) if postal_code else None)
        country = "US"
    place = resolve_region(country, region, postal_code, None)
    return Place(place.country, place.region, place.postal_code)


def parse_place(place: str) -> tuple[str, str]:
    """(kind, normalised place) for a rule's place string, or InvalidInput naming `place`."""
    try:
        if place == "":
            return "niche", ""
        if ":" in place:
            country, _, code = place.partition(":")
            country = validate_country(country)
            code = " ".join(code.upper().split())
            if not code or (country == "US" and lookup_us_zip(code) is None):
                raise InvalidInput("bad postal code")
            return "postal", f"{country}:{code}"
        if "-" in place:
            return "subdivision", normalise_subdivision(validate_country(place[:2]), place)
        return "country", validate_country(place)
    except InvalidInput:
        raise InvalidInput(
            f"{place!r} is not a place.",
            fields={"place": ['"" (whole niche), "US", "US-CA" or "US:94110".']},
        ) from None


def multiplier(steps: list[dict[str, Any]], key: str, value: float) -> float:
    """The multiplier of the last step whose threshold `value` reaches (1.0 if none)."""
    reached = [s for s in steps if value >= s[key]]
    return float(max(reached, key=lambda s: s[key])["multiplier"]) if reached else 1.0


def compute_price(
    base: int,
    settings: NichePricing,
    *,
    score: float | None,
    exclusive: bool,
    age_days: float = 0,
) -> int:
    """The base price moved by quality tier, exclusivity and age, rounded to a minor unit."""
    factor = multiplier(settings.quality_tiers, "min_score", score if score is not None else 0)
    if exclusive:
        factor *= settings.exclusive_multiplier
    factor *= multiplier(settings.aged_discounts, "after_days", age_days)
    return max(1, round(base * factor))


def payout_on(price: int, payout_type: str, value: int) -> int:
    """What a publisher earns on a sale at `price`: a share in percent or a fixed amount,
    never more than the price."""
    earned = price * value // 100 if payout_type == "share" else value
    return max(0, min(price, earned))


def settings_for(session: Session, niche: Niche) -> NichePricing:
    """The niche's price settings (defaults until an admin sets them; not stored then)."""
    settings = session.get(NichePricing, niche.id)
    if settings is None:
        settings = NichePricing(
            niche_id=niche.id,
            quality_tiers=DEFAULT_TIERS,
            exclusive_multiplier=1.5,
            aged_discounts=DEFAULT_AGED,
            payout_type="share",
            payout_value=70,
        )
    return settings


def rule_for(session: Session, niche_id: int, place: Place) -> PriceRule | None:
    """The most specific rule for the place: one indexed query over at most four places."""
    rules = session.scalars(
        select(PriceRule).where(PriceRule.niche_id == niche_id, PriceRule.place.in_(place.keys()))
    ).all()
    return max(rules, key=lambda r: SPECIFICITY[r.place_kind], default=None)


def payout_terms(session: Session, niche: Niche, publisher_id: int | None) -> tuple[str, int]:
    override = session.get(PublisherPayout, (niche.id, publisher_id)) if publisher_id else None
    if override is not None:
        return override.payout_type, override.payout_value
    settings = settings_for(session, niche)
    return settings.payout_type, settings.payout_value


def quote(
    session: Session,
    niche: Niche,
    place: Place,
    *,
    score: float | None = None,
    exclusive: bool = False,
    age_days: float = 0,
    publisher_id: int | None = None,
) -> Quote:
    """What a lead with these traits would fetch now, and what its publisher would earn."""
    rule = rule_for(session, niche.id, place)
    if rule is None:
        return Quote(niche.currency, 0, 0, 0, None)
    price = compute_price(
        rule.base_cpl,
        settings_for(session, niche),
        score=score,
        exclusive=exclusive,
        age_days=age_days,
    )
    payout = payout_on(price, *payout_terms(session, niche, publisher_id))
    return Quote(niche.currency, price, rule.floor, payout, rule.place)


def set_rule(
    session: Session, niche: Niche, place: str, *, base_cpl: int, floor: int = 0
) -> PriceRule:
    """Create or replace the rule for a niche and place."""
    kind, place = parse_place(place)
    if floor > base_cpl:
        raise InvalidInput(
            "The floor cannot be above the base price.", fields={"floor": ["At most base_cpl."]}
        )
    rule = session.scalar(
        select(PriceRule).where(PriceRule.niche_id == niche.id, PriceRule.place == place)
    )
    if rule is None:
        rule = PriceRule(niche_id=niche.id, place_kind=kind, place=place, base_cpl=base_cpl)
        try:
            with session.begin_nested():
                session.add(rule)
        except IntegrityError:
            raise Conflict(f"A rule for {place!r} was just created; retry.") from None
    rule.base_cpl, rule.floor = base_cpl, floor
    session.flush()
    return rule


def get_rule(session: Session, rule_id: int) -> PriceRule:
    rule = session.get(PriceRule, rule_id)
    if rule is None:
        raise NotFound(f"No price rule {rule_id}.")
    return rule


def list_rules(session: Session, niche: Niche) -> list[PriceRule]:
    """A niche's rules, least specific first."""
    rules = session.scalars(select(PriceRule).where(PriceRule.niche_id == niche.id)).all()
    return sorted(rules, key=lambda r: (SPECIFICITY[r.place_kind], r.place))


def set_settings(session: Session, niche: Niche, data: dict[str, Any]) -> NichePricing:
    """Replace the given price settings of a niche (tiers, exclusivity, aged curve, payout)."""
    settings = session.get(NichePricing, niche.id) or settings_for(session, niche)
    session.add(settings)
    for key in ("quality_tiers", "exclusive_multiplier", "aged_discounts"):
        if key in data:
            setattr(settings, key, data[key])
    if "payout" in data:
        settings.payout_type, settings.payout_value = _payout(data["payout"])
    session.flush()
    return settings


def set_publisher_payout(
    session: Session, niche: Niche, publisher_id: int, payout: dict[str, Any] | None
) -> PublisherPayout | None:
    """Give a publisher its own payout terms in a niche (None removes them)."""
    current = session.get(PublisherPayout, (niche.id, publisher_id))
    if payout is None:
        if current is not None:
            session.delete(current)
        session.flush()
        return None
    kind, value = _payout(payout)
    if current is None:
        current = PublisherPayout(niche_id=niche.id, publisher_id=publisher_id)
        session.add(current)
    current.payout_type, current.payout_value = kind, value
    session.flush()
    return current


def _payout(payout: dict[str, Any]) -> tuple[str, int]:
    if payout["type"] == "share":
        if not 0 <= payout.get("percent", -1) <= 100:
            raise InvalidInput("A share is 0-100 percent.", fields={"payout.percent": ["0-100."]})
        return "share", int(payout["percent"])
    if payout.get("amount") is None or payout["amount"] < 0:
        raise InvalidInput("A fixed payout needs an amount.", fields={"payout.amount": ["≥ 0."]})
    return "fixed", int(payout["amount"])
