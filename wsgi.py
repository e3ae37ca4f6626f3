"""WSGI entry point: `gunicorn wsgi:app`. Starts the in-process outbox worker unless
DELIVERY_WORKER=0 (set it when Celery workers deliver)."""

from app import create_app
from worker import start_outbox_worker

app = create_app()
if app.config["DELIVERY_WORKER"]:
    start_outbox_worker(app)
