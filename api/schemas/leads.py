"""Lead input and output schemas (publisher view)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.schemas.common import ID_RANGE, InputSchema, PageQuery, page_schema
from exchange.models import LeadStatus


def _text(max_len: int, description: str, **kw: Any) -> fields.String:
    """An optional string; null is accepted as absent unless the field is required."""
    kw.setdefault("allow_none", not kw.get("required", False))
    return fields.String(
        validate=validate.Length(max=max_len), metadata={"description": description}, **kw
    )


class ConsentIn(InputSchema):
    text = _text(5000, "The consent language the person agreed to.")
    url = _text(2048, "The page where consent was captured.")
    captured_at = fields.AwareDateTime(
        allow_none=True,
        metadata={"description": "When consent was given (ISO 8601 with a time zone)."},
    )


class LeadIn(InputSchema):
    niche = _text(64, "Slug of the niche, e.g. auto-insurance.", required=True)
    external_id = _text(128, "Your own id; a second post with the same one is a replay.")
    first_name = _text(100, "Given name.")
    last_name = _text(100, "Family name.")
    email = _text(320, "E-mail address; stored lower-cased.")
    phone = _text(32, "Phone number in any common format; stored as E.164.")
    country = fields.String(
        required=True,
        validate=validate.Length(equal=2),
        metadata={"description": "ISO 3166-1 alpha-2 country code."},
    )
    region = _text(64, "ISO 3166-2 subdivision (US-CA or CA); optional when a US ZIP implies it.")
    postal_code = _text(16, "Postal code; a US ZIP resolves to state, city and coordinates.")
    city = _text(100, "City.")
    address = _text(300, "Street address.")
    ip = fields.IP(
        allow_none=True,
        metadata={"description": "The person's IP address when the form was filled."},
    )
    user_agent = _text(1000, "The browser's user agent.")
    form_seconds = fields.Float(
        allow_none=True,
        allow_nan=False,
        validate=validate.Range(min=0, max=86400),
        metadata={"description": "Seconds the person spent on the form (bots are fast)."},
    )
    source = _text(100, "Traffic source or channel.")
    sub_id = _text(100, "Your sub-id (affiliate, placement).")
    consent = fields.Nested(ConsentIn, allow_none=True)
    fields_ = fields.Dict(
        keys=fields.String(validate=validate.Length(max=64)),
        data_key="fields",
        attribute="fields",
        allow_none=True,
        metadata={"description": "The niche's own fields, as its definition types them."},
    )

    @validates_schema
    def _needs_contact(self, data: dict[str, Any], **_: Any) -> None:
        if not (data.get("email") or "").strip() and not (data.get("phone") or "").strip():
            message = "A lead needs an email or a phone that reaches the person."
            raise ValidationError({"email": [message], "phone": [message]})


class ConsentOut(Schema):
    text = fields.String(attribute="consent_text")
    url = fields.String(attribute="consent_url")
    captured_at = fields.DateTime(attribute="consent_captured_at")


_consent_out = ConsentOut()


class FindingOut(Schema):
    code = fields.String()
    severity = fields.String(metadata={"description": "pass, warn or fail."})
    message = fields.String()


class LeadOut(Schema):
    """A lead as its publisher (or an admin) sees it."""

    id = fields.Integer()
    external_id = fields.String(allow_none=True)
    niche = fields.String(attribute="niche.slug", metadata={"description": "The niche's slug."})
    status = fields.Enum(LeadStatus, by_value=True)
    created_at = fields.DateTime()
    first_name = fields.String()
    last_name = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    country = fields.String()
    region = fields.String(allow_none=True)
    postal_code = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    ip = fields.String(allow_none=True)
    user_agent = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    sub_id = fields.String(allow_none=True)
    consent = fields.Function(
        lambda lead: (
            _consent_out.dump(lead) if lead.consent_captured_at or lead.consent_text else None
        )
    )
    fields_ = fields.Dict(data_key="fields", attribute="fields")
    sales = fields.Integer(
        attribute="sales_count",
        metadata={"description": "How many buyers bought the lead (never who, nor at what price)."},
    )
    payout = fields.Integer(
        metadata={"description": "What you earn on its sales, in the niche currency's minor unit."}
    )
    findings = fields.List(
        fields.Nested(FindingOut),
        metadata={"description": "What normalisation noticed, e.g. a ZIP outside the state."},
    )
    quality = fields.Dict(
        allow_none=True,
        metadata={
            "description": "The quality report: {score, verdict, conversion_probability, "
            "temperature, reasons: [{code, severity, message}], model_version}."
        },
    )


class LeadListQuery(PageQuery):
    status = fields.Enum(LeadStatus, by_value=True)
    niche = fields.String(validate=validate.Length(max=64))
    created_from = fields.Date(metadata={"description": "Created on or after this day (UTC)."})
    created_to = fields.Date(metadata={"description": "Created on or before this day (UTC)."})


LeadPage = page_schema(LeadOut, "LeadPage")


class AdminLeadOut(LeadOut):
    """A lead as an admin sees it: the publisher is named."""

    publisher_id = fields.Integer()


class ReviewQuery(PageQuery):
    niche = fields.String(validate=validate.Length(max=64))
    publisher_id = fields.Integer(validate=ID_RANGE)
    reason = fields.String(
        validate=validate.Length(max=64),
        metadata={"description": "A reason code, e.g. phone_invalid."},
    )


class ReviewDecisionIn(InputSchema):
    decision = fields.String(required=True, validate=validate.OneOf(["accept", "reject"]))
    note = fields.String(load_default="", validate=validate.Length(max=2000))


AdminLeadPage = page_schema(AdminLeadOut, "AdminLeadPage")


class ImportedLeadIn(LeadIn):
    """A row of a historical CSV import: contact details may have been removed at source.

    Such a lead still goes through intake and quality (and is rejected as unreachable), but
    its fields and outcome can teach the conversion model.
    """

    @validates_schema
    def _needs_contact(self, data: dict[str, Any], **_: Any) -> None:
        return None
