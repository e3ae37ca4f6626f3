"""Ping/post: a publisher offers a lead without personal data and gets a bid (its payout)
valid for a short time; the full lead posted within that time, matching the ping, sells at
the promised payout if it passes quality and a buyer still takes it. A ping reserves nothing,
so an expired ping leaks nothing."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from database import utcnow
from exchange.errors import Conflict, InvalidInput, NotFound
from exchange.intake import Intake, Renderer, submit_lead
from exchange.matching import offers
from exchange.models import Lead, LeadStatus, Niche, Organization, Ping
from exchange.niche_fields import clean_lead_fields
from exchange.niches import get_niche
from exchange.pricing import payout_on, payout_terms
from exchange.regions import resolve_region
from exchange.sales import plans_for

DEFAULT_TTL = dt.timedelta(seconds=60)


def _niche_named(session: Session, slug: str) -> Niche:
    # The niche is a value of the body, like a lead's: unknown is invalid input, not a 404.
    try:
        return get_niche(session, slug)
    except NotFound:
        raise InvalidInput(f"No niche {slug!r}.", fields={"niche": ["No such niche."]}) from None


def create_ping(
    session: Session,
    publisher: Organization,
    data: dict[str, Any],
    *,
    ttl: dt.timedelta = DEFAULT_TTL,
    now: dt.datetime | None = None,
) -> Ping:
    """Price a lead's non-personal data against the campaigns; store the offer."""
    now = now or utcnow()
    niche = _niche_named(session, data["niche"])
    place = resolve_region(data["country"], data.get("region"), data.get("postal_code"), None)
    fields = clean_lead_fields(niche, data.get("fields") or {})
    # The lead as matching sees it, scored at the niche's acceptance threshold: a post that
    # scores lower is refused by quality anyway.
    probe = Lead(
        niche=niche,
        niche_id=niche.id,
        publisher_id=publisher.id,
        country=place.country,
        region=place.region,
        postal_code=place.postal_code,
        fields=fields,
        score=niche.accept_score,
        quality=None,
        status=LeadStatus.UNSOLD,
        created_at=now,
    )
    found, _rule = offers(session, probe, now=now)
    if probe in session:
        session.expunge(probe)
    bid = None
    plans = plans_for(probe, found)
    if plans:
        plan = plans[0]
        winners = plan[:1] if plan[0].campaign.exclusive else plan[: max(1, niche.max_buyers)]
        terms = payout_terms(session, niche, publisher.id)
        bid = sum(payout_on(o.price, *terms) for o in winners) or None
    ping = Ping(
        token="png_" + secrets.token_urlsafe(18),
        publisher_id=publisher.id,
        niche_id=niche.id,
        country=place.country,
        region=place.region,
        postal_code=place.postal_code,
        fields=fields,
        bid=bid,
        currency=niche.currency,
        expires_at=now + ttl,
        created_at=now,
    )
    session.add(ping)
    session.flush()
    return ping


def get_ping(session: Session, publisher: Organization, token: str) -> Ping:
    ping = session.scalar(select(Ping).where(Ping.token == token))
    if ping is None or ping.publisher_id != publisher.id:
        raise NotFound(f"No ping {token}.")
    return ping


def _mismatches(session: Session, ping: Ping, data: dict[str, Any]) -> dict[str, list[str]]:
    niche = _niche_named(session, data["niche"])
    problems: dict[str, list[str]] = {}
    if niche.id != ping.niche_id:
        problems["niche"] = ["Differs from the ping."]
        return problems
    place = resolve_region(
        data["country"], data.get("region"), data.get("postal_code"), data.get("city")
    )
    for name in ("country", "region", "postal_code"):
        pinged = getattr(ping, name)
        if pinged is not None and getattr(place, name) != pinged:
            problems[name] = [f"Pinged as {pinged!r}."]
    posted = clean_lead_fields(niche, data.get("fields") or {})
    for name, value in ping.fields.items():
        if posted.get(name) != value:
            problems[f"fields.{name}"] = [f"Pinged as {value!r}."]
    return problems


def post_ping(
    session: Session,
    publisher: Organization,
    token: str,
    data: dict[str, Any],
    *,
    raw: dict[str, Any] | None,
    render: Renderer,
    now: dt.datetime | None = None,
) -> Intake:
    """The full lead for a ping: stored and sold like a direct post, at the promised payout.

    Posting again returns the first answer; a post after expiry, or one that differs from
    its ping, is refused and nothing is stored.
    """
    now = now or utcnow()
    ping = session.scalar(select(Ping).where(Ping.token == token).with_for_update())
    if ping is None or ping.publisher_id != publisher.id:
        raise NotFound(f"No ping {token}.")
    key = f"ping:{ping.token}"
    if ping.lead_id is None:
        if ping.bid is None:
            raise Conflict("Nobody bid on this ping; post the lead directly.", code="ping_no_bid")
        if now > ping.expires_at:
            raise Conflict("The ping's bid has expired; ping again.", code="ping_expired")
        problems = _mismatches(session, ping, data)
        if problems:
            raise InvalidInput(
                "The post does not match its ping: " + ", ".join(problems) + ".",
                code="post_mismatch",
                fields=problems,
            )
    intake = submit_lead(
        session,
        publisher,
        data,
        raw=raw,
        idempotency_key=key,
        render=render,
        promised_payout=ping.bid,
    )
    ping.lead_id = intake.lead.id
    session.flush()
    return intake
