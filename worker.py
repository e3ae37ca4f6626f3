"""The outbox worker: delivers sold leads to buyers, outside any request.

The embedded default runs it as a thread in each web process (`wsgi.py` starts it unless
DELIVERY_WORKER=0); `flask deliveries run` runs it in the foreground; production runs it under
Celery (issue 8). Every step commits on its own, so any process can die at any point.
"""

from __future__ import annotations

import logging
import smtplib
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage

import requests
from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from exchange.delivery import Answer, build_request, claim_due, record, send
from exchange.models import Delivery
from extensions import db

log = logging.getLogger("exchange.delivery")


class HttpSender:
    """POSTs with `requests`; any transport failure becomes an Answer with an error."""

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
        try:
            response = requests.post(url, data=body, headers=headers, timeout=timeout)
        except requests.Timeout:
            return Answer(None, f"timed out after {timeout:g} s")
        except requests.RequestException as exc:
            return Answer(None, f"{type(exc).__name__}: {exc}"[:500])
        return Answer(response.status_code)


class SmtpMailer:
    """Sends a plain-text e-mail through the configured SMTP server."""

    def __init__(self, config: dict) -> None:  # type: ignore[type-arg]
        self.config = config

    def send(self, to: str, subject: str, body: str) -> Answer:
        cfg = self.config
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = cfg["SMTP_FROM"], to, subject
        message.set_content(body)
        try:
            with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=10) as smtp:
                if cfg["SMTP_STARTTLS"]:
                    smtp.starttls()
                if cfg["SMTP_USERNAME"]:
                    smtp.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"])
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            return Answer(550, f"recipient refused: {exc}"[:500])
        except (OSError, smtplib.SMTPException) as exc:
            return Answer(None, f"{type(exc).__name__}: {exc}"[:500])
        return Answer(250)


def deliver_due(app: Flask, sender: object | None = None, *, limit: int = 20) -> int:
    """Claim and send what is due; returns how many deliveries were tried."""
    sender = sender or HttpSender()
    cfg = app.config
    mailer = SmtpMailer(cfg) if cfg["SMTP_HOST"] else None
    with app.app_context():
        ids = claim_due(db.session, limit=limit, lease_seconds=cfg["DELIVERY_LEASE_SECONDS"])
        db.session.commit()
        for delivery_id in ids:
            request = build_request(db.session, delivery_id)
            db.session.rollback()  # no transaction open while the buyer's server answers
            answer, ms = send(
                request,
                sender,  # type: ignore[arg-type]
                timeout=cfg["DELIVERY_TIMEOUT"],
                mailer=mailer,
            )
            delivery = record(
                db.session,
                delivery_id,
                answer,
                duration_ms=ms,
                max_attempts=cfg["DELIVERY_MAX_ATTEMPTS"],
                base_seconds=cfg["DELIVERY_BACKOFF_SECONDS"],
            )
            db.session.commit()
            log.info(
                "delivery %s: %s after %s attempt(s)",
                delivery_id,
                delivery.status.value,
                delivery.attempts,
            )
        db.session.remove()
    return len(ids)


def start_outbox_worker(app: Flask, *, interval: float = 1.0) -> threading.Thread:
    """A daemon thread draining the outbox every `interval` seconds when idle."""

    def loop() -> None:
        while True:
            try:
                if deliver_due(app) == 0:
                    time.sleep(interval)
            except Exception:
                log.exception("outbox worker step failed; retrying")
                time.sleep(interval)

    thread = threading.Thread(target=loop, name="outbox-worker", daemon=True)
    thread.start()
    return thread


def set_outbox_notifier(app: Flask, notify: Callable[[], None]) -> None:
    """Call `notify` after every commit of this app's session that queued a delivery (Celery
    mode enqueues a task there; the in-process worker just polls)."""
    app.extensions["outbox_notify"] = notify
    if not event.contains(Session, "after_flush", _note_new_deliveries):
        event.listen(Session, "after_flush", _note_new_deliveries)
        event.listen(Session, "after_commit", _notify_after_commit)
        event.listen(Session, "after_rollback", _forget_deliveries)


def _note_new_deliveries(session: Session, _flush_context: object) -> None:
    if any(isinstance(obj, Delivery) for obj in session.new):
        session.info["outbox_dirty"] = True


def _forget_deliveries(session: Session) -> None:
    session.info.pop("outbox_dirty", None)


def _notify_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the delivery is not committed (nor visible) yet
    if session.info.pop("outbox_dirty", False) and has_app_context():
        notify = current_app.extensions.get("outbox_notify")
        if notify is not None:
            notify()
