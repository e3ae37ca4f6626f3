"""The price book: a niche's rules by place and its settings (quality tiers, exclusivity, aged
discounts, payout), and "what price does a region get" with how the price was derived."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response

from api.schemas.prices import SettingsIn
from errors import Conflict, InvalidInput
from exchange.audit import record_event
from exchange.models import Niche, Role
from exchange.niches import get_niche
from exchange.price_explain import Explanation, explain_quote
from exchange.pricing import get_rule, list_rules, place_of, set_rule, set_settings, settings_for
from extensions import db
from web.admin import bp
from web.admin.inputs import Fields, schema_errors
from web.guard import current_org, portal

MAX_STEPS = 20
RENAME = {
    "quality_tiers": "tier",
    "aged_discounts": "aged",
    "payout-percent": "payout_value",
    "payout-amount": "payout_value",
    "payout-type": "payout_type",
}


def _audit(action: str, niche: Niche, data: dict[str, Any]) -> None:
    record_event(
        db.session,
        action,
        organization=None,
        actor=current_org(),
        target_type="niche",
        target_id=niche.slug,
        data=data,
    )


def _quote(niche: Niche, errors: dict[str, list[str]]) -> Explanation | None:
    """The explained quote the query string asks for, or None (errors added by field)."""
    if "quote" not in request.args:
        return None
    query = Fields(request.args)
    country = query.text("country", max_len=2)
    region = query.text("region", max_len=64)
    postal_code = query.text("postal_code", max_len=16)
    score = query.decimal("score", required=False, minimum=0, maximum=100)
    age_days = query.decimal("age_days", required=False, minimum=0, maximum=3650) or 0
    if region and not country:
        query.fail("country", "Give the country of the region (e.g. US).")
    place = None
    if not query.errors:
        try:
            place = place_of(country or None, region or None, postal_code or None)
        except InvalidInput as exc:
            for name, messages in exc.fields.items():
                query.errors.setdefault(name, []).extend(messages)
    errors.update(query.errors)
    if place is None:
        return None
    exclusive = request.args.get("exclusive") == "on"
    return explain_quote(
        db.session, niche, place, score=score, exclusive=exclusive, age_days=age_days
    )


def _book(
    slug: str | None, errors: dict[str, list[str]] | None = None, form: Any = None
) -> tuple[str, int]:
    niches = db.session.execute(select(Niche.slug, Niche.name).order_by(Niche.name)).all()
    errors = dict(errors or {})
    niche = None
    if slug:
        niche = get_niche(db.session, slug)
    elif niches:
        niche = get_niche(db.session, niches[0][0])
    explanation = _quote(niche, errors) if niche else None
    html = render_template(
        "admin/prices.html",
        niche=niche,
        niche_options=list(niches),
        rules=list_rules(db.session, niche) if niche else [],
        settings=settings_for(db.session, niche) if niche else None,
        explanation=explanation,
        errors=errors,
        form=form or {},
        args=request.args,
    )
    return html, 422 if errors else 200


@bp.get("/prices")
@portal(Role.ADMIN)
def prices() -> tuple[str, int]:
    """A niche's price book and, when asked, a quote for a place with its derivation."""
    return _book(request.args.get("niche") or None)


@bp.post("/prices/rules")
@portal(Role.ADMIN)
def set_price_rule() -> Response | tuple[str, int]:
    """Create or replace the rule for a place ("" = the whole niche)."""
    niche = get_niche(db.session, request.form.get("niche", ""))
    form = Fields(request.form)
    place = form.text("place", max_len=24)
    base = form.money("base_cpl", niche.currency, minimum=1)
    floor = form.money("floor", niche.currency, required=False) or 0
    if form.errors or base is None:
        return _book(niche.slug, form.errors, request.form)
    try:
        rule = set_rule(db.session, niche, place, base_cpl=base, floor=floor)
    except (InvalidInput, Conflict) as exc:
        db.session.rollback()
        errors = {"_form": [exc.message], **{k: list(v) for k, v in exc.fields.items()}}
        return _book(niche.slug, errors, request.form)
    _audit("prices.rule_set", niche, {"place": rule.place, "base_cpl": base, "floor": floor})
    db.session.commit()
    flash(f"Price rule for {rule.place or 'the whole niche'} saved.", "success")
    return redirect(url_for("admin_portal.prices", niche=niche.slug))


