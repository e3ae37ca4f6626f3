"""The price book: admins keep it (/api/v1/admin/prices); anyone with a key asks for a quote."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.auth import current_key, current_org, key_required
from api.blueprint import Blueprint
from api.schemas.prices import (
    PriceBookOut,
    PriceBookQuery,
    PublisherPayoutIn,
    QuoteOut,
    QuoteQuery,
    RuleIn,
    RuleOut,
    SettingsIn,
    SettingsOut,
)
from exchange.audit import record_event
from exchange.errors import InvalidInput, NotFound
from exchange.models import Niche, Organization, Role
from exchange.niches import get_niche
from exchange.pricing import (
    get_rule,
    list_rules,
    place_of,
    quote,
    set_publisher_payout,
    set_rule,
    set_settings,
    settings_for,
)
from extensions import db

blp = Blueprint(
    "prices",
    __name__,
    url_prefix="/api/v1",
    description="The price book by niche and place, and price quotes.",
)


def _niche(slug: str) -> Niche:
    try:
        return get_niche(db.session, slug)
    except NotFound:
        raise InvalidInput(f"No niche {slug!r}.", fields={"niche": ["Unknown niche."]}) from None


def _audit(action: str, niche: Niche, data: dict[str, Any]) -> None:
    record_event(
        db.session,
        action,
        organization=None,
        actor=current_org(),
        api_key=current_key(),
        target_type="niche",
        target_id=niche.slug,
        data=data,
    )


@blp.route("/admin/prices")
class PriceBook(MethodView):
    @key_required(Role.ADMIN)
    @blp.arguments(PriceBookQuery, location="query")
    @blp.response(200, PriceBookOut)
    def get(self, query: dict[str, Any]) -> Any:
        """A niche's price book: its settings and every rule, least specific first"""
        niche = _niche(query["niche"])
        return {
            "niche": niche.slug,
            "currency": niche.currency,
            "settings": settings_for(db.session, niche),
            "rules": list_rules(db.session, niche),
        }


@blp.route("/admin/prices/rules")
class PriceRules(MethodView):
    @key_required(Role.ADMIN)
    @blp.arguments(RuleIn)
    @blp.response(200, RuleOut)
    @blp.errors({409: "A rule for the place was created at the same moment; retry."})
    def put(self, data: dict[str, Any]) -> Any:
        """Set the base price and floor for a niche in a place

        Place is "" for the whole niche, a country ("US"), a subdivision ("US-CA") or a
        postal code ("US:94110"); the most specific rule matching a lead wins.
        """
        niche = _niche(data["niche"])
        rule = set_rule(
            db.session, niche, data["place"], base_cpl=data["base_cpl"], floor=data["floor"]
        )
        _audit("prices.rule_set", niche, {k: data[k] for k in ("place", "base_cpl", "floor")})
        db.session.commit()
        return rule


@blp.route("/admin/prices/rules/<int:rule_id>")
class PriceRuleById(MethodView):
    @key_required(Role.ADMIN)
    @blp.response(204)
    def delete(self, rule_id: int) -> Any:
        """Remove a price rule"""
        rule = get_rule(db.session, rule_id)
        niche = db.session.get(Niche, rule.niche_id)
        assert niche is not None
        _audit("prices.rule_removed", niche, {"place": rule.place, "base_cpl": rule.base_cpl})
        db.session.delete(rule)
        db.session.commit()
        return None


@blp.route("/admin/prices/settings")
class PriceSettings(MethodView):
    @key_required(Role.ADMIN)
    @blp.arguments(SettingsIn)
    @blp.response(200, SettingsOut)
    def put(self, data: dict[str, Any]) -> Any:
        """Set a niche's quality tiers, exclusive multiplier, aged-lead discounts and payout

        Tiers: the highest `min_score` a lead reaches sets its multiplier. Aged discounts: the
        latest `after_days` step an unsold lead has reached applies. Payout: a share of the
        sale price in percent, or a fixed amount per sale.
        """
        niche = _niche(data.pop("niche"))
        settings = set_settings(db.session, niche, data)
        _audit("prices.settings_set", niche, data)
        db.session.commit()
        return settings


@blp.route("/admin/prices/publishers/<int:publisher_id>")
class PublisherPayoutTerms(MethodView):
    @key_required(Role.ADMIN)
    @blp.arguments(PublisherPayoutIn)
    @blp.response(200, SettingsOut)
    def put(self, data: dict[str, Any], publisher_id: int) -> Any:
        """Give a publisher its own payout in a niche (payout null: back to the niche's)"""
        niche = _niche(data["niche"])
        org = db.session.get(Organization, publisher_id)
        if org is None or org.role != Role.PUBLISHER:
            raise NotFound(f"No publisher {publisher_id}.")
        override = set_publisher_payout(db.session, niche, publisher_id, data["payout"])
        _audit("prices.publisher_payout_set", niche, {"publisher_id": publisher_id, **data})
        db.session.commit()
        settings = settings_for(db.session, niche)
        if override is not None:
            return {
                **SettingsOut().dump(settings),
                "payout_type": override.payout_type,
                "payout_value": override.payout_value,
            }
        return settings


@blp.route("/prices/quote")
class PriceQuote(MethodView):
    @key_required()
    @blp.arguments(QuoteQuery, location="query")
    @blp.response(200, QuoteOut)
    def get(self, query: dict[str, Any]) -> Any:
        """What a lead would fetch

        From the price book for the niche and place (a US ZIP alone is enough), a quality
        score, exclusivity and age in days. Buyers see the price and floor; publishers see
        their payout; admins see all.
        """
        niche = _niche(query["niche"])
        place = place_of(query.get("country"), query.get("region"), query.get("postal_code"))
        org = current_org()
        result = quote(
            db.session,
            niche,
            place,
            score=query.get("score"),
            exclusive=query["exclusive"],
            age_days=query["age_days"],
            publisher_id=org.id if org.role == Role.PUBLISHER else None,
        )
        out: dict[str, Any] = {
            "niche": niche.slug,
            "currency": result.currency,
            "priced": result.rule_place is not None,
        }
        if org.role in (Role.BUYER, Role.ADMIN):
            out.update(price=result.price, floor=result.floor)
        if org.role in (Role.PUBLISHER, Role.ADMIN):
            out["payout"] = result.payout
        return out
