"""Returns and disputes: a buyer returns a bad lead (or disputes a CPA charge) with a reason;
an automatic re-check approves what it can prove, the publisher may answer, an admin rules on
the rest; an approval moves the money back exactly once through the ledger.

Rules kept here:
- a return is filed inside the return window (niche's, or the buyer's contract), for a sale
  not returned, without an open return and without a reported conversion, for a reason the
  niche accepts, and within the buyer's monthly return cap;
- one open return per sale (the unique `open_key`, so racing requests file one);
- a ruling locks the return row: a second ruling gets 409 and money moves once (the refund's
  idempotency key is `return:<id>`);
- every ruling, automatic or manual, is in the audit log with its grounds.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing.charges import refund_charge, refund_parts
from billing.models import EntryKind, JournalEntry
from database import utcnow
from exchange.audit import record_event
from exchange.campaign_rules import geography_targets, place_targets
from exchange.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from exchange.models import (
    RETURN_REASONS,
    BuyerTerms,
    Campaign,
    Conversion,
    Lead,
    LeadReturn,
    Niche,
    Organization,
    ReturnStage,
    ReturnStatus,
    Role,
    Sale,
    SaleStatus,
)
from exchange.pagination import Page, paginate
from exchange.regions import lookup_us_zip
from exchange.source_quality import refresh_source
from quality.email import check_email
from quality.findings import Severity
from quality.phone import check_phone

PROVEN, DISPROVEN, INCONCLUSIVE = "proven", "disproven", "inconclusive"


def accepted_reasons(niche: Niche) -> tuple[str, ...]:
    """The reasons this niche accepts, in the fixed list's order."""
    allowed = set(niche.return_reasons or RETURN_REASONS)
    return tuple(r for r in RETURN_REASONS if r in allowed)


def return_terms(session: Session, niche: Niche, buyer_id: int) -> tuple[int, int]:
    """(window in hours, monthly cap in percent) for this buyer in this niche."""
    terms = session.get(BuyerTerms, buyer_id)
    window = niche.return_window_hours
    cap = niche.return_cap_percent
    if terms is not None:
        window = terms.return_window_hours if terms.return_window_hours is not None else window
        cap = terms.return_cap_percent if terms.return_cap_percent is not None else cap
    return window, cap


def _month_start(now: dt.datetime) -> dt.datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def cap_usage(session: Session, buyer_id: int, now: dt.datetime) -> tuple[int, int]:
    """(returns filed this month that count, sales this month) for the buyer."""
    since = _month_start(now)
    returns = session.scalar(
        select(func.count(LeadReturn.id)).where(
            LeadReturn.buyer_id == buyer_id,
            LeadReturn.kind == "return",
            LeadReturn.status != ReturnStatus.REJECTED,
            LeadReturn.created_at >= since,
        )
    )
    sales = session.scalar(
        select(func.count(Sale.id)).where(Sale.buyer_id == buyer_id, Sale.created_at >= since)
    )
    return int(returns or 0), int(sales or 0)


def _check_reason(niche: Niche, data: dict[str, Any]) -> None:
    reason = data["reason"]
    allowed = accepted_reasons(niche)
    if reason not in allowed:
        raise InvalidInput(
            f"The {niche.slug} niche does not accept returns for {reason!r}.",
            fields={"reason": [f"One of: {', '.join(allowed)}."]},
        )
    if reason == "other" and not (data.get("note") or "").strip():
        raise InvalidInput(
            "A return for reason 'other' needs a note.", fields={"note": ["Say what is wrong."]}
        )


