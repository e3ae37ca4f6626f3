"""The buyer's dashboard: balances, campaigns buying, and the latest purchases."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import func, select

from billing.statements import balances
from exchange.models import Campaign, CampaignStatus, Role
from exchange.purchases import list_purchases
from extensions import db
from web.buyer import bp
from web.guard import current_org, portal


@bp.get("/")
@portal(Role.BUYER)
def dashboard() -> str:
    org = current_org()
    counts = dict(
        db.session.execute(
            select(Campaign.status, func.count(Campaign.id))
            .where(Campaign.buyer_id == org.id)
            .group_by(Campaign.status)
        ).all()
    )
    recent = list_purchases(db.session, org, limit=5)
    return render_template(
        "buyer/dashboard.html",
        balances=balances(db.session, org.id),
        active=counts.get(CampaignStatus.ACTIVE, 0),
        paused=counts.get(CampaignStatus.PAUSED, 0),
        recent=recent.items,
    )
