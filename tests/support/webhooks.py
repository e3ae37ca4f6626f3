"""Signing webhook bodies the way Stripe does (t=<unix time>,v1=<HMAC-SHA256>)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """A Stripe-Signature header value for `body`."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def event_body(event_id: str, event_type: str, obj: dict[str, Any]) -> bytes:
    """A minimal Stripe event around `obj`."""
    event = {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": obj},
    }
    return json.dumps(event).encode()
