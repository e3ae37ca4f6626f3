"""What a buyer bought: its purchases with the full lead, their pipeline status, and the
actions it reports (conversions), which charge CPA campaigns once and teach the model."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from billing.charges import charge
from billing.models import EntryKind
from database import utcnow
from exchange.errors import Conflict, InvalidInput, NotFound
from exchange.models import (
    Campaign,
    Conversion,
    Lead,
    Organization,
    Outcome,
    Sale,
    SaleStatus,
)
from exchange.outcomes import record_outcome
from exchange.pagination import Page, paginate
from exchange.pricing import payout_on, payout_terms

PIPELINE = ("contacted", "qualified", "converted", "lost")


def get_purchase(session: Session, buyer: Organization, sale_id: int) -> Sale:
    """One of the buyer's purchases, with its lead; another buyer's is 404."""
    sale = session.scalar(select(Sale).where(Sale.id == sale_id).options(selectinload(Sale.lead)))
    if sale is None or sale.buyer_id != buyer.id:
        raise NotFound(f"No purchase {sale_id}.")
    return sale


def list_purchases(
    session: Session,
    buyer: Organization,
    *,
    limit: int,
    cursor: str | None = None,
    pipeline_status: str | None = None,
) -> Page[Sale]:
    """The buyer's purchases, newest first, each with its full lead (two queries a page)."""
    stmt = select(Sale).where(Sale.buyer_id == buyer.id).options(selectinload(Sale.lead))
    if pipeline_status:
        stmt = stmt.where(Sale.pipeline_status == pipeline_status)
    return paginate(session, stmt, Sale.id, limit=limit, cursor=cursor)


def update_pipeline(
    session: Session, buyer: Organization, sale_id: int, status: str, lost_reason: str | None
) -> Sale:
    """Move a purchase along the buyer's pipeline; each step is also an outcome the quality
    model learns from."""
    if status not in PIPELINE:
        raise InvalidInput("Unknown status.", fields={"status": [f"One of {', '.join(PIPELINE)}."]})
    if lost_reason and status != "lost":
        raise InvalidInput(
            "A lost_reason goes with status lost.", fields={"lost_reason": ["Only when lost."]}
        )
    sale = get_purchase(session, buyer, sale_id)
    sale.pipeline_status = status
    sale.lost_reason = lost_reason if status == "lost" else None
    record_outcome(session, sale.lead, Outcome(status), buyer=buyer, reason=lost_reason)
    session.flush()
    return sale


def report_conversion(
    session: Session, buyer: Organization, data: dict[str, Any], *, now: dt.datetime | None = None
) -> tuple[Conversion, bool]:
    """Record an action on a purchased lead, once per `transaction_id`: (conversion, created).

    A CPA campaign paying for the action charges its amount; the publisher earns its share.
    """
    now = now or utcnow()
    existing = session.scalar(
        select(Conversion).where(
            Conversion.buyer_id == buyer.id, Conversion.transaction_id == data["transaction_id"]
        )
    )
    if existing is not None:
        return _same(existing, data), False
    sale = _sale_for(session, buyer, data)
    if sale.status == SaleStatus.RETURNED:
        raise Conflict(
            f"Sale {sale.id} was returned: there is no conversion to report.",
            code="sale_returned",
        )
    campaign = session.get(Campaign, sale.campaign_id)
    assert campaign is not None
    amount = 0
    if campaign.pricing.get("model") == "cpa":
        amount = int(campaign.pricing.get("actions", {}).get(data["action"], 0))
    conversion = Conversion(
        buyer_id=buyer.id,
        sale_id=sale.id,
        action=data["action"],
        transaction_id=data["transaction_id"],
        value=data.get("value"),
        amount=amount,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(conversion)
            session.flush()
    except IntegrityError:
        # A concurrent report with the same transaction id won: answer with its row.
        return report_conversion(session, buyer, data, now=now)
    if amount:
        lead = sale.lead
        conversion.publisher_amount = payout_on(
            amount, *payout_terms(session, lead.niche, lead.publisher_id)
        )
        posted = charge(
            session,
            key=f"conversion:{conversion.id}",
            kind=EntryKind.CONVERSION,
            buyer_id=buyer.id,
            currency=sale.currency,
            price=amount,
            publisher_id=sale.publisher_id,
            publisher_amount=conversion.publisher_amount,
            hold_until=now + dt.timedelta(hours=lead.niche.return_window_hours),
            reference=("conversion", conversion.id),
        )
        conversion.entry_id = posted.entry.id
    record_outcome(session, sale.lead, Outcome.CONVERTED, buyer=buyer, reason=data["action"])
    sale.pipeline_status = "converted"
    session.flush()
    return conversion, True


def _sale_for(session: Session, buyer: Organization, data: dict[str, Any]) -> Sale:
    if data.get("sale_id"):
        return get_purchase(session, buyer, data["sale_id"])
    sale = session.scalar(
        select(Sale)
        .where(Sale.lead_id == data["lead_id"], Sale.buyer_id == buyer.id)
        .options(selectinload(Sale.lead).selectinload(Lead.niche))
    )
    if sale is None:
        raise NotFound(f"You did not buy lead {data['lead_id']}.")
    return sale


def _same(existing: Conversion, data: dict[str, Any]) -> Conversion:
    if existing.action != data["action"]:
        raise Conflict(
            "This transaction_id was reported for another action.",
            code="transaction_id_reused",
            fields={"transaction_id": [f"Already used for {existing.action!r}."]},
        )
    return existing
