"""Organisation and API key schemas."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import InputSchema, page_schema
from exchange.models import Role


class OrganizationOut(Schema):
    id = fields.Integer()
    name = fields.String()
    role = fields.Enum(Role, by_value=True)
    currency = fields.String()


class ApiKeyOut(Schema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String(metadata={"description": "The first characters, to recognise a key."})
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class ApiKeyCreated(ApiKeyOut):
    api_key = fields.String(metadata={"description": "The key itself, shown this once only."})


class ApiKeyIn(InputSchema):
    name = fields.String(load_default="default", validate=validate.Length(min=1, max=100))


class MeOut(Schema):
    organization = fields.Nested(OrganizationOut)
    api_key = fields.Nested(ApiKeyOut)


ApiKeyPage = page_schema(ApiKeyOut, "ApiKeyPage")
