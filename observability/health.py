"""Probes and metrics: /healthz (the process answers), /readyz (the database and Redis answer),
/metrics (Prometheus text format; METRICS_TOKEN, when set, is required as a bearer token)."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import text

from extensions import csrf, db, limiter

bp = Blueprint("health", __name__)
csrf.exempt(bp)
limiter.exempt(bp)
log = logging.getLogger("exchange.health")


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness: the process is up and answering; touches nothing else."""
    return jsonify(status="ok")


def _database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # any failure means not ready; the reason goes to the log
        log.warning("readiness: database unavailable: %s", exc)
        return "unavailable"
    finally:
        db.session.remove()


def _redis() -> str | None:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping()
        return "ok"
    except redis.RedisError as exc:
        log.warning("readiness: redis unavailable: %s", exc)
        return "unavailable"


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Readiness: 200 when the database (and Redis, when configured) answer, else 503."""
    checks: dict[str, Any] = {"database": _database()}
    redis_state = _redis()
    if redis_state is not None:
        checks["redis"] = redis_state
    ready = all(v == "ok" for v in checks.values())
    return jsonify(status="ready" if ready else "unavailable", checks=checks), (
        200 if ready else 503
    )


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus metrics of every worker process plus gauges read from the database."""
    from observability.metrics import render

    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return Response("metrics need the bearer token\n", status=401, mimetype="text/plain")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return Response(render(app), mimetype="text/plain; version=0.0.4")
