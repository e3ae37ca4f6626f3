"""Ping/post bodies."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import InputSchema


class PingIn(InputSchema):
    """A lead without personal data: no name, e-mail, phone, address or IP."""

    niche = fields.String(required=True, validate=validate.Length(min=1, max=64))
    country = fields.String(required=True, validate=validate.Length(equal=2))
    region = fields.String(validate=validate.Length(max=64))
    postal_code = fields.String(validate=validate.Length(max=16))
    fields_ = fields.Dict(
        keys=fields.String(validate=validate.Length(max=64)),
        data_key="fields",
        attribute="fields",
        load_default=dict,
        metadata={"description": "The niche's fields, as in a lead."},
    )
    source = fields.String(validate=validate.Length(max=100))
    sub_id = fields.String(validate=validate.Length(max=100))


class PingOut(Schema):
    ping_id = fields.String(attribute="token")
    bid = fields.Integer(
        allow_none=True,
        metadata={
            "description": "Your payout if the matching lead is posted in time and sells "
            "(minor units); null: nobody wants it now."
        },
    )
    currency = fields.String()
    expires_at = fields.DateTime()
