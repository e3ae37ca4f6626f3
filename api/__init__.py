"""The JSON API (/api/v1): blueprints, schemas, API-key auth, JSON errors, OpenAPI."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_smorest import Api as SmorestApi
from werkzeug.routing import IntegerConverter

from api.schemas.common import MAX_ID, ErrorSchema
from extensions import csrf

API_DESCRIPTION = """
The lead exchange API. Authenticate with `Authorization: Bearer <api key>`; keys belong to one
organisation (publisher, buyer or admin) and are created with `flask accounts create` or
`POST /api/v1/keys`.

Every error has one shape: `{"error": code, "message": text, "fields": {...}, "request_id": id}`.
Malformed input gets a 4xx naming the problem and nothing is stored.

Lists are cursor-paginated: `?limit=&cursor=` answers `{items: [...], next_cursor}`; pass
`next_cursor` back as `cursor` until it is null.
"""


class IdConverter(IntegerConverter):
    """`<int:...>` bounded to a row id: an absurd id is a 404, not an out-of-range database
    error (a 500 on both SQLite and Postgres); the OpenAPI document states the maximum."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class Api(SmorestApi):
    """flask-smorest with our error shape; the handlers themselves live in api/errors.py."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        pass


api = Api(
    spec_kwargs={
        "info": {"description": API_DESCRIPTION},
        "security": [{"bearerAuth": []}],
    }
)


def init_api(app: Flask) -> None:
    """Bind the API to the app and register every blueprint."""
    from api import (
        admin,
        admin_billing,
        billing,
        campaigns,
        docs,
        keys,
        leads,
        niches,
        pings,
        prices,
        purchases,
        returns,
        stripe_webhook,
    )

    # Before any blueprint (the web pages' too) adds a rule with an id in it.
    app.url_map.converters["int"] = IdConverter
    api.init_app(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "An API key."}
    )
    for module in (
        leads,
        pings,
        niches,
        campaigns,
        purchases,
        returns,
        prices,
        keys,
        billing,
        admin,
        admin_billing,
    ):
        api.register_blueprint(module.blp)
        csrf.exempt(module.blp)  # bearer keys, no cookies: CSRF cannot apply
    app.register_blueprint(docs.bp)
    app.register_blueprint(stripe_webhook.bp)
