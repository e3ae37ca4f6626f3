"""Log lines as JSON (one object a line, with the request id) or as text for development.

`LOG_FORMAT=json` (the default in production) or `text` (the default otherwise).
"""

from __future__ import annotations

import logging

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class RequestContext(logging.Filter):
    """Adds the request id, method and path to records logged inside a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = g.get("request_id", "-")
            record.method, record.path = request.method, request.path
        else:
            record.request_id = getattr(record, "request_id", "-")
        return True


def configure(app: Flask) -> None:
    """Install one handler on the root logger in the configured format (replacing our last)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_exchange", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler()
    handler.addFilter(RequestContext())
    if app.config.get("LOG_FORMAT") == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT))
    handler._exchange = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    logging.getLogger("stripe").setLevel(logging.WARNING)  # one INFO line per API call otherwise
