"""What the buyer bought: purchases with the full lead and the pipeline editable in place, a
purchase's page with its return form, the returns list, and the purchases CSV."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from api.billing import csv_response
from database import utcnow
from errors import Conflict, InvalidInput
from exchange.models import Campaign, Lead, LeadReturn, Niche, Role, Sale
from exchange.pagination import Page
from exchange.purchases import PIPELINE, get_purchase, list_purchases, update_pipeline
from exchange.returns import accepted_reasons, file_return, list_returns, return_terms
from extensions import db
from web.buyer import bp
from web.forms import field_errors
from web.guard import current_org, portal

PIPELINE_FILTERS = ("new", *PIPELINE)
RETURN_STATES = ("pending", "approved", "rejected")
PURCHASE_COLUMNS = [
    "sale_id",
    "sold_at",
    "campaign",
    "niche",
    "price",
    "currency",
    "status",
    "pipeline_status",
    "lead_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "address",
    "city",
    "region",
    "postal_code",
    "country",
    "score",
]


def _page(fetch: Any, **kwargs: Any) -> Page[Any]:
    """A page of a list; a cursor someone edited into nonsense starts from the top."""
    try:
        return fetch(
            db.session, current_org(), limit=50, cursor=request.args.get("cursor"), **kwargs
        )
    except InvalidInput:
        return fetch(db.session, current_org(), limit=50, **kwargs)


def _names(model: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = db.session.execute(select(model.id, model.name).where(model.id.in_(ids)))
    return {row[0]: row[1] for row in rows}


def _back(default: str) -> str:
    target = request.form.get("next", "")
    return target if target.startswith("/buyer/") else default


@bp.get("/purchases")
@portal(Role.BUYER)
def purchases() -> str:
    """Purchased leads with their contact data, newest first, by pipeline status."""
    status = request.args.get("pipeline_status")
    status = status if status in PIPELINE_FILTERS else None
    page = _page(list_purchases, pipeline_status=status)
    sale_ids = [s.id for s in page.items]
    open_returns: dict[int, str] = {}
    if sale_ids:
        rows = db.session.execute(
            select(LeadReturn.sale_id, LeadReturn.status)
            .where(LeadReturn.sale_id.in_(sale_ids))
            .order_by(LeadReturn.id)
        )
        open_returns = {sid: st.value for sid, st in rows}
    return render_template(
        "buyer/purchases.html",
        page=page,
        status=status,
        filters=PIPELINE_FILTERS,
        pipeline=PIPELINE,
        campaigns=_names(Campaign, {s.campaign_id for s in page.items}),
        niches=_names(Niche, {s.niche_id for s in page.items}),
        returns=open_returns,
    )


@bp.post("/purchases/<int:sale_id>/pipeline")
@portal(Role.BUYER)
def set_pipeline(sale_id: int) -> Response | tuple[str, int]:
    """Move one purchase along the pipeline (the select and button on each row)."""
    status = request.form.get("status", "")
    lost_reason = (request.form.get("lost_reason") or "").strip()[:500] or None
    try:
        sale = update_pipeline(db.session, current_org(), sale_id, status, lost_reason)
    except InvalidInput as exc:
        db.session.rollback()
        return _detail(sale_id, pipeline_errors=field_errors(exc), status=422)
    db.session.commit()
    flash(f"Purchase #{sale.id} is now {status}.", "success")
    return redirect(_back(url_for("buyer_portal.purchases")))


def _detail(
    sale_id: int,
    *,
    errors: dict[str, list[str]] | None = None,
    pipeline_errors: dict[str, list[str]] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    org = current_org()
    sale = get_purchase(db.session, org, sale_id)
    lead: Lead = sale.lead
    niche = db.session.get(Niche, sale.niche_id)
    assert niche is not None
    window, _ = return_terms(db.session, niche, org.id)
    returns = db.session.scalars(
        select(LeadReturn).where(LeadReturn.sale_id == sale.id).order_by(LeadReturn.id.desc())
    ).all()
    html = render_template(
        "buyer/purchase.html",
        sale=sale,
        lead=lead,
        niche=niche,
        campaign_name=_names(Campaign, {sale.campaign_id}).get(sale.campaign_id, ""),
        reasons=accepted_reasons(niche),
        window_closes=sale.created_at + dt.timedelta(hours=window),
        now=utcnow(),
        returns=returns,
        pipeline=PIPELINE,
        errors=errors or {},
        pipeline_errors=pipeline_errors or {},
        values=values or {},
    )
    return html, status


@bp.get("/purchases/<int:sale_id>")
@portal(Role.BUYER)
def purchase(sale_id: int) -> tuple[str, int]:
    """One purchase: the full lead, its pipeline, its returns and the form to file one."""
    return _detail(sale_id)


@bp.post("/purchases/<int:sale_id>/return")
@portal(Role.BUYER)
def return_purchase(sale_id: int) -> Response | tuple[str, int]:
    """File a return; refusals (window closed, cap reached...) are shown on the page."""
    values = {
        "reason": request.form.get("reason", ""),
        "note": (request.form.get("note") or "").strip(),
    }
    data = {"reason": values["reason"], "note": values["note"][:2000] or None}
    try:
        filed = file_return(db.session, current_org(), sale_id, data)
    except (InvalidInput, Conflict) as exc:
        db.session.rollback()
        code = 409 if isinstance(exc, Conflict) else 422
        return _detail(sale_id, errors=field_errors(exc), values=values, status=code)
    db.session.commit()
    flash(f"Return #{filed.id} filed: {filed.status.value}.", "success")
    return redirect(url_for("buyer_portal.purchase", sale_id=sale_id))


@bp.get("/returns")
@portal(Role.BUYER)
def returns() -> str:
    """The buyer's returns with their state and ruling."""
    status = request.args.get("status")
    status = status if status in RETURN_STATES else None
    page = _page(list_returns, status=status)
    leads = {}
    lead_ids = {r.lead_id for r in page.items}
    if lead_ids:
        rows = db.session.execute(
            select(Lead.id, Lead.first_name, Lead.last_name).where(Lead.id.in_(lead_ids))
        )
        leads = {row[0]: f"{row[1]} {row[2]}".strip() for row in rows}
    return render_template(
        "buyer/returns.html", page=page, status=status, states=RETURN_STATES, leads=leads
    )


def _purchase_rows(org_id: int) -> Iterator[dict[str, Any]]:
    stmt = (
        select(Sale, Lead, Campaign.name, Niche.slug)
        .join(Lead, Lead.id == Sale.lead_id)
        .join(Campaign, Campaign.id == Sale.campaign_id)
        .join(Niche, Niche.id == Sale.niche_id)
        .where(Sale.buyer_id == org_id)
        .order_by(Sale.id)
    )
    for sale, lead, campaign, niche in db.session.execute(stmt).yield_per(500):
        yield {
            "sale_id": sale.id,
            "sold_at": sale.created_at.isoformat(),
            "campaign": campaign,
            "niche": niche,
            "price": sale.price,
            "currency": sale.currency,
            "status": sale.status.value,
            "pipeline_status": sale.pipeline_status,
            **{c: getattr(lead, c) for c in PURCHASE_COLUMNS[9:]},
            "lead_id": lead.id,
        }


@bp.get("/purchases.csv")
@portal(Role.BUYER)
def purchases_csv() -> Response:
    """Every purchase with its lead's contact data, oldest first."""
    return csv_response(_purchase_rows(current_org().id), PURCHASE_COLUMNS, "purchases.csv")
