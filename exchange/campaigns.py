"""Buyer campaigns: create, read, change, pause and resume (the buyer's own only)."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from exchange.audit import record_event
from exchange.campaign_rules import (
    Problems,
    clean_caps,
    clean_delivery,
    clean_filters,
    clean_geography,
    clean_pricing,
    clean_schedule,
    geography_targets,
)
from exchange.errors import InvalidInput, NotFound
from exchange.models import Niche, Organization
from exchange.models.campaigns import Campaign, CampaignStatus, CampaignTarget
from exchange.niches import get_niche
from exchange.pagination import Page, paginate

RULE_KEYS = (
    "geography",
    "schedule",
    "min_score",
    "min_temperature",
    "max_lead_age_hours",
    "exclusive",
    "filters",
    "caps",
    "budget",
    "pricing",
    "delivery",
)


def _clean(niche: Niche, data: dict[str, Any]) -> dict[str, Any]:
    """The campaign's rules as stored, or InvalidInput naming every bad field."""
    problems = Problems()
    cleaned = {
        "geography": clean_geography(data["geography"], problems),
        "schedule": clean_schedule(data.get("schedule"), problems),
        "min_score": data.get("min_score"),
        "min_temperature": data.get("min_temperature"),
        "max_lead_age_hours": data.get("max_lead_age_hours"),
        "exclusive": bool(data.get("exclusive", False)),
        "filters": clean_filters(niche, data.get("filters") or [], problems),
        "caps": clean_caps(data.get("caps")),
        "budget": data.get("budget"),
        "pricing": clean_pricing(data["pricing"], problems),
        "delivery": clean_delivery(data["delivery"], problems),
    }
    problems.raise_if_any()
    return cleaned


def _write_targets(session: Session, campaign: Campaign) -> None:
    session.execute(delete(CampaignTarget).where(CampaignTarget.campaign_id == campaign.id))
    session.add_all(
        CampaignTarget(campaign_id=campaign.id, niche_id=campaign.niche_id, kind=k, value=v)
        for k, v in geography_targets(campaign.geography)
    )


def create_campaign(session: Session, buyer: Organization, data: dict[str, Any]) -> Campaign:
    """A new active campaign of the buyer in a niche, with its signing secret."""
    try:
        niche = get_niche(session, data["niche"])
    except NotFound:
        raise InvalidInput(
            f"No niche {data['niche']!r}.", fields={"niche": ["Unknown niche; see GET /niches."]}
        ) from None
    campaign = Campaign(
        buyer_id=buyer.id,
        niche_id=niche.id,
        name=data["name"],
        status=CampaignStatus.ACTIVE,
        currency=niche.currency,
        signing_secret="whsec_" + secrets.token_urlsafe(24),
        **_clean(niche, data),
    )
    session.add(campaign)
    session.flush()
    _write_targets(session, campaign)
    record_event(
        session,
        "campaign.created",
        organization=buyer,
        actor=buyer,
        target_type="campaign",
        target_id=campaign.id,
    )
    session.flush()
    return campaign


def get_campaign(session: Session, buyer: Organization, campaign_id: int) -> Campaign:
    """One of the buyer's campaigns; another buyer's is 404, as if it did not exist."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.buyer_id != buyer.id:
        raise NotFound(f"No campaign {campaign_id}.")
    return campaign


def update_campaign(
    session: Session, buyer: Organization, campaign_id: int, changes: dict[str, Any]
) -> Campaign:
    """Change a campaign: the given keys replace the old values; the niche stays."""
    campaign = get_campaign(session, buyer, campaign_id)
    current = {key: getattr(campaign, key) for key in RULE_KEYS}
    rules = {**current, **{k: v for k, v in changes.items() if k in RULE_KEYS}}
    cleaned = _clean(campaign.niche, rules)
    for key, value in cleaned.items():
        setattr(campaign, key, value)
    if "name" in changes:
        campaign.name = changes["name"]
    if "status" in changes:
        campaign.status = CampaignStatus(changes["status"])
    if "geography" in changes:
        _write_targets(session, campaign)
    record_event(
        session,
        "campaign.updated",
        organization=buyer,
        actor=buyer,
        target_type="campaign",
        target_id=campaign.id,
        data={"changed": sorted(changes)},
    )
    session.flush()
    return campaign


def set_status(
    session: Session, buyer: Organization, campaign_id: int, status: CampaignStatus
) -> Campaign:
    """Pause or resume a campaign."""
    return update_campaign(session, buyer, campaign_id, {"status": status.value})


def list_campaigns(
    session: Session,
    buyer: Organization,
    *,
    limit: int,
    cursor: str | None = None,
    status: str | None = None,
    niche: str | None = None,
) -> Page[Campaign]:
    """The buyer's campaigns, newest first, optionally by status or niche."""
    stmt = select(Campaign).where(Campaign.buyer_id == buyer.id)
    if status:
        stmt = stmt.where(Campaign.status == CampaignStatus(status))
    if niche:
        try:
            niche_id = get_niche(session, niche).id
        except NotFound:
            # A filter naming no niche is a mistake to report, as an unknown filter is.
            raise InvalidInput(
                f"No niche {niche!r}.", fields={"niche": ["No such niche."]}
            ) from None
        stmt = stmt.where(Campaign.niche_id == niche_id)
    return paginate(session, stmt, Campaign.id, limit=limit, cursor=cursor)
