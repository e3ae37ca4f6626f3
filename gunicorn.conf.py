"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Workers default to 2 x cores + 1 (WEB_CONCURRENCY overrides), each with a few threads for
requests that wait on the database. Prometheus samples of every worker are written to
PROMETHEUS_MULTIPROC_DIR so /metrics adds them up.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile

bind = os.environ.get(
    "BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
)
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then, so a slow leak never grows without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 10000))
max_requests_jitter = 1000
# The app logs every request itself (JSON with the request id); gunicorn logs errors only.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Load the app in each worker after the fork: database pools and threads are per process.
preload_app = False

_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if not _metrics_dir:
    _metrics_dir = tempfile.mkdtemp(prefix="exchange-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir


def on_starting(server):
    """Start with an empty metrics directory (samples of a previous run would add up)."""
    shutil.rmtree(_metrics_dir, ignore_errors=True)
    os.makedirs(_metrics_dir, exist_ok=True)


def child_exit(server, worker):
    """A worker gone: its live gauges no longer count."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