def file_return(
    session: Session,
    buyer: Organization,
    sale_id: int,
    data: dict[str, Any],
    *,
    now: dt.datetime | None = None,
) -> LeadReturn:
    """File a return of one of the buyer's purchases; ruled at once when the re-check proves
    the reason. Another buyer's sale is 404."""
    now = now or utcnow()
    sale = _locked_sale(session, buyer, sale_id)
    lead = session.get(Lead, sale.lead_id)
    assert lead is not None
    niche = lead.niche
    _check_reason(niche, data)
    window, cap = return_terms(session, niche, buyer.id)
    closes = sale.created_at + dt.timedelta(hours=window)
    if now > closes:
        raise Conflict(
            f"The return window of {window} hours closed at {closes.isoformat()}.",
            code="return_window_closed",
        )
    if sale.status == SaleStatus.RETURNED:
        raise Conflict(f"Sale {sale.id} was already returned.", code="already_returned")
    # Before the cap, which the open return itself counts towards (the unique open_key
    # still settles racing filings).
    if session.scalar(select(LeadReturn.id).where(LeadReturn.open_key == f"sale:{sale.id}")):
        raise Conflict(f"Sale {sale.id} already has an open return.", code="return_pending")
    if session.scalar(select(Conversion.id).where(Conversion.sale_id == sale.id).limit(1)):
        raise Conflict(
            f"Sale {sale.id} has a reported conversion and cannot be returned.",
            code="sale_converted",
        )
    # The cap spans the buyer's sales: its filings take turns on its row (NO KEY UPDATE, so
    # rows referencing the buyer can still be written), else racing filings all pass it.
    session.execute(
        select(Organization.id).where(Organization.id == buyer.id).with_for_update(key_share=True)
    )
    returns, sales = cap_usage(session, buyer.id, now)
    allowed = math.ceil(sales * cap / 100)
    if returns >= allowed:
        raise Conflict(
            f"Return cap reached: {returns} of {sales} sales this month are returned or pending "
            f"(cap {cap}%).",
            code="return_cap_reached",
        )
    charge = session.get(JournalEntry, sale.entry_id) if sale.entry_id else None
    ret = _open_return(
        session,
        kind="return",
        open_key=f"sale:{sale.id}",
        sale=sale,
        lead=lead,
        conversion=None,
        amount=sale.price if charge else 0,
        data=data,
        now=now,
    )
    _first_ruling(session, ret, sale, lead, buyer, now)
    return ret


def file_dispute(
    session: Session,
    buyer: Organization,
    conversion_id: int,
    data: dict[str, Any],
    *,
    now: dt.datetime | None = None,
) -> LeadReturn:
    """Dispute a CPA charge (a conversion the buyer was charged for), within the niche's
    return window from the charge; ruled by an admin after the publisher's answer."""
    now = now or utcnow()
    conversion = session.get(Conversion, conversion_id)
    if conversion is None or conversion.buyer_id != buyer.id:
        raise NotFound(f"No conversion {conversion_id}.")
    sale = _locked_sale(session, buyer, conversion.sale_id)
    lead = session.get(Lead, sale.lead_id)
    assert lead is not None
    _check_reason(lead.niche, data)
    if not conversion.entry_id or conversion.amount <= 0:
        raise Conflict(
            f"Conversion {conversion.id} charged nothing: there is nothing to dispute.",
            code="nothing_charged",
        )
    window, _cap = return_terms(session, lead.niche, buyer.id)
    closes = conversion.created_at + dt.timedelta(hours=window)
    if now > closes:
        raise Conflict(
            f"The dispute window of {window} hours closed at {closes.isoformat()}.",
            code="return_window_closed",
        )
    ret = _open_return(
        session,
        kind="dispute",
        open_key=f"conversion:{conversion.id}",
        sale=sale,
        lead=lead,
        conversion=conversion,
        amount=conversion.amount,
        data=data,
        now=now,
    )
    ret.finding = {"result": INCONCLUSIVE, "detail": "A charge for an action needs a person."}
    _await_publisher(session, ret, lead.niche, now)
    return ret


