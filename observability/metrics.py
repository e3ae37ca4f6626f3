"""Prometheus metrics: requests and latencies, committed leads by verdict and sales, the
delivery backlog and the last ledger check.

Under gunicorn with several workers, `PROMETHEUS_MULTIPROC_DIR` (set by gunicorn.conf.py)
makes every worker write its samples there and `/metrics` add them up.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask, current_app, g, request
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.orm import Session

from exchange.tally import drop_rolled_back, take

REQUESTS = Counter(
    "exchange_http_requests_total", "HTTP requests answered", ["method", "endpoint", "status"]
)
LATENCY = Histogram(
    "exchange_http_request_seconds",
    "Time to answer a request",
    ["method", "endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
LEADS = Counter("exchange_leads_total", "Leads stored (committed), by verdict", ["verdict"])
ACCESS = logging.getLogger("exchange.access")
SALES = Counter("exchange_sales_total", "Sales made (committed), by niche", ["niche"])


class DatabaseCollector(Collector):
    """Gauges read from the database when scraped: the delivery backlog and the ledger check."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from exchange.delivery import pending_count
        from extensions import db
        from observability.ledger_watch import last_check

        with self.app.app_context():
            try:
                backlog = pending_count(db.session)
            finally:
                db.session.remove()
        yield GaugeMetricFamily(
            "exchange_delivery_backlog", "Sold leads not yet delivered", value=backlog
        )
        check = last_check(self.app)
        if check is not None:
            yield GaugeMetricFamily(
                "exchange_ledger_check_ok",
                "1 when the last ledger check found the books balanced",
                value=1 if check["ok"] else 0,
            )
            yield GaugeMetricFamily(
                "exchange_ledger_check_timestamp_seconds",
                "When the ledger was last checked (Unix time)",
                value=check["at"],
            )


def _count_committed(session: Session) -> None:
    if session.in_nested_transaction():
        return  # after_commit fires for a released savepoint too; count at the real commit
    for name, label in take(session):
        if name == "lead":
            LEADS.labels(verdict=label).inc()
        elif name == "sale":
            SALES.labels(niche=label).inc()


def _drop_uncommitted(session: Session, transaction: Any) -> None:
    drop_rolled_back(session, transaction)


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Any) -> Any:
    started = g.pop("metrics_started", None)
    endpoint = request.url_rule.endpoint if request.url_rule else "unmatched"
    if endpoint in ("health.metrics",):
        return response
    REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
    if started is not None:
        seconds = time.perf_counter() - started
        LATENCY.labels(request.method, endpoint).observe(seconds)
        if current_app.config.get("ACCESS_LOG"):
            ACCESS.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={"status": response.status_code, "ms": round(seconds * 1000, 1)},
            )
    return response


def render(app: Flask) -> bytes:
    """The exposition text: this process's metrics (or all workers') plus the database gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        for collector in (REQUESTS, LATENCY, LEADS, SALES):
            registry.register(_Forward(collector))
    registry.register(DatabaseCollector(app))
    return generate_latest(registry)


class _Forward(Collector):
    """Re-exposes a metric of the global registry in a per-scrape registry."""

    def __init__(self, metric: Any):
        self.metric = metric

    def collect(self) -> Any:
        return self.metric.collect()


_listening = False


def init_metrics(app: Flask) -> None:
    """Time every request, and count leads and sales when their transaction commits."""
    global _listening
    app.before_request(_start_timer)
    app.after_request(_observe)
    if not _listening:
        event.listen(Session, "after_commit", _count_committed)
        event.listen(Session, "after_soft_rollback", _drop_uncommitted)
        _listening = True
