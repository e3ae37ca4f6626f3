"""Selling a lead: the auction's winners, under row locks, caps and budgets re-checked, the
buyer charged through billing, the sale recorded and its delivery queued, all in the caller's
transaction. A buyer whose balance (read under its lock) cannot pay is skipped before anything
is written."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, lazyload
from sqlalchemy.orm.attributes import flag_modified

from billing.charges import charge
from billing.ledger import ensure_accounts, headroom, lock_accounts
from billing.models import AccountKind, EntryKind, LedgerAccount
from database import utcnow
from exchange.campaign_rules import CAP_PERIODS
from exchange.matching import Offer, offers
from exchange.models import (
    Campaign,
    CampaignStatus,
    Delivery,
    Lead,
    LeadStatus,
    Sale,
    SaleStatus,
)
from exchange.pricing import payout_on, payout_terms
from exchange.tally import note

EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def period_starts(campaign: Campaign, now: dt.datetime) -> dict[str, dt.datetime]:
    """When each cap period began, in the campaign's time zone (UTC without a schedule)."""
    tz = zoneinfo.ZoneInfo((campaign.schedule or {}).get("timezone", "UTC"))
    local = now.astimezone(tz)
    hour = local.replace(minute=0, second=0, microsecond=0)
    day = hour.replace(hour=0)
    return {
        "hour": hour,
        "day": day,
        "week": day - dt.timedelta(days=day.weekday()),
        "month": day.replace(day=1),
        "total": EPOCH,
    }


def usage(session: Session, campaign: Campaign, now: dt.datetime) -> dict[str, tuple[int, int]]:
    """(leads, spend) per cap period for the campaign's unreturned sales: one indexed query."""
    starts = period_starts(campaign, now)
    columns: list[Any] = []
    for period in CAP_PERIODS:
        after = Sale.created_at >= starts[period]
        columns.append(func.coalesce(func.sum(case((after, 1), else_=0)), 0))
        columns.append(func.coalesce(func.sum(case((after, Sale.price), else_=0)), 0))
    row = session.execute(
        select(*columns).where(Sale.campaign_id == campaign.id, Sale.status == SaleStatus.SOLD)
    ).one()
    return {p: (int(row[2 * i]), int(row[2 * i + 1])) for i, p in enumerate(CAP_PERIODS)}


def within_limits(session: Session, campaign: Campaign, price: int, now: dt.datetime) -> bool:
    """Whether one more sale at `price` stays within every cap and the budget."""
    caps = campaign.caps or {}
    if not caps.get("leads") and not caps.get("spend") and campaign.budget is None:
        return True  # nothing to count
    used = usage(session, campaign, now)
    for period, limit in (caps.get("leads") or {}).items():
        if used[period][0] + 1 > limit:
            return False
    for period, limit in (caps.get("spend") or {}).items():
        if used[period][1] + price > limit:
            return False
    return campaign.budget is None or used["total"][1] + price <= campaign.budget


def plans_for(lead: Lead, found: list[Offer]) -> list[list[Offer]]:
    """The exclusive plan (best exclusive offers, one will win) and the shared plan (best
    shared offers of distinct buyers), the one worth more first."""
    exclusive = [o for o in found if o.campaign.exclusive]
    shared: list[Offer] = []
    buyers: set[int] = set()
    for offer in found:
        if not offer.campaign.exclusive and offer.campaign.buyer_id not in buyers:
            shared.append(offer)
            buyers.add(offer.campaign.buyer_id)
    limit = max(1, lead.niche.max_buyers)
    top_shared = sum(o.price for o in shared[:limit])
    top_exclusive = exclusive[0].price if exclusive else 0
    plans = [exclusive, shared] if top_exclusive >= top_shared else [shared, exclusive]
    return [p for p in plans if p]


def _lock(
    session: Session, lead: Lead, plan: list[Offer], *, skip_locked: bool = False
) -> dict[int, tuple[Campaign, LedgerAccount]]:
    """Lock the plan's campaigns, then their buyers' balances, each in id order.

    With `skip_locked` (a second batch, taken while the first batch's locks are held) rows
    another sale holds are skipped instead of waited for, so no two sales ever wait on each
    other in opposite orders; an offer whose campaign or buyer account was skipped is left out.
    """
    ids = sorted(o.campaign.id for o in plan)
    locked = session.scalars(
        select(Campaign)
        .where(Campaign.id.in_(ids))
        .order_by(Campaign.id)
        .with_for_update(of=Campaign, skip_locked=skip_locked)
        .options(lazyload(Campaign.niche))
        .execution_options(populate_existing=True)
    ).all()
    buyers = sorted({c.buyer_id for c in locked})
    specs: list[tuple[int | None, AccountKind]] = [
        (None, AccountKind.PLATFORM_REVENUE),
        (lead.publisher_id, AccountKind.PUBLISHER_PENDING),
        (lead.publisher_id, AccountKind.PUBLISHER_PAYABLE),
        *((buyer_id, AccountKind.BUYER_BALANCE) for buyer_id in buyers),
    ]
    accounts = ensure_accounts(session, specs, lead.niche.currency)
    wallet_accounts = accounts[len(specs) - len(buyers) :]
    # Only the buyers' wallets are locked: the platform's and the publisher's accounts only
    # receive money here, so the ledger adds to them at commit (billing.ledger, DEFERRED_KINDS).
    got = lock_accounts(session, [a.id for a in wallet_accounts], skip_locked=skip_locked)
    wallets = {a.organization_id: got[a.id] for a in wallet_accounts if a.id in got}
    return {c.id: (c, wallets[c.buyer_id]) for c in locked if c.buyer_id in wallets}


