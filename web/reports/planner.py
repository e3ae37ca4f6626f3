"""The campaign planner page: leads and budget for a number of customers (buyers, admins)."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select

from errors import InvalidInput
from exchange.models import Niche, Role
from exchange.planner import MIN_OUTCOMES, Plan, plan
from extensions import db
from web.forms import field_errors
from web.guard import current_org, portal
from web.reports import bp

FIELDS = ("customers", "niche", "region", "conversion_rate", "cpl")


@bp.get("/planner")
@portal(Role.BUYER, Role.ADMIN)
def planner() -> str | tuple[str, int]:
    """The form; once submitted (a GET: it changes nothing), the plan or the bad fields."""
    form = {name: request.args.get(name, "") for name in FIELDS}
    niches = db.session.execute(
        select(Niche.slug, Niche.name, Niche.currency).where(Niche.is_active).order_by(Niche.name)
    ).all()
    context = {
        "form": form,
        "niches": [("", "Choose a niche"), *((s, f"{n} ({c})") for s, n, c in niches)],
        "min_outcomes": MIN_OUTCOMES,
        "errors": {},
        "result": None,
    }
    if "customers" not in request.args:
        return render_template("reports/planner.html", **context)
    try:
        result: Plan = plan(db.session, current_org(), form)
    except InvalidInput as exc:
        context["errors"] = field_errors(exc)
        return render_template("reports/planner.html", **context), 422
    context["result"] = result
    return render_template("reports/planner.html", **context)