@bp.post("/prices/rules/<int:rule_id>/delete")
@portal(Role.ADMIN)
def delete_price_rule(rule_id: int) -> Response:
    """Remove a rule; leads in its place fall back to a less specific one."""
    rule = get_rule(db.session, rule_id)
    niche = db.session.get(Niche, rule.niche_id)
    assert niche is not None
    slug, place = niche.slug, rule.place
    _audit("prices.rule_removed", niche, {"place": rule.place, "base_cpl": rule.base_cpl})
    db.session.delete(rule)
    db.session.commit()
    flash(f"Price rule for {place or 'the whole niche'} removed.", "info")
    return redirect(url_for("admin_portal.prices", niche=slug))


def _steps(form: Fields, prefix: str, key: str, maximum: float) -> list[dict[str, Any]]:
    steps = []
    for i in range(MAX_STEPS):
        if not (form.raw(f"{prefix}-{i}-{key}") or form.raw(f"{prefix}-{i}-multiplier")):
            continue
        name = f"{prefix}-{i}-{key}"
        threshold: float | None
        if key == "min_score":
            whole = form.integer(name, minimum=0, maximum=int(maximum))
            threshold = None if whole is None else float(whole)
        else:
            threshold = form.decimal(name, minimum=0, maximum=maximum)
        factor = form.decimal(f"{prefix}-{i}-multiplier", minimum=0, maximum=10)
        if threshold is not None and factor is not None:
            steps.append({key: threshold, "multiplier": factor, "row": i})
    return steps


@bp.post("/prices/settings")
@portal(Role.ADMIN)
def set_price_settings() -> Response | tuple[str, int]:
    """Quality tiers, the exclusive multiplier, aged discounts and the publishers' payout."""
    niche = get_niche(db.session, request.form.get("niche", ""))
    form = Fields(request.form)
    tiers = _steps(form, "tier", "min_score", 100)
    aged = _steps(form, "aged", "after_days", 3650)
    exclusive = form.decimal("exclusive_multiplier", minimum=1, maximum=10)
    payout_type = form.choice("payout_type", ("share", "fixed"))
    payout: dict[str, Any] = {"type": payout_type}
    if payout_type == "share":
        payout["percent"] = form.integer("payout_value", minimum=0, maximum=100)
    else:
        payout["amount"] = form.money("payout_value", niche.currency)
    if form.errors:
        return _book(niche.slug, form.errors, request.form)
    body = {
        "niche": niche.slug,
        "quality_tiers": [
            {"min_score": int(t["min_score"]), "multiplier": t["multiplier"]} for t in tiers
        ],
        "exclusive_multiplier": exclusive,
        "aged_discounts": [{k: a[k] for k in ("after_days", "multiplier")} for a in aged],
        "payout": payout,
    }
    try:
        data = SettingsIn().load(body)
    except ValidationError as exc:
        errors = {}
        for name, messages in schema_errors(exc).items():
            head, _, rest = name.partition("-")
            rows = tiers if head == "quality_tiers" else aged
            if head in ("quality_tiers", "aged_discounts") and rest.split("-")[0].isdigit():
                index, _, key = rest.partition("-")
                name = f"{RENAME[head]}-{rows[int(index)]['row']}-{key}"
            errors[RENAME.get(name, name)] = messages
        return _book(niche.slug, errors, request.form)
    data.pop("niche")
    set_settings(db.session, niche, data)
    _audit("prices.settings_set", niche, data)
    db.session.commit()
    flash(f"Price settings of {niche.slug} saved.", "success")
    return redirect(url_for("admin_portal.prices", niche=niche.slug))