def _locked_sale(session: Session, buyer: Organization, sale_id: int) -> Sale:
    # The sale's row serialises filings, rulings and conversions of one sale.
    sale = session.scalar(
        select(Sale)
        .where(Sale.id == sale_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if sale is None or sale.buyer_id != buyer.id:
        raise NotFound(f"No purchase {sale_id}.")
    return sale


def _open_return(
    session: Session,
    *,
    kind: str,
    open_key: str,
    sale: Sale,
    lead: Lead,
    conversion: Conversion | None,
    amount: int,
    data: dict[str, Any],
    now: dt.datetime,
) -> LeadReturn:
    ret = LeadReturn(
        kind=kind,
        sale_id=sale.id,
        conversion_id=conversion.id if conversion else None,
        lead_id=lead.id,
        buyer_id=sale.buyer_id,
        publisher_id=sale.publisher_id,
        niche_id=sale.niche_id,
        sub_id=lead.sub_id,
        reason=data["reason"],
        note=data.get("note"),
        evidence=data.get("evidence"),
        status=ReturnStatus.PENDING,
        open_key=open_key,
        amount=amount,
        currency=sale.currency,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(ret)
            session.flush()
    except IntegrityError:
        raise Conflict(
            f"{'Sale' if kind == 'return' else 'Conversion'} already has an open {kind}.",
            code="return_pending",
        ) from None
    record_event(
        session,
        f"{kind}.filed",
        organization=session.get(Organization, sale.buyer_id),
        target_type="return",
        target_id=ret.id,
        data={"sale_id": sale.id, "reason": ret.reason, "amount": amount},
    )
    return ret


def recheck(session: Session, sale: Sale, lead: Lead, reason: str) -> dict[str, str]:
    """Re-check a lead against a return reason: proven, disproven or inconclusive, with why."""
    if sale.pipeline_status in ("qualified", "converted"):
        return {
            "result": DISPROVEN,
            "detail": f"The buyer itself reported this lead {sale.pipeline_status}.",
        }
    if reason == "invalid_phone":
        bad = [f for f in check_phone(lead.phone, lead.country) if f.severity == Severity.FAIL]
        if bad:
            return {"result": PROVEN, "detail": bad[0].message}
    elif reason == "invalid_email":
        bad = [f for f in check_email(lead.email) if f.severity == Severity.FAIL]
        if bad:
            return {"result": PROVEN, "detail": bad[0].message}
    elif reason == "duplicate":
        earlier = _earlier_sale_of_same_person(session, sale, lead)
        if earlier is not None:
            return {
                "result": PROVEN,
                "detail": f"The same person was sold to this buyer before (sale {earlier}).",
            }
    elif reason == "outside_geography":
        outside = _outside_geography(session, sale, lead)
        if outside:
            return {"result": PROVEN, "detail": outside}
    return {"result": INCONCLUSIVE, "detail": "The re-check cannot prove or disprove this."}


def _earlier_sale_of_same_person(session: Session, sale: Sale, lead: Lead) -> int | None:
    same_person = []
    if lead.email:
        same_person.append(Lead.email == lead.email)
    if lead.phone:
        same_person.append(Lead.phone == lead.phone)
    if not same_person:
        return None
    return session.scalar(
        select(Sale.id)
        .join(Lead, Lead.id == Sale.lead_id)
        .where(
            Sale.buyer_id == sale.buyer_id,
            Sale.id < sale.id,
            Lead.niche_id == lead.niche_id,
            Lead.id != lead.id,
            or_(*same_person),
        )
        .order_by(Sale.id)
        .limit(1)
    )


def _outside_geography(session: Session, sale: Sale, lead: Lead) -> str | None:
    """Why the lead is outside the campaign's geography (by where its ZIP really is), or None."""
    campaign = session.get(Campaign, sale.campaign_id)
    if campaign is None:
        return None
    region = lead.region
    if lead.country == "US" and lead.postal_code:
        info = lookup_us_zip(lead.postal_code)
        if info is None:
            return f"The ZIP code {lead.postal_code} does not exist."
        region = info.region
    places = set(place_targets(lead.country, region, lead.postal_code))
    if places & set(geography_targets(campaign.geography)):
        return None
    return (
        f"The lead's ZIP {lead.postal_code or '-'} is in {region or lead.country}, outside "
        "the campaign's geography."
    )


def _first_ruling(
    session: Session, ret: LeadReturn, sale: Sale, lead: Lead, buyer: Organization, now: dt.datetime
) -> None:
    ret.finding = recheck(session, sale, lead, ret.reason)
    if ret.finding["result"] == PROVEN:
        _approve(session, ret, grounds=ret.finding["detail"], decided_by="automatic", now=now)
    elif ret.finding["result"] == DISPROVEN:
        ret.stage = ReturnStage.ADMIN
        _audit_both(session, ret, "return.sent_to_admin", {"finding": ret.finding}, actor=None)
    else:
        _await_publisher(session, ret, lead.niche, now)


def _await_publisher(session: Session, ret: LeadReturn, niche: Niche, now: dt.datetime) -> None:
    ret.stage = ReturnStage.PUBLISHER
    ret.respond_by = now + dt.timedelta(hours=niche.return_response_hours)
    record_event(
        session,
        f"{ret.kind}.awaiting_response",
        organization=session.get(Organization, ret.publisher_id),
        target_type="return",
        target_id=ret.id,
        data={"reason": ret.reason, "respond_by": ret.respond_by.isoformat()},
    )


def respond(
    session: Session,
    publisher: Organization,
    return_id: int,
    data: dict[str, Any],
    *,
    now: dt.datetime | None = None,
) -> LeadReturn:
    """The publisher's answer to a pending return, with evidence, before `respond_by`; the
    return then goes to an admin."""
    now = now or utcnow()
    ret = _locked_return(session, return_id)
    if ret.publisher_id != publisher.id:
        raise NotFound(f"No return {return_id}.")
    if ret.status != ReturnStatus.PENDING:
        raise Conflict(f"Return {ret.id} was already {ret.status.value}.", code="already_decided")
    if ret.responded_at is not None:
        raise Conflict(f"Return {ret.id} was already answered.", code="already_answered")
    if ret.respond_by is not None and now > ret.respond_by:
        raise Conflict(
            f"The time to answer closed at {ret.respond_by.isoformat()}.",
            code="response_window_closed",
        )
    ret.publisher_response = data["message"]
    ret.publisher_evidence = data.get("evidence")
    ret.responded_at = now
    ret.stage = ReturnStage.ADMIN
    _audit_both(session, ret, "return.answered", {"message": data["message"]}, actor=publisher)
    session.flush()
    return ret


def decide(
    session: Session,
    admin: Organization,
    return_id: int,
    decision: str,
    note: str,
    *,
    now: dt.datetime | None = None,
) -> LeadReturn:
    """An admin's ruling on a pending return: approve (money back) or reject (nothing moves).
    A second ruling is 409, however many arrive at once."""
    now = now or utcnow()
    if admin.role != Role.ADMIN:
        raise PermissionDenied("Only admins rule on returns.")
    if decision not in ("approve", "reject"):
        raise InvalidInput("Unknown decision.", fields={"decision": ["One of: approve, reject."]})
    ret = _locked_return(session, return_id)
    if ret.status != ReturnStatus.PENDING:
        raise Conflict(f"Return {ret.id} was already {ret.status.value}.", code="already_decided")
    by = f"admin:{admin.id}"
    if decision == "approve":
        _approve(session, ret, grounds=note, decided_by=by, now=now, actor=admin)
    else:
        ret.status = ReturnStatus.REJECTED
        ret.stage = ReturnStage.DECIDED
        ret.open_key = None
        ret.decided_by, ret.decision_note, ret.decided_at = by, note, now
        _audit_both(session, ret, f"{ret.kind}.rejected", {"grounds": note}, actor=admin)
        refresh_source(session, ret.publisher_id, ret.niche_id, ret.sub_id, now=now)
    session.flush()
    return ret


def _locked_return(session: Session, return_id: int) -> LeadReturn:
    ret = session.scalar(
        select(LeadReturn)
        .where(LeadReturn.id == return_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if ret is None:
        raise NotFound(f"No return {return_id}.")
    return ret


def _approve(
    session: Session,
    ret: LeadReturn,
    *,
    grounds: str,
    decided_by: str,
    now: dt.datetime,
    actor: Organization | None = None,
) -> None:
    """Money back in one reversing entry (buyer credited, publisher's earnings and the
    platform's margin taken back), the sale marked returned, the source's record updated."""
    sale = session.get(Sale, ret.sale_id)
    assert sale is not None
    entry_id = sale.entry_id
    if ret.kind == "dispute" and ret.conversion_id is not None:
        conversion = session.get(Conversion, ret.conversion_id)
        entry_id = conversion.entry_id if conversion else None
    publisher_back = 0
    if entry_id is not None:
        charge_entry = session.get(JournalEntry, entry_id)
        assert charge_entry is not None
        posted = refund_charge(
            session,
            key=f"return:{ret.id}",
            charge_entry=charge_entry,
            kind=EntryKind.RETURN if ret.kind == "return" else EntryKind.REFUND,
            reference=("return", ret.id),
            memo=f"{ret.kind} {ret.id}: {ret.reason}",
        )
        ret.entry_id = posted.entry.id
        ret.refunded, publisher_back = refund_parts(posted.entry)
    if ret.kind == "return":
        sale.status = SaleStatus.RETURNED
        lead = session.get(Lead, sale.lead_id)
        if lead is not None:
            lead.payout = max(0, (lead.payout or 0) - publisher_back)
    ret.status = ReturnStatus.APPROVED
    ret.stage = ReturnStage.DECIDED
    ret.decided_by, ret.decision_note, ret.decided_at = decided_by, grounds, now
    _audit_both(
        session,
        ret,
        f"{ret.kind}.approved",
        {
            "grounds": grounds,
            "decided_by": decided_by,
            "refunded": ret.refunded,
            "publisher_back": publisher_back,
        },
        actor=actor,
    )
    refresh_source(session, ret.publisher_id, ret.niche_id, ret.sub_id, now=now)


def _audit_both(
    session: Session,
    ret: LeadReturn,
    action: str,
    data: dict[str, Any],
    *,
    actor: Organization | None,
) -> None:
    """The event goes to the buyer's and the publisher's audit trails."""
    for org_id in (ret.buyer_id, ret.publisher_id):
        record_event(
            session,
            action,
            organization=session.get(Organization, org_id),
            actor=actor,
            target_type="return",
            target_id=ret.id,
            data={"sale_id": ret.sale_id, "reason": ret.reason, **data},
        )


def get_return(session: Session, org: Organization, return_id: int) -> LeadReturn:
    """A return its buyer, its publisher or an admin may see; anyone else gets 404."""
    ret = session.get(LeadReturn, return_id)
    if ret is None or (org.role != Role.ADMIN and org.id not in (ret.buyer_id, ret.publisher_id)):
        raise NotFound(f"No return {return_id}.")
    return ret


def list_returns(
    session: Session,
    org: Organization,
    *,
    limit: int,
    cursor: str | None = None,
    status: str | None = None,
    stage: str | None = None,
) -> Page[LeadReturn]:
    """A buyer's returns, or the returns against a publisher's leads, newest first."""
    column = LeadReturn.buyer_id if org.role == Role.BUYER else LeadReturn.publisher_id
    stmt = select(LeadReturn).where(column == org.id)
    if status:
        stmt = stmt.where(LeadReturn.status == status)
    if stage:
        stmt = stmt.where(LeadReturn.stage == stage)
    return paginate(session, stmt, LeadReturn.id, limit=limit, cursor=cursor)


def admin_queue(
    session: Session,
    *,
    limit: int,
    cursor: str | None = None,
    status: str | None = "pending",
    stage: str | None = None,
    reason: str | None = None,
    niche_id: int | None = None,
    buyer_id: int | None = None,
    publisher_id: int | None = None,
) -> Page[LeadReturn]:
    """Returns for admins, oldest first, filtered (pending by default)."""
    stmt = select(LeadReturn)
    for column, value in (
        (LeadReturn.status, status),
        (LeadReturn.stage, stage),
        (LeadReturn.reason, reason),
        (LeadReturn.niche_id, niche_id),
        (LeadReturn.buyer_id, buyer_id),
        (LeadReturn.publisher_id, publisher_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    return paginate(session, stmt, LeadReturn.id, limit=limit, cursor=cursor, oldest_first=True)


def set_buyer_terms(session: Session, buyer_id: int, data: dict[str, Any]) -> BuyerTerms:
    """Set a buyer's contract terms (None falls back to the niche's)."""
    buyer = session.get(Organization, buyer_id)
    if buyer is None or buyer.role != Role.BUYER:
        raise NotFound(f"No buyer {buyer_id}.")
    terms = session.get(BuyerTerms, buyer_id) or BuyerTerms(organization_id=buyer_id)
    session.add(terms)
    for key in ("return_window_hours", "return_cap_percent"):
        if key in data:
            setattr(terms, key, data[key])
    session.flush()
    return terms
