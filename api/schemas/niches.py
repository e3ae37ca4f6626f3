"""Niche definition schemas."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import InputSchema, page_schema
from exchange.models import RETURN_REASONS, FieldType


class NicheFieldSchema(InputSchema):
    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "snake_case key used in a lead's `fields`."},
    )
    label = fields.String(validate=validate.Length(max=120))
    type = fields.Enum(FieldType, by_value=True, required=True)
    required = fields.Boolean()
    choices = fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={"description": "Allowed values of an enum field."},
    )
    minimum = fields.Float(allow_none=True, allow_nan=False)
    maximum = fields.Float(allow_none=True, allow_nan=False)
    max_length = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=10000))
    description = fields.String(validate=validate.Length(max=1000))


class NicheSettings(InputSchema):
    """Every editable setting of a niche; all optional, so it also serves PATCH."""

    name = fields.String(validate=validate.Length(min=1, max=120))
    description = fields.String(validate=validate.Length(max=2000))
    currency = fields.String(
        validate=validate.Length(equal=3), metadata={"description": "ISO 4217, e.g. USD or VND."}
    )
    return_window_hours = fields.Integer(
        validate=validate.Range(min=0, max=24 * 365),
        metadata={"description": "How long after a sale a buyer may return the lead."},
    )
    duplicate_window_days = fields.Integer(
        validate=validate.Range(min=0, max=3650),
        metadata={"description": "The same person again within this many days is a duplicate."},
    )
    accept_score = fields.Integer(
        validate=validate.Range(min=0, max=100),
        metadata={"description": "Quality score at or above which a lead is accepted."},
    )
    review_score = fields.Integer(
        validate=validate.Range(min=0, max=100),
        metadata={"description": "Below this a lead is rejected; between the two, reviewed."},
    )
    consent_required = fields.Boolean()
    consent_max_age_days = fields.Integer(validate=validate.Range(min=1, max=3650))
    max_buyers = fields.Integer(
        validate=validate.Range(min=1, max=20),
        metadata={"description": "How many buyers may share one lead."},
    )
    return_reasons = fields.List(
        fields.String(validate=validate.OneOf(RETURN_REASONS)),
        allow_none=True,
        validate=validate.Length(min=1, max=len(RETURN_REASONS)),
        metadata={"description": "The return reasons this niche accepts (null: all of them)."},
    )
    return_cap_percent = fields.Integer(
        validate=validate.Range(min=0, max=100),
        metadata={"description": "The share of a buyer's monthly sales it may return."},
    )
    return_response_hours = fields.Integer(
        validate=validate.Range(min=1, max=24 * 30),
        metadata={"description": "How long a publisher has to answer a return."},
    )
    flag_return_rate = fields.Integer(
        validate=validate.Range(min=1, max=100),
        metadata={"description": "Return rate (percent) at which a publisher is flagged."},
    )
    is_active = fields.Boolean()
    fields_ = fields.List(
        fields.Nested(NicheFieldSchema),
        data_key="fields",
        attribute="fields",
        validate=validate.Length(max=100),
        metadata={"description": "The full list of field definitions (replaces the old one)."},
    )


class NicheIn(NicheSettings):
    slug = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[a-z0-9][a-z0-9-]{1,63}$", error="Lower-case letters, digits and hyphens."
        ),
    )
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))


class NicheFieldOut(Schema):
    name = fields.String()
    label = fields.String()
    type = fields.Enum(FieldType, by_value=True)
    required = fields.Boolean()
    choices = fields.List(fields.String(), allow_none=True)
    minimum = fields.Float(allow_none=True)
    maximum = fields.Float(allow_none=True)
    max_length = fields.Integer(allow_none=True)
    description = fields.String()


class NicheOut(Schema):
    slug = fields.String()
    name = fields.String()
    description = fields.String()
    currency = fields.String()
    return_window_hours = fields.Integer()
    duplicate_window_days = fields.Integer()
    accept_score = fields.Integer()
    review_score = fields.Integer()
    consent_required = fields.Boolean()
    consent_max_age_days = fields.Integer()
    max_buyers = fields.Integer()
    return_reasons = fields.List(fields.String(), allow_none=True)
    return_cap_percent = fields.Integer()
    return_response_hours = fields.Integer()
    flag_return_rate = fields.Integer()
    is_active = fields.Boolean()
    fields_ = fields.List(fields.Nested(NicheFieldOut), data_key="fields", attribute="fields")
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


NichePage = page_schema(NicheOut, "NichePage")
