"""Celery for the production mode: background work when REDIS_URL is set.

    celery -A celery_app:celery worker --beat      (one machine: worker and scheduler together)

The outbox stays the source of truth for deliveries: a sale writes its Delivery row in the
sale's transaction, and after that commit the web process enqueues `exchange.deliver_outbox`
so the lead leaves within milliseconds. Beat also runs the outbox sweep every few seconds, so a
lost message or a worker killed mid-delivery (its lease runs out) loses nothing. The other
scheduled jobs are the `flask ...` commands' jobs (jobs.py), one unit of work per commit.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from celery import Celery
from celery.schedules import crontab
from flask import Flask

import jobs
from worker import deliver_due

log = logging.getLogger("exchange.celery")

DELIVER_OUTBOX = "exchange.deliver_outbox"


def make_celery(flask_app: Flask) -> Celery:
    """A Celery app on the Flask app's REDIS_URL whose tasks run inside its app context."""
    cfg = flask_app.config
    celery = Celery("exchange", broker=cfg["REDIS_URL"], set_as_current=False)
    celery.conf.update(
        task_acks_late=True,  # a task whose worker dies is given to another worker
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        # A web request enqueueing after its commit must not hang on a broker that is down.
        broker_transport_options={"socket_connect_timeout": 2},
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
        worker_hijack_root_logger=False,
        timezone="UTC",
        beat_schedule_filename=str(flask_app.instance_path) + "/celerybeat-schedule",
        beat_schedule={
            "outbox-sweep": {"task": DELIVER_OUTBOX, "schedule": cfg["OUTBOX_SWEEP_SECONDS"]},
            "auto-topups": {"task": "billing.auto_topups", "schedule": 60.0},
            "release-earnings": {"task": "billing.release_earnings", "schedule": 3600.0},
            "rematch-unsold": {"task": "exchange.rematch_unsold", "schedule": 3600.0},
            "payouts": {"task": "billing.pay_publishers", "schedule": crontab(hour=3, minute=0)},
            "ledger-check": {"task": "billing.check_ledger", "schedule": 600.0},
            "retrain-models": {
                "task": "quality.retrain_due",
                "schedule": crontab(hour=4, minute=0),
            },
        },
    )

    def in_app(fn: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            from extensions import db

            with flask_app.app_context():
                try:
                    return fn(*args, **kwargs)
                finally:
                    db.session.remove()

        run.__name__ = fn.__name__
        run.__doc__ = fn.__doc__
        return run

    def gateway() -> Any:
        gw = flask_app.extensions.get("payment_gateway")
        if gw is None:
            log.warning("no payment gateway configured (STRIPE_SECRET_KEY); job skipped")
        return gw

    @celery.task(name=DELIVER_OUTBOX)
    def deliver_outbox() -> int:
        """Drain what is due in the outbox (bounded, so one task never runs forever)."""
        total = 0
        for _ in range(50):
            tried = deliver_due(flask_app)
            total += tried
            if not tried:
                break
        return total

    @celery.task(name="exchange.rematch_unsold")
    @in_app
    def rematch_unsold() -> tuple[int, int]:
        return jobs.rematch_unsold()

    @celery.task(name="billing.release_earnings")
    @in_app
    def release_earnings() -> int:
        return jobs.release_earnings()

    @celery.task(name="billing.pay_publishers")
    @in_app
    def pay_publishers() -> int:
        gw = gateway()
        return len(jobs.pay_publishers(gw, cfg["PAYOUT_MINIMUM"])[1]) if gw else 0

    @celery.task(name="billing.auto_topups")
    @in_app
    def auto_topups() -> int:
        gw = gateway()
        return len(jobs.run_auto_topups(gw)) if gw else 0

    @celery.task(name="billing.check_ledger")
    def check_ledger() -> bool:
        """Reconcile the books and publish the result for /metrics (observability)."""
        from observability.ledger_watch import run_check

        return bool(run_check(flask_app)["ok"])

    @celery.task(name="quality.retrain_due")
    @in_app
    def retrain_due() -> int:
        return jobs.retrain_due_models(echo=log.info)

    return celery


def init_celery(flask_app: Flask) -> Celery:
    """Attach Celery to the app: committed sales wake a worker through the broker."""
    from worker import set_outbox_notifier

    celery = make_celery(flask_app)
    flask_app.extensions["celery"] = celery

    def notify() -> None:
        try:
            celery.send_task(DELIVER_OUTBOX)
        except Exception:  # the broker being down must not fail a committed sale
            log.warning("could not enqueue the outbox task; the beat sweep will deliver")

    set_outbox_notifier(flask_app, notify)
    return celery


@functools.cache
def _worker_app() -> Celery:
    from app import create_app

    flask_app = create_app()
    if not flask_app.config["REDIS_URL"]:
        raise RuntimeError("set REDIS_URL to run Celery workers")
    return flask_app.extensions["celery"]  # type: ignore[no-any-return]


def __getattr__(name: str) -> Any:
    # `celery -A celery_app:celery` builds the Flask app only when a worker asks for it.
    if name == "celery":
        return _worker_app()
    raise AttributeError(name)
