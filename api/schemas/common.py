"""Schemas every endpoint shares: the error body, pagination, and strict input."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate

from exchange.pagination import MAX_LIMIT

# Row ids are 32-bit integers (Postgres INTEGER): a larger one names nothing, and sending it
# to the database would fail there instead of answering.
MAX_ID = 2**31 - 1
ID_RANGE = validate.Range(min=1, max=MAX_ID)


def _unstorable(value: Any, path: str, errors: dict[str, list[str]]) -> None:
    """Collect strings no database can store: NUL characters and lone surrogates."""
    if isinstance(value, str):
        if "\x00" in value:
            errors.setdefault(path or "_schema", []).append("NUL characters are not allowed.")
        else:
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                errors.setdefault(path or "_schema", []).append("Not valid Unicode text.")
    elif isinstance(value, dict):
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            _unstorable(key, sub, errors)
            _unstorable(item, sub, errors)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _unstorable(item, f"{path}.{i}" if path else str(i), errors)


class InputSchema(Schema):
    """Base of request bodies: unknown keys and unstorable text are refused."""

    @pre_load
    def _reject_unstorable(self, data: Any, **_: Any) -> Any:
        errors: dict[str, list[str]] = {}
        _unstorable(data, "", errors)
        if errors:
            raise ValidationError(errors)
        return data


class ErrorSchema(Schema):
    error = fields.String(
        required=True, metadata={"description": "Machine-readable code, e.g. validation_error."}
    )
    message = fields.String(required=True, metadata={"description": "What went wrong, in words."})
    fields_ = fields.Dict(
        data_key="fields",
        metadata={"description": "Per-field messages, for validation errors; empty otherwise."},
    )
    request_id = fields.String(metadata={"description": "Quote this when reporting a problem."})


class PageQuery(Schema):
    limit = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Items per page, 1-{MAX_LIMIT}."},
    )
    cursor = fields.String(
        validate=validate.Length(max=200),
        metadata={"description": "The `next_cursor` of the previous page."},
    )


class IdempotencyHeader(Schema):
    class Meta:
        unknown = EXCLUDE

    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        validate=[
            validate.Length(min=1, max=255),
            validate.Regexp(r"^[\x21-\x7e]+$", error="Printable ASCII without spaces."),
        ],
        metadata={
            "description": "Any unique string per logical request; a retry with the same key "
            "and body returns the first response and stores nothing new."
        },
    )


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    """A `{items, next_cursor}` page of `item`."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item), required=True),
            "next_cursor": fields.String(
                allow_none=True,
                metadata={"description": "Pass as `cursor` for the next page; null at the end."},
            ),
        },
        name=name,
    )
