"""Matching: which campaigns want a lead, and what each would pay.

One indexed query finds the active campaigns of the lead's niche that buy in one of the
lead's places (country, subdivision, postal code) and accept its score; the short list is
then checked in Python (schedule, temperature, age, field filters) and priced. The cost
depends on the campaigns that buy where the lead is, not on how many campaigns exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, lazyload

from database import utcnow
from exchange.campaign_rules import TEMPERATURES, filters_match, place_targets, schedule_open
from exchange.models import Campaign, CampaignStatus, CampaignTarget, Lead, PriceRule
from exchange.pricing import Place, compute_price, rule_for, settings_for


@dataclass(frozen=True)
class CampaignRules:
    """What matching reads of a campaign, kept per process and re-read whenever the row's
    `updated_at` moves (every change or pause bumps it), so it is never stale. `last_won_at`
    (which a win changes without touching `updated_at`) comes fresh from the candidate query."""

    id: int
    buyer_id: int
    currency: str
    exclusive: bool
    schedule: dict[str, Any] | None
    max_lead_age_hours: int | None
    min_temperature: str | None
    filters: list[Any]
    pricing: dict[str, Any]
    last_won_at: dt.datetime | None
    updated_at: dt.datetime


_rules_cache: dict[int, CampaignRules] = {}


def _rules_of(campaign: Campaign) -> CampaignRules:
    return CampaignRules(
        id=campaign.id,
        buyer_id=campaign.buyer_id,
        currency=campaign.currency,
        exclusive=campaign.exclusive,
        schedule=campaign.schedule,
        max_lead_age_hours=campaign.max_lead_age_hours,
        min_temperature=campaign.min_temperature,
        filters=campaign.filters,
        pricing=campaign.pricing,
        last_won_at=campaign.last_won_at,
        updated_at=campaign.updated_at,
    )


Version = tuple[int, dt.datetime, dt.datetime | None]  # (id, updated_at, last_won_at)


def campaign_rules(session: Session, versions: list[Version]) -> list[CampaignRules]:
    """The rules of the given campaigns: from the cache when current, else loaded in one
    query and cached; each with its current `last_won_at`."""
    stale = [
        cid
        for cid, at, _won in versions
        if (c := _rules_cache.get(cid)) is None or c.updated_at != at
    ]
    if stale:
        loaded = session.scalars(
            select(Campaign).where(Campaign.id.in_(stale)).options(lazyload(Campaign.niche))
        )
        for campaign in loaded:
            _rules_cache[campaign.id] = _rules_of(campaign)
    return [
        replace(rules, last_won_at=won)
        for cid, _at, won in versions
        if (rules := _rules_cache.get(cid)) is not None
    ]


@dataclass(frozen=True)
class Offer:
    """A campaign's price for a lead (CPL part; a CPA campaign may offer 0 now)."""

    campaign: CampaignRules
    price: int


def lead_place(lead: Lead) -> Place:
    return Place(lead.country, lead.region, lead.postal_code)


def candidate_ids(session: Session, lead: Lead) -> list[Version]:
    """(id, updated_at, last_won_at) of the active campaigns of the niche buying in one of
    the lead's places and accepting its score (indexed)."""
    places = [
        and_(CampaignTarget.kind == kind, CampaignTarget.value == value)
        for kind, value in place_targets(lead.country, lead.region, lead.postal_code)
    ]
    stmt = (
        select(CampaignTarget.campaign_id, Campaign.updated_at, Campaign.last_won_at)
        .join(Campaign, Campaign.id == CampaignTarget.campaign_id)
        .where(CampaignTarget.niche_id == lead.niche_id, or_(*places))
        .where(Campaign.status == CampaignStatus.ACTIVE)
        .where(or_(Campaign.min_score.is_(None), Campaign.min_score <= (lead.score or 0)))
        .distinct()
    )
    return [(cid, at, won) for cid, at, won in session.execute(stmt)]


def wants(campaign: CampaignRules, lead: Lead, now: dt.datetime) -> bool:
    """The campaign's rules that an index cannot check."""
    if not schedule_open(campaign.schedule, now):
        return False
    if campaign.max_lead_age_hours is not None and now - lead.created_at > dt.timedelta(
        hours=campaign.max_lead_age_hours
    ):
        return False
    if campaign.min_temperature:
        have = (lead.quality or {}).get("temperature")
        if have is None or TEMPERATURES.index(have) < TEMPERATURES.index(campaign.min_temperature):
            return False
    return filters_match(campaign.filters, lead.fields or {})


def bid(campaign: CampaignRules, book_price: int | None) -> int:
    """The campaign's price for the lead: fixed, or a percent of the price book, up to max."""
    pricing = campaign.pricing
    if pricing["model"] == "cpa":
        return int(pricing.get("cpl") or 0)
    spec = pricing["bid"]
    if spec["type"] == "fixed":
        price = int(spec["amount"])
    elif book_price:
        price = book_price * int(spec["percent"]) // 100
    else:
        return 0  # relative to a price book that has no price here
    return min(price, int(spec["max"])) if spec.get("max") else price


def offers(
    session: Session, lead: Lead, *, now: dt.datetime | None = None
) -> tuple[list[Offer], PriceRule | None]:
    """Every campaign that wants the lead with its price at or above the floor, best first."""
    now = now or utcnow()
    versions = candidate_ids(session, lead)
    if not versions:
        return [], None
    campaigns = campaign_rules(session, versions)
    rule = rule_for(session, lead.niche_id, lead_place(lead))
    settings = settings_for(session, lead.niche)
    age_days = max(0.0, (now - lead.created_at).total_seconds() / 86400)
    floor = rule.floor if rule else 0
    found = []
    for campaign in campaigns:
        if not wants(campaign, lead, now):
            continue
        book = (
            compute_price(
                rule.base_cpl,
                settings,
                score=lead.score,
                exclusive=campaign.exclusive,
                age_days=age_days,
            )
            if rule
            else None
        )
        price = bid(campaign, book)
        if campaign.pricing["model"] == "cpl" and (price <= 0 or price < floor):
            continue
        found.append(Offer(campaign, price))
    never = dt.datetime.min.replace(tzinfo=dt.UTC)
    found.sort(key=lambda o: (-o.price, o.campaign.last_won_at or never, o.campaign.id))
    return found, rule


def clear_rules_cache() -> None:
    """Forget cached campaign rules (tests that reuse ids after wiping the database)."""
    _rules_cache.clear()
