"""The last ledger check, for the metrics: kept in Redis when REDIS_URL is set (Celery beat runs
the check), otherwise in this process, re-run when older than LEDGER_CHECK_SECONDS."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from flask import Flask

KEY = "exchange:ledger_check"
_local: dict[str, Any] = {}
_lock = threading.Lock()


def record_check(app: Flask, ok: bool, problems: int) -> dict[str, Any]:
    """Store a check's result where every process's /metrics can read it."""
    result = {"ok": ok, "problems": problems, "at": time.time()}
    if app.config.get("REDIS_URL"):
        import redis

        client = redis.Redis.from_url(app.config["REDIS_URL"], socket_timeout=2)
        client.set(KEY, json.dumps(result))
    else:
        _local.update(result)
    return result


def run_check(app: Flask) -> dict[str, Any]:
    """Check the books now and record the result."""
    from billing.checks import check_books
    from extensions import db

    with app.app_context():
        try:
            books = check_books(db.session)
        finally:
            db.session.remove()
    return record_check(app, books.ok, len(books.problems))


def last_check(app: Flask) -> dict[str, Any] | None:
    """The latest result; without Redis, a stale or missing one is refreshed here first."""
    if app.config.get("REDIS_URL"):
        import redis

        try:
            client = redis.Redis.from_url(app.config["REDIS_URL"], socket_timeout=2)
            raw = client.get(KEY)
        except redis.RedisError:
            return None
        return json.loads(raw) if raw else None
    with _lock:
        if not _local or time.time() - _local["at"] > app.config.get("LEDGER_CHECK_SECONDS", 600):
            run_check(app)
        return dict(_local)
