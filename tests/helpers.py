"""Request bodies and small helpers shared by tests."""

from __future__ import annotations

import datetime as dt
from typing import Any


def solar_lead(n: int = 0, **overrides: Any) -> dict[str, Any]:
    """A valid solar lead body that passes quality; a different `n` is a different person."""
    captured = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    body: dict[str, Any] = {
        "niche": "solar",
        "first_name": "Maria",
        "last_name": "Lopez",
        "email": f"Maria.Lopez{n or ''}@Gmail.com",
        "phone": f"(415) 555-{2671 + n}",
        "country": "US",
        "postal_code": "94103",
        "ip": f"203.0.113.{(7 + n) % 250}",
        "source": "google",
        "sub_id": "aff-12",
        "form_seconds": 42.5,
        "consent": {
            "text": "I agree to be contacted about solar.",
            "url": "https://solar.example.org/quote",
            # Whole minutes, so two calls within a test build the same body.
            "captured_at": captured.replace(second=0, microsecond=0).isoformat(),
        },
        "fields": {"homeowner": True, "monthly_electric_bill": 180, "roof_type": "asphalt"},
    }
    body.update(overrides)
    return body
