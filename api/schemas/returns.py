"""Returns, disputes, the sources' quality table and publisher flags."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import ID_RANGE, InputSchema, PageQuery, page_schema
from exchange.models import RETURN_REASONS, ReturnStage, ReturnStatus


class EvidenceIn(InputSchema):
    text = fields.String(validate=validate.Length(max=5000))
    reference = fields.String(
        validate=validate.Length(max=500),
        metadata={"description": "A call-log id, a bounce message id, a recording URL..."},
    )


class ReturnIn(InputSchema):
    reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=32),
        metadata={"description": f"One of: {', '.join(RETURN_REASONS)} (as the niche accepts)."},
    )
    note = fields.String(
        validate=validate.Length(max=2000), metadata={"description": "Required for `other`."}
    )
    evidence = fields.Nested(EvidenceIn)


class ResponseIn(InputSchema):
    message = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    evidence = fields.Nested(EvidenceIn)


class DecisionIn(InputSchema):
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ReturnOut(Schema):
    id = fields.Integer()
    kind = fields.String(
        metadata={"description": "`return` of a sale or `dispute` of a CPA charge."}
    )
    sale_id = fields.Integer()
    conversion_id = fields.Integer(allow_none=True)
    lead_id = fields.Integer()
    niche_id = fields.Integer()
    reason = fields.String()
    note = fields.String(allow_none=True)
    evidence = fields.Dict(allow_none=True)
    status = fields.Enum(ReturnStatus, by_value=True)
    stage = fields.Enum(
        ReturnStage,
        by_value=True,
        metadata={"description": "publisher: awaiting its answer; admin: awaiting a ruling."},
    )
    finding = fields.Dict(
        allow_none=True,
        metadata={
            "description": "The automatic re-check: result (proven, disproven, "
            "inconclusive) and detail."
        },
    )
    respond_by = fields.DateTime(allow_none=True)
    publisher_response = fields.String(allow_none=True)
    publisher_evidence = fields.Dict(allow_none=True)
    responded_at = fields.DateTime(allow_none=True)
    amount = fields.Integer(metadata={"description": "What the charge was (minor units)."})
    refunded = fields.Integer(metadata={"description": "What went back to the buyer."})
    currency = fields.String()
    decided_by = fields.String(allow_none=True)
    decision_note = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class AdminReturnOut(ReturnOut):
    buyer_id = fields.Integer()
    publisher_id = fields.Integer()
    sub_id = fields.String(allow_none=True)


STATUSES = [s.value for s in ReturnStatus]
STAGES = [s.value for s in ReturnStage]


class ReturnQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(STATUSES))
    stage = fields.String(validate=validate.OneOf(STAGES))


class AdminReturnQuery(PageQuery):
    status = fields.String(load_default="pending", validate=validate.OneOf(STATUSES))
    stage = fields.String(validate=validate.OneOf(STAGES))
    reason = fields.String(validate=validate.OneOf(list(RETURN_REASONS)))
    niche_id = fields.Integer(validate=ID_RANGE)
    buyer_id = fields.Integer(validate=ID_RANGE)
    publisher_id = fields.Integer(validate=ID_RANGE)


ReturnPage = page_schema(ReturnOut, "ReturnPage")
AdminReturnPage = page_schema(AdminReturnOut, "AdminReturnPage")


class BuyerTermsIn(InputSchema):
    return_window_hours = fields.Integer(
        allow_none=True, validate=validate.Range(min=0, max=24 * 365)
    )
    return_cap_percent = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=100))


class BuyerTermsOut(Schema):
    organization_id = fields.Integer()
    return_window_hours = fields.Integer(allow_none=True)
    return_cap_percent = fields.Integer(allow_none=True)


class SourceQuery(Schema):
    days = fields.Integer(load_default=30, validate=validate.Range(min=1, max=365))
    niche_id = fields.Integer(validate=ID_RANGE)


class AdminSourceQuery(SourceQuery):
    publisher_id = fields.Integer(validate=ID_RANGE)
    by_sub_id = fields.Boolean(load_default=False)


class SourceRow(Schema):
    publisher_id = fields.Integer()
    niche = fields.String(allow_none=True)
    sub_id = fields.String(allow_none=True)
    leads = fields.Integer()
    rejected = fields.Integer()
    sold = fields.Integer()
    returned = fields.Integer()
    converted = fields.Integer()
    rejection_rate = fields.Float(allow_none=True)
    return_rate = fields.Float(allow_none=True)
    conversion_rate = fields.Float(allow_none=True)
    flagged = fields.Boolean()


class SourceTable(Schema):
    days = fields.Integer()
    rows = fields.List(fields.Nested(SourceRow))


class FlagOut(Schema):
    id = fields.Integer()
    publisher_id = fields.Integer()
    niche_id = fields.Integer()
    return_rate = fields.Float()
    reason = fields.String()
    flagged_at = fields.DateTime()
    cleared_at = fields.DateTime(allow_none=True)
    cleared_by_id = fields.Integer(allow_none=True)
    clear_note = fields.String(allow_none=True)


class FlagQuery(Schema):
    open = fields.Boolean(load_default=True)


class ClearFlagIn(InputSchema):
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))
