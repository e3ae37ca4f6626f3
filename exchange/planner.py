"""The campaign planner: how many leads, and how much money, for N customers.

leads needed = ceil(customers / conversion rate); budget = leads x cost per lead. The rate is
the buyer's own, measured from its sales with a known outcome (converted or lost) in the niche
and region when there are enough of them, or entered; the cost per lead comes from the price
book or is entered. Exact arithmetic throughout: Decimal and integers, never floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from billing.currency import exponent, max_amount
from exchange.errors import InvalidInput
from exchange.models import Lead, Niche, Organization, Sale, SaleStatus
from exchange.pricing import place_of, quote
from exchange.regions import normalise_subdivision

MIN_OUTCOMES = 30  # fewer sales with a known outcome say too little: the rate must be entered
MAX_CUSTOMERS = 1_000_000
# The price book is quoted for a lead of this score: the middle quality tier by default, where
# the base price applies unchanged.
TYPICAL_SCORE = 75
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Measured:
    """The buyer's record in a niche and region: sales with a known outcome, and converted."""

    known: int
    converted: int

    @property
    def rate(self) -> Fraction | None:
        """The share converted, exact; None below MIN_OUTCOMES known outcomes."""
        if self.known < MIN_OUTCOMES or not self.converted:
            return None
        return Fraction(self.converted, self.known)


@dataclass(frozen=True)
class Plan:
    customers: int
    conversion_rate: Fraction  # exact: 1/20 is 5%
    rate_source: str  # "entered" or "measured"
    measured: Measured
    cpl: int  # minor units of `currency`
    cpl_source: str  # "entered" or "price book"
    currency: str
    leads: int
    budget: int  # minor units of `currency`


def leads_and_budget(customers: int, rate: Decimal | Fraction, cpl: int) -> tuple[int, int]:
    """(ceil(customers / rate), leads x cpl), exact: the rate is a share in (0, 1]."""
    exact = Fraction(rate)
    leads = -(-customers * exact.denominator // exact.numerator)
    return leads, leads * cpl


def measure(session: Session, buyer: Organization, niche: Niche, region: str | None) -> Measured:
    """The buyer's sales in the niche (and region) whose outcome is known: one query."""
    known = Sale.pipeline_status.in_(("converted", "lost"))
    stmt = select(
        func.count(Sale.id), func.sum(case((Sale.pipeline_status == "converted", 1), else_=0))
    ).where(
        Sale.buyer_id == buyer.id,
        Sale.niche_id == niche.id,
        Sale.status != SaleStatus.RETURNED,
        known,
    )
    if region:
        stmt = stmt.join(Lead, Lead.id == Sale.lead_id).where(Lead.region == region)
    total, converted = session.execute(stmt).one()
    return Measured(int(total or 0), int(converted or 0))


def plan(session: Session, buyer: Organization, form: dict[str, Any]) -> Plan:
    """Plan for `form` (strings as typed: customers, niche slug, region, conversion_rate in
    percent, cpl in major units; the last three may be blank). InvalidInput names every bad
    field at once."""
    errors: dict[str, list[str]] = {}
    customers = _customers(form.get("customers"), errors)
    niche = _niche(session, form.get("niche"), errors)
    region = _region(form.get("region"), errors)
    entered_rate = _rate(form.get("conversion_rate"), errors)
    entered_cpl = _cpl(form.get("cpl"), niche.currency if niche else None, errors)
    if errors or niche is None or customers is None:
        raise InvalidInput("Check the highlighted fields.", fields=errors)
    measured = measure(session, buyer, niche, region)
    rate = Fraction(entered_rate) if entered_rate is not None else None
    rate_source = "entered"
    if rate is None:
        rate, rate_source = measured.rate, "measured"
    if rate is None:
        errors["conversion_rate"] = [
            f"Enter a rate: only {measured.known} of your sales here have a known outcome "
            f"(at least {MIN_OUTCOMES} are needed to measure it)."
            if measured.known < MIN_OUTCOMES
            else "Enter a rate: none of your sales here converted yet."
        ]
    cpl, cpl_source = entered_cpl, "entered"
    if cpl is None:
        cpl, cpl_source = _book_price(session, niche, region), "price book"
        if not cpl:
            errors["cpl"] = ["Enter a cost per lead: the price book has no price here."]
    if errors or rate is None or not cpl:
        raise InvalidInput("Some inputs are needed.", fields=errors)
    leads, budget = leads_and_budget(customers, rate, cpl)
    return Plan(
        customers, rate, rate_source, measured, cpl, cpl_source, niche.currency, leads, budget
    )


def _book_price(session: Session, niche: Niche, region: str | None) -> int:
    country = region.split("-")[0] if region else None
    return quote(session, niche, place_of(country, region), score=TYPICAL_SCORE).price


def _number(raw: Any) -> Decimal | None:
    text = str(raw or "").strip().replace(",", "").replace(" ", "").replace("_", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return value


def _customers(raw: Any, errors: dict[str, list[str]]) -> int | None:
    try:
        value = _number(raw)
    except ValueError:
        value = Decimal(-1)
    if value is None:
        errors["customers"] = ["How many customers do you want?"]
    elif value != value.to_integral_value() or not 1 <= value <= MAX_CUSTOMERS:
        errors["customers"] = [f"A whole number from 1 to {MAX_CUSTOMERS:,}."]
    else:
        return int(value)
    return None


def _niche(session: Session, raw: Any, errors: dict[str, list[str]]) -> Niche | None:
    slug = str(raw or "").strip()
    niche = session.scalar(select(Niche).where(Niche.slug == slug)) if slug else None
    if niche is None:
        errors["niche"] = ["Choose a niche." if not slug else f"No niche {slug!r}."]
    return niche


def _region(raw: Any, errors: dict[str, list[str]]) -> str | None:
    text = str(raw or "").strip()
    if not text:
        return None
    country = text.split("-")[0].upper() if "-" in text else "US"
    try:
        return normalise_subdivision(country, text)
    except (InvalidInput, LookupError, KeyError):
        errors["region"] = ["A state or region code such as US-CA (or leave it blank)."]
        return None


def _rate(raw: Any, errors: dict[str, list[str]]) -> Decimal | None:
    try:
        value = _number(str(raw or "").strip().rstrip("%"))
    except ValueError:
        errors["conversion_rate"] = ["A percentage, such as 5 or 2.5."]
        return None
    if value is None:
        return None
    if not 0 < value <= HUNDRED:
        errors["conversion_rate"] = ["Above 0% and at most 100%."]
        return None
    return value / HUNDRED


def _cpl(raw: Any, currency: str | None, errors: dict[str, list[str]]) -> int | None:
    try:
        value = _number(raw)
    except ValueError:
        errors["cpl"] = ["An amount, such as 25.00."]
        return None
    if value is None or currency is None:
        return None
    digits = exponent(currency)
    minor = value.scaleb(digits)
    if value <= 0:
        errors["cpl"] = ["More than zero."]
    elif minor != minor.to_integral_value():
        errors["cpl"] = [
            f"At most {digits} decimals in {currency}."
            if digits
            else f"{currency} has no decimals."
        ]
    elif minor > max_amount(currency):
        errors["cpl"] = ["Too large."]
    else:
        return int(minor)
    return None
