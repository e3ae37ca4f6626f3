"""One error shape for every failure: `{error, message, fields, request_id}`.

Domain errors map to a 4xx here and nowhere else; anything unexpected is logged with the
request id and answered without internals. Every error rolls the request's transaction back.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from errors import (
    AuthenticationFailed,
    BadRequest,
    CardDeclined,
    Conflict,
    DomainError,
    GatewayError,
    InvalidInput,
    NotFound,
    PaymentRequired,
    PaymentsUnavailable,
    PermissionDenied,
)
from extensions import db

log = logging.getLogger("exchange.errors")

DOMAIN_STATUS: dict[type[DomainError], int] = {
    InvalidInput: 422,
    BadRequest: 400,
    NotFound: 404,
    Conflict: 409,
    PermissionDenied: 403,
    AuthenticationFailed: 401,
    PaymentRequired: 402,
    CardDeclined: 402,
    GatewayError: 502,
    PaymentsUnavailable: 503,
}
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    402: "payment_required",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "service_unavailable",
}
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/billing/")) or request.is_json


def _respond(
    status: int,
    code: str,
    message: str,
    fields: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    db.session.rollback()
    if _wants_json():
        response = jsonify(
            error=code, message=message, fields=fields or {}, request_id=g.get("request_id")
        )
    else:
        response = Response(
            render_template("error.html", status=status, message=message), mimetype="text/html"
        )
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _flatten_webargs(messages: Any) -> dict[str, Any]:
    """webargs nests errors by location ({"json": {...}}); clients care about the fields."""
    fields: dict[str, Any] = {}
    if not isinstance(messages, dict):
        return {"_schema": messages}
    for errors in messages.values():
        if isinstance(errors, dict):
            fields.update(errors)
        else:
            fields.setdefault("_schema", []).extend(
                errors if isinstance(errors, list) else [errors]
            )
    return fields


def handle_domain_error(error: DomainError) -> Response:
    status = next(s for cls, s in DOMAIN_STATUS.items() if isinstance(error, cls))
    headers = {"WWW-Authenticate": 'Bearer realm="api"'} if status == 401 else None
    return _respond(status, error.code, error.message, error.fields, headers)


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    if status >= 500:
        return handle_unexpected(error)
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    code = HTTP_CODES.get(status, "error")
    message = error.description or error.name
    fields: dict[str, Any] = {}
    if messages is not None:
        fields = _flatten_webargs(messages)
        if status == 400 and fields.get("_schema") == ["Invalid JSON body."]:
            code, message, fields = "invalid_json", "The request body is not valid JSON.", {}
        else:
            names = ", ".join(sorted(k for k in fields if k != "_schema")) or "the body"
            message = f"Invalid input in {names}."
    elif status == 413:
        message = "The request body is too large."
    elif status == 405:
        message = f"{request.method} is not allowed on {request.path}."
    elif status == 404:
        message = f"Nothing at {request.path}."
    headers = dict(data.get("headers") or {})
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods or [])
    return _respond(status, code, message, fields, headers)


def handle_unexpected(error: Exception) -> Response:
    if isinstance(error, OperationalError):
        log.warning("database unavailable (request %s): %s", g.get("request_id"), error)
        return _respond(
            503,
            "service_unavailable",
            "The database is unavailable; retry shortly.",
            headers={"Retry-After": "1"},
        )
    original = getattr(error, "original_exception", None) or error
    if isinstance(original, RecursionError):
        return _respond(400, "bad_request", "The request body is nested too deeply.")
    if isinstance(original, OperationalError):
        return handle_unexpected(original)
    log.exception("unhandled error (request %s)", g.get("request_id"), exc_info=original)
    return _respond(500, "internal_error", "Something went wrong on our side; it has been logged.")


def assign_request_id() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex


def echo_request_id(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    return response


def require_json_body() -> Response | None:
    """A body sent to the API must be JSON; say so rather than reporting missing fields."""
    if not request.path.startswith("/api/") or request.method not in ("POST", "PUT", "PATCH"):
        return None
    has_body = bool(request.content_length) or request.headers.get("Transfer-Encoding")
    if has_body and not request.is_json:
        return _respond(415, "unsupported_media_type", "Send the body as application/json.")
    return None


def refuse_unstorable_query() -> Response | None:
    """A NUL in the query string reaches no database (Postgres refuses it): say so, as a 400."""
    for key, values in request.args.lists():
        if "\x00" in key or any("\x00" in v for v in values):
            return _respond(
                400,
                "bad_request",
                "The query string contains a NUL character.",
                {key.replace("\x00", ""): ["NUL characters are not allowed."]},
            )
    return None


def register_error_handlers(app: Flask) -> None:
    """Install the request-id hooks and every error handler on the app."""
    app.before_request(assign_request_id)
    app.before_request(require_json_body)
    app.before_request(refuse_unstorable_query)
    app.after_request(echo_request_id)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(InternalServerError, handle_unexpected)
    app.register_error_handler(Exception, handle_unexpected)
