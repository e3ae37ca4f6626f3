"""Organisations: every one with its balances, and for a buyer its credit limit and return terms."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from billing.adjustments import grant_credit
from billing.currency import format_amount, normalise_currency
from errors import Conflict, InvalidInput
from exchange.audit import record_event
from exchange.models import BuyerTerms, Role
from exchange.organizations import get_organization, list_organizations
from exchange.returns import set_buyer_terms
from extensions import db
from web.admin import bp
from web.admin.inputs import Fields
from web.guard import current_org, portal

ROLES = ("", *(r.value for r in Role))


@bp.get("/organizations")
@portal(Role.ADMIN)
def organizations() -> tuple[str, int]:
    """Every organisation (by role, by name) with its buyer balances or publisher earnings."""
    query = Fields(request.args)
    role = query.choice("role", ROLES)
    name = query.text("q", max_len=200)
    page = None
    if not query.errors:
        page = list_organizations(
            db.session,
            limit=50,
            cursor=request.args.get("cursor") or None,
            role=Role(role) if role else None,
            name=name or None,
        )
    html = render_template(
        "admin/organizations.html",
        page=page,
        filters={"role": role, "q": name},
        errors=query.errors,
        role_options=[("", "All roles"), *((r, r) for r in ROLES if r)],
    )
    return html, 422 if query.errors else 200


def _detail(
    org_id: int, errors: dict[str, list[str]] | None = None, form: Any = None
) -> tuple[str, int]:
    row = get_organization(db.session, org_id)
    html = render_template(
        "admin/organization.html",
        row=row,
        org=row.org,
        terms=db.session.get(BuyerTerms, org_id),
        errors=errors or {},
        form=form or {},
    )
    return html, 422 if errors else 200


@bp.get("/organizations/<int:org_id>")
@portal(Role.ADMIN)
def organization(org_id: int) -> tuple[str, int]:
    """One organisation: its accounts, and a buyer's credit limit and return terms."""
    return _detail(org_id)


@bp.post("/organizations/<int:org_id>/credit")
@portal(Role.ADMIN)
def set_credit(org_id: int) -> Response | tuple[str, int]:
    """Grant or change a buyer's credit limit in a currency (with a note for the audit log)."""
    org = get_organization(db.session, org_id).org
    form = Fields(request.form)
    note = form.text("note", required=True)
    currency = form.text("currency", required=True, max_len=3).upper()
    limit = None
    if org.role != Role.BUYER:
        form.fail("_form", f"{org.name} is a {org.role.value}; only buyers have credit.")
    if currency and "currency" not in form.errors:
        try:
            currency = normalise_currency(currency)
        except InvalidInput as exc:
            form.errors.update(exc.fields)
        else:
            limit = form.money("credit_limit", currency)
    if form.errors or limit is None:
        return _detail(org_id, form.errors, request.form)
    try:
        account = grant_credit(db.session, org.id, currency, limit)
    except (InvalidInput, Conflict) as exc:
        db.session.rollback()
        errors = {"_form": [exc.message], **{k: list(v) for k, v in exc.fields.items()}}
        if "credit_limit" in errors and isinstance(exc, Conflict):
            errors["credit_limit"] = ["Lower than what the buyer already owes."]
        html, _ = _detail(org_id, errors, request.form)
        return html, 409 if isinstance(exc, Conflict) else 422
    record_event(
        db.session,
        "billing.credit_limit_set",
        organization=org,
        actor=current_org(),
        target_type="ledger_account",
        target_id=account.id,
        data={"currency": currency, "credit_limit": limit, "note": note},
    )
    name = org.name
    db.session.commit()
    flash(f"{name} may now go down to -{format_amount(limit, currency)}.", "success")
    return redirect(url_for("admin_portal.organization", org_id=org_id))


@bp.post("/organizations/<int:org_id>/terms")
@portal(Role.ADMIN)
def set_terms(org_id: int) -> Response | tuple[str, int]:
    """A buyer's contract: return window and monthly return cap (empty: the niche's)."""
    org = get_organization(db.session, org_id).org
    form = Fields(request.form)
    window = form.integer("return_window_hours", required=False, minimum=0, maximum=24 * 365)
    cap = form.integer("return_cap_percent", required=False, minimum=0, maximum=100)
    if org.role != Role.BUYER:
        form.fail("_form", f"{org.name} is a {org.role.value}; only buyers have return terms.")
    if form.errors:
        return _detail(org_id, form.errors, request.form)
    set_buyer_terms(db.session, org.id, {"return_window_hours": window, "return_cap_percent": cap})
    record_event(
        db.session,
        "returns.buyer_terms_set",
        organization=org,
        actor=current_org(),
        target_type="organization",
        target_id=org.id,
        data={"return_window_hours": window, "return_cap_percent": cap},
    )
    db.session.commit()
    flash("Return terms saved.", "success")
    return redirect(url_for("admin_portal.organization", org_id=org_id))
