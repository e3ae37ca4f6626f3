"""A buyer's "send test lead": a made-up lead delivered to a campaign's destination, signed
exactly as a real delivery is, so the buyer can check its receiver before money moves.

Nothing is sold, charged or queued: no sale, no ledger entry, no outbox row. The payload has
the shape of a real delivery (exchange.delivery.payload) with `"test": true` and ids of 0,
and the `Idempotency-Key` starts with `test:` so a receiver can tell it apart.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy.orm import Session

from database import utcnow
from exchange.audit import record_event
from exchange.campaigns import get_campaign
from exchange.delivery import Mailer, Request, Sender, payload, send, sign
from exchange.models import Campaign, FieldType, Lead, Niche, Organization, Sale

SAMPLE_PLACE = {"country": "US", "region": "US-CA", "postal_code": "94103", "city": "San Francisco"}


@dataclass(frozen=True)
class TestLeadResult:
    """What the receiver answered to the test lead."""

    __test__ = False  # not a pytest test class, despite the name

    method: str
    target: str | None
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        """Whether the receiver accepted it (2xx, or 250 from an SMTP server)."""
        code = self.status_code
        return code is not None and (200 <= code < 300 or (self.method == "email" and code == 250))


def sample_fields(niche: Niche) -> dict[str, Any]:
    """A plausible value for each of the niche's fields."""
    values: dict[str, Any] = {}
    for spec in niche.fields:
        if spec.type == FieldType.ENUM:
            values[spec.name] = (spec.choices or ["sample"])[0]
        elif spec.type == FieldType.NUMBER:
            low, high = spec.minimum or 0, spec.maximum
            values[spec.name] = int(low if high is None else (low + high) / 2)
        elif spec.type == FieldType.BOOLEAN:
            values[spec.name] = True
        elif spec.type == FieldType.DATE:
            values[spec.name] = dt.date.today().isoformat()
        else:
            values[spec.name] = "sample"
    return values


def sample_body(campaign: Campaign, now: dt.datetime) -> bytes:
    """The JSON of a test delivery for the campaign: a real delivery's shape, test data."""
    lead = SimpleNamespace(
        id=0,
        niche=campaign.niche,
        first_name="Test",
        last_name="Lead",
        email="test.lead@example.com",
        phone="+14155550100",
        address=None,
        fields=sample_fields(campaign.niche),
        score=80,
        consent_captured_at=now,
        created_at=now,
        **SAMPLE_PLACE,
    )
    sale = SimpleNamespace(
        id=0,
        campaign_id=campaign.id,
        price=0,
        currency=campaign.currency,
        exclusive=campaign.exclusive,
        created_at=now,
    )
    body = payload(cast(Sale, sale), cast(Lead, lead))
    return json.dumps({**body, "test": True}, sort_keys=True).encode()


def prepare_test_lead(
    session: Session, buyer: Organization, campaign_id: int, *, now: dt.datetime | None = None
) -> Request:
    """The signed test request for one of the buyer's campaigns (another buyer's is 404).

    Build it, end the transaction, then `deliver_test_lead`: no lock is held while the
    buyer's server answers."""
    now = now or utcnow()
    campaign = get_campaign(session, buyer, campaign_id)
    method = campaign.delivery.get("method", "portal")
    target = campaign.delivery.get("url") or campaign.delivery.get("email")
    body = sample_body(campaign, now)
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": f"test:{campaign.id}:{secrets.token_hex(8)}",
        "X-Exchange-Signature": sign(campaign.signing_secret, body, int(now.timestamp())),
        "X-Exchange-Test": "1",
    }
    return Request(0, method, target, body, headers)


def deliver_test_lead(
    request: Request, sender: Sender, *, mailer: Mailer | None = None, timeout: float = 5.0
) -> TestLeadResult:
    """Send a prepared test lead and report the receiver's answer (portal: nothing to send)."""
    answer, ms = send(request, sender, timeout=timeout, mailer=mailer)
    return TestLeadResult(
        method=request.method,
        target=request.target,
        status_code=answer.status_code if answer else None,
        error=answer.error if answer else None,
        duration_ms=ms,
    )


def record_test_lead(
    session: Session, buyer: Organization, campaign_id: int, result: TestLeadResult
) -> None:
    """Note the test in the buyer's audit trail (the caller commits)."""
    record_event(
        session,
        "campaign.test_lead",
        organization=buyer,
        actor=buyer,
        target_type="campaign",
        target_id=campaign_id,
        data={"method": result.method, "status_code": result.status_code, "error": result.error},
    )
    session.flush()
