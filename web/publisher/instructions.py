"""Posting instructions per niche, generated from the niche's field definitions: the fields,
an example request that is valid for the niche, curl commands, and the ping/post flow."""

from __future__ import annotations

import json
import shlex
from typing import Any

from flask import current_app, render_template, request
from sqlalchemy import select

from exchange.models import Niche, Role
from extensions import db
from web.guard import portal
from web.publisher import bp
from web.publisher.examples import example_lead, example_value, ping_body


def curl(url: str, body: dict[str, Any], *, idempotency: bool = False) -> str:
    """A curl command posting `body` as JSON with the publisher's key."""
    lines = [
        f"curl -X POST {url}",
        '  -H "Authorization: Bearer <your key>"',
        '  -H "Content-Type: application/json"',
    ]
    if idempotency:
        lines.append('  -H "Idempotency-Key: your-id-1001"')
    lines.append(f"  -d {shlex.quote(json.dumps(body, indent=2))}")
    return " \\\n".join(lines)


@bp.get("/instructions")
@bp.get("/instructions/<slug>")
@portal(Role.PUBLISHER)
def instructions(slug: str | None = None) -> Any:
    """How to post leads to one niche (the first niche when none is chosen)."""
    niches = list(db.session.scalars(select(Niche).where(Niche.is_active).order_by(Niche.name)))
    niche = next((n for n in niches if n.slug == slug), None) if slug else None
    if slug and niche is None:
        message = f"No niche {slug!r} accepts leads."
        return render_template("error.html", status=404, message=message), 404
    niche = niche or (niches[0] if niches else None)
    context: dict[str, Any] = {"niches": niches, "niche": niche}
    if niche is not None:
        base = request.host_url.rstrip("/")
        lead = example_lead(niche)
        ping = ping_body(lead)
        context.update(
            base=base,
            lead_json=json.dumps(lead, indent=2),
            ping_json=json.dumps(ping, indent=2),
            curl_lead=curl(f"{base}/api/v1/leads", lead, idempotency=True),
            curl_ping=curl(f"{base}/api/v1/pings", ping),
            curl_post=curl(f"{base}/api/v1/pings/<ping_id>/post", lead),
            examples={f.name: example_value(f) for f in niche.fields},
            ping_ttl=current_app.config.get("PING_TTL_SECONDS"),
        )
    return render_template("publisher/instructions.html", **context)
