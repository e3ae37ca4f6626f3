"""The publisher's money: earnings per currency (pending, payable, paid), its payouts, and
where payouts go (a Stripe Connect account)."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from api.schemas.billing import PayoutDestinationIn
from billing.models import BillingProfile, Payout
from billing.payouts import set_payout_destination
from billing.statements import earnings
from exchange.errors import InvalidInput
from exchange.models import Role
from exchange.pagination import Page, paginate
from extensions import db
from web.forms import field_errors
from web.guard import current_org, portal
from web.publisher import bp


def _page(errors: dict[str, list[str]], destination: str | None, status: int = 200) -> Any:
    org = current_org()
    page: Page[Payout] = Page([], None)
    try:
        stmt = select(Payout).where(Payout.organization_id == org.id)
        page = paginate(db.session, stmt, Payout.id, limit=50, cursor=request.args.get("cursor"))
    except InvalidInput as exc:
        errors, status = {**errors, **field_errors(exc)}, 422
    profile = db.session.get(BillingProfile, org.id)
    return render_template(
        "publisher/payouts.html",
        earnings=earnings(db.session, org.id),
        page=page,
        errors=errors,
        saved_destination=profile.payout_destination if profile else None,
        destination=destination,
        minimum=current_app.config.get("PAYOUT_MINIMUM", 50),
    ), status


@bp.get("/payouts")
@portal(Role.PUBLISHER)
def payouts() -> Any:
    """Earnings per currency, the payouts made, and the payout destination."""
    profile = db.session.get(BillingProfile, current_org().id)
    return _page({}, profile.payout_destination if profile else "")


@bp.post("/payouts/destination")
@portal(Role.PUBLISHER)
def payout_destination() -> Any:
    """Set (or, empty, remove) the Stripe Connect account payouts go to."""
    typed = request.form.get("destination", "").strip()
    try:
        data = PayoutDestinationIn().load({"destination": typed or None})
    except ValidationError as exc:
        messages = exc.messages_dict.get("destination") or ["Not a valid account id."]
        errors = {"destination": [str(m) for m in messages]}  # type: ignore[union-attr]
        return _page({"_form": ["Check the account id."], **errors}, typed, 422)
    set_payout_destination(db.session, current_org().id, data["destination"])
    db.session.commit()
    if data["destination"]:
        flash(f"Payouts will go to {data['destination']}.", "success")
    else:
        flash("The payout destination is removed; payouts wait until you set one.", "info")
    return redirect(url_for("publisher_portal.payouts"))
