"""What buyers see of what they bought, and what they report back."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.schemas.common import ID_RANGE, InputSchema, PageQuery, page_schema
from api.schemas.leads import ConsentOut
from exchange.purchases import PIPELINE


class PurchasedLead(Schema):
    """The full lead, as the buyer who bought it sees it."""

    id = fields.Integer()
    niche = fields.String(attribute="niche.slug")
    first_name = fields.String()
    last_name = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    country = fields.String()
    region = fields.String(allow_none=True)
    postal_code = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    fields_ = fields.Dict(data_key="fields", attribute="fields")
    consent = fields.Function(
        lambda lead: ConsentOut().dump(lead) if lead.consent_captured_at else None
    )
    score = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class PurchaseOut(Schema):
    id = fields.Integer(metadata={"description": "The sale id."})
    campaign_id = fields.Integer()
    price = fields.Integer(metadata={"description": "What you paid, in minor units."})
    currency = fields.String()
    exclusive = fields.Boolean()
    status = fields.Function(lambda s: s.status.value, metadata={"description": "sold, returned"})
    pipeline_status = fields.String(
        metadata={"description": "new, contacted, qualified, converted or lost."}
    )
    lost_reason = fields.String(allow_none=True)
    created_at = fields.DateTime()
    lead = fields.Nested(PurchasedLead)


PurchasePage = page_schema(PurchaseOut, "PurchasePage")


class PurchaseQuery(PageQuery):
    pipeline_status = fields.String(validate=validate.OneOf(["new", *PIPELINE]))


class PipelineIn(InputSchema):
    status = fields.String(required=True, validate=validate.OneOf(PIPELINE))
    lost_reason = fields.String(validate=validate.Length(min=1, max=500))


class ConversionIn(InputSchema):
    lead_id = fields.Integer(strict=True, validate=ID_RANGE)
    sale_id = fields.Integer(strict=True, validate=ID_RANGE)
    action = fields.String(
        required=True,
        validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$", error="lower_snake_case, e.g. sale."),
    )
    transaction_id = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Your id for this action; reporting it again changes nothing."},
    )
    value = fields.Integer(
        strict=True,
        validate=validate.Range(min=0),
        metadata={"description": "Optional: what the action was worth to you, minor units."},
    )

    @validates_schema
    def _one_target(self, data: dict[str, Any], **_: Any) -> None:
        if bool(data.get("lead_id")) == bool(data.get("sale_id")):
            message = "Give lead_id or sale_id (one of them)."
            raise ValidationError({"lead_id": [message], "sale_id": [message]})


class ConversionOut(Schema):
    id = fields.Integer()
    sale_id = fields.Integer()
    action = fields.String()
    transaction_id = fields.String()
    value = fields.Integer(allow_none=True)
    amount = fields.Integer(metadata={"description": "What this action cost you (CPA)."})
    created_at = fields.DateTime()
