"""Campaign bodies: what a buyer sends to create or change a campaign, and what it gets back."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import InputSchema, PageQuery, page_schema
from exchange.campaign_rules import CAP_PERIODS, DAYS, TEMPERATURES

MINOR = "In the niche currency's minor unit (cents; VND and JPY: units)."
OPS = ["in", "not_in", "=", "!=", ">", ">=", "<", "<=", "between"]


def money(description: str = MINOR, **kwargs: object) -> fields.Integer:
    return fields.Integer(
        strict=True,
        validate=validate.Range(min=1),
        metadata={"description": description},
        **kwargs,  # type: ignore[arg-type]
    )


class RadiusIn(InputSchema):
    postal_code = fields.String(required=True, validate=validate.Length(min=5, max=10))
    distance = fields.Float(required=True, validate=validate.Range(min=0.1, max=805))
    unit = fields.String(load_default="mi", validate=validate.OneOf(["mi", "km"]))


class GeographyIn(InputSchema):
    countries = fields.List(fields.String(validate=validate.Length(equal=2)), load_default=list)
    subdivisions = fields.List(
        fields.String(validate=validate.Length(max=8)),
        load_default=list,
        metadata={"description": "ISO 3166-2 codes such as US-CA."},
    )
    postal_codes = fields.List(
        fields.String(validate=validate.Length(min=1, max=24)),
        load_default=list,
        validate=validate.Length(max=5000),
        metadata={"description": "US ZIPs, or COUNTRY:CODE for other countries (GB:SW1A 1AA)."},
    )
    radius = fields.Nested(
        RadiusIn, allow_none=True, metadata={"description": "Around a US ZIP, in mi or km."}
    )


class ScheduleIn(InputSchema):
    timezone = fields.String(required=True, metadata={"description": "e.g. America/Chicago"})
    days = fields.List(
        fields.String(validate=validate.OneOf(DAYS)), validate=validate.Length(min=1)
    )
    start_hour = fields.Integer(strict=True, load_default=0, validate=validate.Range(0, 23))
    end_hour = fields.Integer(strict=True, load_default=24, validate=validate.Range(1, 24))


class FilterIn(InputSchema):
    field = fields.String(required=True, validate=validate.Length(min=1, max=64))
    op = fields.String(required=True, validate=validate.OneOf(OPS))
    value = fields.Raw(required=True, allow_none=False)


class PeriodsIn(InputSchema):
    hour = fields.Integer(strict=True, validate=validate.Range(min=1))
    day = fields.Integer(strict=True, validate=validate.Range(min=1))
    week = fields.Integer(strict=True, validate=validate.Range(min=1))
    month = fields.Integer(strict=True, validate=validate.Range(min=1))
    total = fields.Integer(strict=True, validate=validate.Range(min=1))


class CapsIn(InputSchema):
    leads = fields.Nested(
        PeriodsIn, metadata={"description": f"Leads per {', '.join(CAP_PERIODS)}."}
    )
    spend = fields.Nested(PeriodsIn, metadata={"description": f"Money per period. {MINOR}"})


class BidIn(InputSchema):
    type = fields.String(required=True, validate=validate.OneOf(["fixed", "relative"]))
    amount = money("A fixed bid per lead. " + MINOR)
    percent = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=1000),
        metadata={"description": "A relative bid: percent of the price book's price."},
    )
    max = money("The most this campaign pays for one lead. " + MINOR)


class PricingIn(InputSchema):
    model = fields.String(required=True, validate=validate.OneOf(["cpl", "cpa"]))
    bid = fields.Nested(BidIn, metadata={"description": "For cpl."})
    actions = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$")),
        values=fields.Integer(strict=True, validate=validate.Range(min=1)),
        metadata={"description": 'For cpa: amount per action, e.g. {"sale": 15000}.'},
    )
    cpl = fields.Integer(
        strict=True,
        validate=validate.Range(min=0),
        metadata={"description": "For cpa: an optional small fee per lead."},
    )


class DeliveryIn(InputSchema):
    method = fields.String(required=True, validate=validate.OneOf(["webhook", "email", "portal"]))
    url = fields.URL(
        schemes={"http", "https"}, require_tld=False, validate=validate.Length(max=2000)
    )
    email = fields.Email(validate=validate.Length(max=320))


class CampaignIn(InputSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    niche = fields.String(required=True, validate=validate.Length(min=1, max=64))
    status = fields.String(validate=validate.OneOf(["active", "paused"]))
    geography = fields.Nested(GeographyIn, required=True)
    schedule = fields.Nested(ScheduleIn, allow_none=True)
    min_score = fields.Integer(strict=True, allow_none=True, validate=validate.Range(0, 100))
    min_temperature = fields.String(allow_none=True, validate=validate.OneOf(TEMPERATURES))
    max_lead_age_hours = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(1, 24 * 365)
    )
    exclusive = fields.Boolean(load_default=False)
    filters = fields.List(
        fields.Nested(FilterIn), load_default=list, validate=validate.Length(max=50)
    )
    caps = fields.Nested(CapsIn, load_default=dict)
    budget = money("Total spend allowed, all periods together. " + MINOR, allow_none=True)
    pricing = fields.Nested(PricingIn, required=True)
    delivery = fields.Nested(DeliveryIn, required=True)


class CampaignOut(Schema):
    id = fields.Integer()
    name = fields.String()
    niche = fields.Function(lambda c: c.niche.slug)
    status = fields.Function(lambda c: c.status.value)
    currency = fields.String()
    geography = fields.Dict()
    schedule = fields.Dict(allow_none=True)
    min_score = fields.Integer(allow_none=True)
    min_temperature = fields.String(allow_none=True)
    max_lead_age_hours = fields.Integer(allow_none=True)
    exclusive = fields.Boolean()
    filters = fields.List(fields.Dict())
    caps = fields.Dict()
    budget = fields.Integer(allow_none=True)
    pricing = fields.Dict()
    delivery = fields.Dict()
    signing_secret = fields.String(
        metadata={"description": "Verifies our signature on webhook deliveries (see README)."}
    )
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


CampaignPage = page_schema(CampaignOut, "CampaignPage")


class CampaignQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(["active", "paused"]))
    niche = fields.String(validate=validate.Length(min=1, max=64))


class CampaignPatch(CampaignIn):
    """A change to a campaign: any of CampaignIn's keys except the niche."""
