"""Buyer campaigns: /api/v1/campaigns."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask.views import MethodView

from api.auth import current_org, key_required
from api.blueprint import Blueprint
from api.schemas.campaigns import (
    CampaignIn,
    CampaignOut,
    CampaignPage,
    CampaignPatch,
    CampaignQuery,
)
from exchange.campaigns import (
    create_campaign,
    get_campaign,
    list_campaigns,
    set_status,
    update_campaign,
)
from exchange.models import CampaignStatus, Role
from extensions import db

blp = Blueprint(
    "campaigns",
    __name__,
    url_prefix="/api/v1/campaigns",
    description="Buyer campaigns: what you buy, where, when, at what price, how much.",
)


@blp.route("")
class Campaigns(MethodView):
    @key_required(Role.BUYER)
    @blp.arguments(CampaignIn)
    @blp.response(201, CampaignOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a campaign

        Geography matches a lead by country, subdivision, postal code or radius (any one is
        enough). Filters apply to the niche's fields. Invalid combinations (a CPL campaign
        without a bid, a maximum below the bid, a webhook without a URL...) get 422 with the
        field named.
        """
        campaign = create_campaign(db.session, current_org(), data)
        db.session.commit()
        return (
            campaign,
            201,
            {"Location": url_for("campaigns.CampaignById", campaign_id=campaign.id)},
        )

    @key_required(Role.BUYER)
    @blp.arguments(CampaignQuery, location="query")
    @blp.response(200, CampaignPage)
    def get(self, query: dict[str, Any]) -> Any:
        """Your campaigns, newest first"""
        return list_campaigns(db.session, current_org(), **query)


@blp.route("/<int:campaign_id>")
class CampaignById(MethodView):
    @key_required(Role.BUYER)
    @blp.response(200, CampaignOut)
    def get(self, campaign_id: int) -> Any:
        """One of your campaigns"""
        return get_campaign(db.session, current_org(), campaign_id)

    @key_required(Role.BUYER)
    @blp.arguments(CampaignPatch(partial=True, exclude=("niche",)))
    @blp.response(200, CampaignOut)
    def patch(self, data: dict[str, Any], campaign_id: int) -> Any:
        """Change a campaign

        The keys sent replace the old values (send the whole `geography`, `pricing`...); the
        niche cannot change. The result is checked as a whole, like a new campaign.
        """
        campaign = update_campaign(db.session, current_org(), campaign_id, data)
        db.session.commit()
        return campaign


@blp.route("/<int:campaign_id>/pause")
class PauseCampaign(MethodView):
    @key_required(Role.BUYER)
    @blp.response(200, CampaignOut)
    def post(self, campaign_id: int) -> Any:
        """Pause a campaign (it buys nothing until resumed)"""
        campaign = set_status(db.session, current_org(), campaign_id, CampaignStatus.PAUSED)
        db.session.commit()
        return campaign


@blp.route("/<int:campaign_id>/resume")
class ResumeCampaign(MethodView):
    @key_required(Role.BUYER)
    @blp.response(200, CampaignOut)
    def post(self, campaign_id: int) -> Any:
        """Resume a paused campaign"""
        campaign = set_status(db.session, current_org(), campaign_id, CampaignStatus.ACTIVE)
        db.session.commit()
        return campaign
