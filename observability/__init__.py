"""Operating the exchange: health and readiness probes, JSON logs with the request id,
Prometheus metrics. `init_observability(app)` installs all three."""

from __future__ import annotations

from flask import Flask


def init_observability(app: Flask) -> None:
    """Configure logging, count requests and committed leads/sales, serve the probes."""
    from observability import health, logs, metrics

    logs.configure(app)
    metrics.init_metrics(app)
    app.register_blueprint(health.bp)
