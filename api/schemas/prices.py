"""Price book bodies: rules, niche settings, publisher payouts, quotes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import InputSchema

MINOR = "In the niche currency's minor unit (cents; VND and JPY: units)."


class PayoutIn(InputSchema):
    type = fields.String(required=True, validate=validate.OneOf(["share", "fixed"]))
    percent = fields.Integer(strict=True, validate=validate.Range(0, 100))
    amount = fields.Integer(strict=True, validate=validate.Range(min=0))


class RuleIn(InputSchema):
    niche = fields.String(required=True, validate=validate.Length(min=1, max=64))
    place = fields.String(
        required=True,
        validate=validate.Length(max=24),
        metadata={"description": '"" (whole niche), "US", "US-CA" or "US:94110".'},
    )
    base_cpl = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1), metadata={"description": MINOR}
    )
    floor = fields.Integer(strict=True, load_default=0, validate=validate.Range(min=0))


class RuleOut(Schema):
    id = fields.Integer()
    place_kind = fields.String()
    place = fields.String()
    base_cpl = fields.Integer()
    floor = fields.Integer()
    updated_at = fields.DateTime()


class TierIn(InputSchema):
    min_score = fields.Integer(strict=True, required=True, validate=validate.Range(0, 100))
    multiplier = fields.Float(required=True, validate=validate.Range(min=0, max=10))


class AgedIn(InputSchema):
    after_days = fields.Float(required=True, validate=validate.Range(min=0, max=3650))
    multiplier = fields.Float(required=True, validate=validate.Range(min=0, max=1))


class SettingsIn(InputSchema):
    niche = fields.String(required=True, validate=validate.Length(min=1, max=64))
    quality_tiers = fields.List(fields.Nested(TierIn), validate=validate.Length(max=20))
    exclusive_multiplier = fields.Float(validate=validate.Range(min=1, max=10))
    aged_discounts = fields.List(fields.Nested(AgedIn), validate=validate.Length(max=20))
    payout = fields.Nested(PayoutIn)


class SettingsOut(Schema):
    quality_tiers = fields.List(fields.Dict())
    exclusive_multiplier = fields.Float()
    aged_discounts = fields.List(fields.Dict())
    payout_type = fields.String()
    payout_value = fields.Integer()


class PriceBookOut(Schema):
    niche = fields.String()
    currency = fields.String()
    settings = fields.Nested(SettingsOut)
    rules = fields.List(fields.Nested(RuleOut))


class PriceBookQuery(Schema):
    niche = fields.String(required=True, validate=validate.Length(min=1, max=64))


class PublisherPayoutIn(InputSchema):
    niche = fields.String(required=True, validate=validate.Length(min=1, max=64))
    payout = fields.Nested(PayoutIn, required=True, allow_none=True)


class QuoteQuery(Schema):
    niche = fields.String(required=True, validate=validate.Length(min=1, max=64))
    country = fields.String(validate=validate.Length(equal=2))
    region = fields.String(validate=validate.Length(max=64))
    postal_code = fields.String(validate=validate.Length(max=16))
    score = fields.Float(validate=validate.Range(0, 100))
    exclusive = fields.Boolean(load_default=False)
    age_days = fields.Float(load_default=0, validate=validate.Range(0, 3650))


class QuoteOut(Schema):
    niche = fields.String()
    currency = fields.String()
    price = fields.Integer(metadata={"description": "Buyers and admins: the price-book price."})
    floor = fields.Integer(metadata={"description": "Buyers and admins: no sale below this."})
    payout = fields.Integer(metadata={"description": "Publishers and admins: what you'd earn."})
    priced = fields.Boolean(metadata={"description": "False when no rule covers this place."})
