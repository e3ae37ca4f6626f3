"""Request bodies and small helpers shared by tests."""

from __future__ import annotations

from typing import Any


def solar_lead(**overrides: Any) -> dict[str, Any]:
    """A valid solar lead body."""
    body: dict[str, Any] = {
        "niche": "solar",
        "first_name": "Maria",
        "last_name": "Lopez",
        "email": "Maria.Lopez@Example.com",
        "phone": "(415) 555-2671",
        "country": "US",
        "postal_code": "94103",
        "ip": "203.0.113.7",
        "source": "google",
        "sub_id": "aff-12",
        "consent": {
            "text": "I agree to be contacted about solar.",
            "url": "https://solar.example.com/quote",
            "captured_at": "2026-11-01T10:00:00+00:00",
        },
        "fields": {"homeowner": True, "monthly_electric_bill": 180, "roof_type": "asphalt"},
    }
    body.update(overrides)
    return body
