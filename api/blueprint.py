"""The API's Blueprint: like flask-smorest's, but unknown query parameters are errors, and
the errors every operation can answer are documented on it.

Each operation lists the statuses a client can meet, not only `default`: 401 where a key
is required, 403 where only some roles may call it, 404 where the path names a resource,
and 400/413/415 where it reads a JSON body. A view documents its own 409, 402 and the like
with `@blp.alt_response`; what it documents itself is kept.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import RAISE
from webargs.flaskparser import FlaskParser

from api.schemas.common import ErrorSchema


class StrictParser(FlaskParser):
    # A mistyped filter (?stauts=sold) must not silently return everything.
    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": RAISE,
        "querystring": RAISE,
    }


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "schema": ErrorSchema, "content_type": None}


UNAUTHORIZED = "No API key, a malformed Authorization header, or an unknown or revoked key."
NOT_FOUND = "No such resource, or it is not yours: the two answer alike."
BAD_REQUEST = "The body is not valid JSON, or the query string holds a NUL character."
UNSUPPORTED = "The body was not sent as application/json."
TOO_LARGE = "The body is larger than the exchange accepts (MAX_CONTENT_LENGTH)."
# Shared by every operation that calls Stripe.
GATEWAY_ERRORS = {
    502: "Stripe answered with an error (`gateway_error`); retry later.",
    503: "Payments are not configured on this exchange (`payments_not_configured`).",
}


def common_errors(func: Any, *, path_has_params: bool, doc: dict[str, Any]) -> dict[int, str]:
    """The error statuses an operation answers whatever its view does."""
    errors: dict[int, str] = {}
    roles = getattr(func, "_key_roles", None)
    if roles is not None:
        errors[401] = UNAUTHORIZED
        if roles:
            wanted = " or ".join(role.value for role in roles)
            errors[403] = f"Only {wanted} keys may call this; yours is of another role."
    if path_has_params:
        errors[404] = NOT_FOUND
    locations = {a["in"] for a in doc.get("arguments", {}).get("parameters", [])}
    if "json" in locations:
        errors[400] = BAD_REQUEST
        errors[413] = TOO_LARGE
        errors[415] = UNSUPPORTED
    elif "query" in locations:
        errors[400] = BAD_REQUEST
    return errors


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = StrictParser()

    @staticmethod
    def errors(statuses: dict[int, str]) -> Any:
        """Document the error statuses a view answers beyond the common ones, each with what
        it means (the codes in the body name the case)."""

        def decorator(func: Any) -> Any:
            doc = deepcopy(getattr(func, "_apidoc", {}))
            responses = doc.setdefault("response", {}).setdefault("responses", {})
            for status, description in statuses.items():
                responses[status] = [_error(description)]
            func._apidoc = doc
            return func

        return decorator

    def add_url_rule(self, rule: str, *args: Any, **kwargs: Any) -> None:
        self._rule_has_params = "<" in rule
        super().add_url_rule(rule, *args, **kwargs)

    def _store_endpoint_docs(
        self, endpoint: str, obj: Any, parameters: Any, tags: Any, **options: Any
    ) -> None:
        super()._store_endpoint_docs(endpoint, obj, parameters, tags, **options)
        for method, doc in self._docs[endpoint].items():
            if method == "parameters":
                continue
            func = getattr(obj, method) if isinstance(obj, type) else obj
            responses = doc.setdefault("response", {}).setdefault("responses", {})
            roles = getattr(func, "_key_roles", None)
            if roles:
                # Machine-readable too: which roles' keys the operation accepts.
                doc.setdefault("manual_doc", {})["x-roles"] = [role.value for role in roles]
            errors = common_errors(func, path_has_params=self._rule_has_params, doc=doc)
            for status, description in errors.items():
                if status not in responses:
                    responses[status] = [_error(description)]