def can_pay(wallet: LedgerAccount, price: int) -> bool:
    """Whether the buyer's balance (plus credit) covers `price`: read under the lock, so the
    charge that follows cannot fail for want of money."""
    room = headroom(wallet)
    return room is None or price <= room


def _sell_one(
    session: Session,
    lead: Lead,
    campaign: Campaign,
    price: int,
    publisher_amount: int,
    now: dt.datetime,
) -> Sale:
    """Record and charge one sale and queue its delivery (the caller checked the money)."""
    sale = Sale(
        lead_id=lead.id,
        campaign_id=campaign.id,
        buyer_id=campaign.buyer_id,
        publisher_id=lead.publisher_id,
        niche_id=lead.niche_id,
        currency=campaign.currency,
        price=price,
        publisher_amount=publisher_amount,
        exclusive=campaign.exclusive,
        created_at=now,
    )
    session.add(sale)
    note(session, "sale", lead.niche.slug if lead.niche else "")
    session.flush()
    if price > 0:
        posted = charge(
            session,
            key=f"sale:{sale.id}",
            kind=EntryKind.SALE,
            buyer_id=campaign.buyer_id,
            currency=campaign.currency,
            price=price,
            publisher_id=lead.publisher_id,
            publisher_amount=publisher_amount,
            hold_until=now + dt.timedelta(hours=lead.niche.return_window_hours),
            reference=("sale", sale.id),
            new_key=True,  # the sale was inserted just now: nothing to replay
        )
        sale.entry_id = posted.entry.id
    delivery = campaign.delivery or {"method": "portal"}
    session.add(
        Delivery(
            sale_id=sale.id,
            method=delivery["method"],
            target=delivery.get("url") or delivery.get("email"),
            next_attempt_at=now,
        )
    )
    campaign.last_won_at = now
    # A win is not a change of the campaign's rules: keep `updated_at` (the matching cache's
    # version) as it is; matching reads `last_won_at` fresh for its round robin.
    flag_modified(campaign, "updated_at")
    return sale


def sell_lead(
    session: Session,
    lead: Lead,
    *,
    now: dt.datetime | None = None,
    promised_payout: int | None = None,
) -> list[Sale]:
    """Sell an accepted, unsold lead to the best campaigns that want it; returns the sales.
    `promised_payout` (a ping's bid) fixes what the publisher earns in total."""
    if lead.status != LeadStatus.UNSOLD:
        return []
    now = now or utcnow()
    found, _rule = offers(session, lead, now=now)
    terms = payout_terms(session, lead.niche, lead.publisher_id)
    for plan in plans_for(lead, found):
        limit = 1 if plan[0].campaign.exclusive else max(1, lead.niche.max_buyers)
        # Lock what will most likely win, plus two spares; the rest only if those fall short.
        head, tail = plan[: limit + 2], plan[limit + 2 :]
        sales: list[Sale] = []
        for batch in (head, tail):
            if not batch or len(sales) >= limit:
                break
            campaigns = _lock(session, lead, batch, skip_locked=batch is tail)
            for offer in batch:
                if (held := campaigns.get(offer.campaign.id)) is None:
                    continue  # skipped: another sale holds it
                campaign, wallet = held
                if campaign.status != CampaignStatus.ACTIVE or not can_pay(wallet, offer.price):
                    continue
                if not within_limits(session, campaign, offer.price, now):
                    continue
                if promised_payout is not None:
                    # A ping's promise: the publisher earns what is left of it, never above
                    # the price.
                    left = promised_payout - sum(s.publisher_amount for s in sales)
                    earned = max(0, min(offer.price, left))
                else:
                    earned = payout_on(offer.price, *terms)
                sales.append(_sell_one(session, lead, campaign, offer.price, earned, now))
                if len(sales) >= limit:
                    break
        if sales:
            lead.status = LeadStatus.SOLD
            lead.sales_count = len(sales)
            lead.payout = sum(s.publisher_amount for s in sales)
            return sales
    return []
