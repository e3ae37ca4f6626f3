"""Delivering sold leads to buyers from the outbox: signed webhooks with retries.

A delivery is claimed with a lease (its next attempt moved a little into the future, the
attempt counted) and committed before the buyer's server is called, so no lock is held during
the call and a worker killed mid-call loses nothing: when the lease runs out another worker
sends it again, with the same `Idempotency-Key`. Timeouts, connection errors, 408, 429 and
5xx are retried with exponential back-off; other answers, or too many attempts, fail the
delivery visibly. Portal deliveries are done as soon as they are claimed.

Signature, in Stripe's style: `X-Exchange-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<body>" with the campaign's signing secret>`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from database import utcnow
from exchange.models import (
    Campaign,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Lead,
    Sale,
)

LEASE_SECONDS = 60.0
RETRY_STATUSES = frozenset({408, 429})


@dataclass(frozen=True)
class Answer:
    """What the buyer's server said: a status code, or an error (timeout, refused...)."""

    status_code: int | None
    error: str | None = None


class Sender(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer: ...


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> Answer: ...


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The X-Exchange-Signature header for `body`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def backoff(attempts: int, base_seconds: float) -> dt.timedelta:
    """Wait before the next try: base, 2x, 4x... capped at one hour."""
    return dt.timedelta(seconds=min(3600.0, base_seconds * 2 ** max(0, attempts - 1)))


def claim_due(
    session: Session,
    *,
    now: dt.datetime | None = None,
    limit: int = 20,
    lease_seconds: float = LEASE_SECONDS,
) -> list[int]:
    """Claim up to `limit` due deliveries (skipping rows another worker holds): each gets a
    lease and one more attempt counted. The caller commits before sending."""
    now = now or utcnow()
    rows = session.scalars(
        select(Delivery)
        .where(Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now)
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for delivery in rows:
        delivery.attempts += 1
        delivery.next_attempt_at = now + dt.timedelta(seconds=lease_seconds)
    session.flush()
    return [d.id for d in rows]


def payload(sale: Sale, lead: Lead) -> dict[str, Any]:
    """The JSON a buyer receives for a sale."""
    return {
        "sale_id": sale.id,
        "campaign_id": sale.campaign_id,
        "price": sale.price,
        "currency": sale.currency,
        "exclusive": sale.exclusive,
        "sold_at": sale.created_at.isoformat(),
        "lead": {
            "id": lead.id,
            "niche": lead.niche.slug,
            "first_name": lead.first_name,
            "last_name": lead.last_name,
            "email": lead.email,
            "phone": lead.phone,
            "country": lead.country,
            "region": lead.region,
            "postal_code": lead.postal_code,
            "city": lead.city,
            "address": lead.address,
            "fields": lead.fields,
            "score": lead.score,
            "consent_captured_at": (
                lead.consent_captured_at.isoformat() if lead.consent_captured_at else None
            ),
            "created_at": lead.created_at.isoformat(),
        },
    }


@dataclass(frozen=True)
class Request:
    """What to send for a claimed delivery (built inside a short read)."""

    delivery_id: int
    method: str
    target: str | None  # the webhook URL or the e-mail address
    body: bytes
    headers: dict[str, str]


def build_request(session: Session, delivery_id: int, *, now: dt.datetime | None = None) -> Request:
    delivery = session.get(Delivery, delivery_id)
    assert delivery is not None
    sale = session.get(Sale, delivery.sale_id)
    assert sale is not None
    lead = session.get(Lead, sale.lead_id)
    campaign = session.get(Campaign, sale.campaign_id)
    assert lead is not None and campaign is not None
    body = json.dumps(payload(sale, lead), sort_keys=True).encode()
    ts = int((now or utcnow()).timestamp())
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": f"delivery:{delivery.id}",
        "X-Exchange-Signature": sign(campaign.signing_secret, body, ts),
    }
    return Request(delivery.id, delivery.method, delivery.target, body, headers)


def record(
    session: Session,
    delivery_id: int,
    answer: Answer | None,
    *,
    duration_ms: int = 0,
    max_attempts: int = 5,
    base_seconds: float = 30.0,
    now: dt.datetime | None = None,
) -> Delivery:
    """Write the attempt and what follows: delivered, retried later, or failed for good.
    `answer` None means nothing had to be sent (portal)."""
    now = now or utcnow()
    delivery = session.scalar(select(Delivery).where(Delivery.id == delivery_id).with_for_update())
    assert delivery is not None
    if delivery.status != DeliveryStatus.PENDING:
        return delivery  # another worker finished it meanwhile
    if answer is None:
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
        session.flush()
        return delivery
    session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            attempted_at=now,
            status_code=answer.status_code,
            error=answer.error,
            duration_ms=duration_ms,
        )
    )
    code = answer.status_code
    if code is not None and 200 <= code < 300:
        delivery.status, delivery.delivered_at, delivery.last_error = (
            DeliveryStatus.DELIVERED,
            now,
            None,
        )
    else:
        delivery.last_error = answer.error or f"HTTP {code}"
        retryable = code is None or code >= 500 or code in RETRY_STATUSES
        if retryable and delivery.attempts < max_attempts:
            delivery.next_attempt_at = now + backoff(delivery.attempts, base_seconds)
        else:
            delivery.status = DeliveryStatus.FAILED
    session.flush()
    return delivery


def send(
    request: Request, sender: Sender, *, timeout: float = 10.0, mailer: Mailer | None = None
) -> tuple[Answer | None, int]:
    """Send one request: POST for a webhook, an e-mail, nothing for the portal.
    Returns (answer, milliseconds); a 2xx answer (or 250 from SMTP) counts as delivered."""
    started = time.monotonic()
    if request.method == "webhook" and request.target:
        answer = sender.post(request.target, request.body, request.headers, timeout)
    elif request.method == "email" and request.target:
        if mailer is None:
            answer = Answer(None, "SMTP is not configured (set SMTP_HOST)")
        else:
            lead = json.loads(request.body)["lead"]
            subject = f"New lead #{lead['id']}: {lead['first_name']} {lead['last_name']}".strip()
            text = json.dumps(json.loads(request.body), indent=2, sort_keys=True)
            answer = mailer.send(request.target, subject, text)
    else:
        return None, 0
    return answer, int((time.monotonic() - started) * 1000)


def pending_count(session: Session) -> int:
    """Deliveries not yet done (the backlog)."""
    stmt = select(func.count()).select_from(Delivery)
    return int(session.scalar(stmt.where(Delivery.status == DeliveryStatus.PENDING)) or 0)
