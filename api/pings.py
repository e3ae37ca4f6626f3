"""Ping/post: /api/v1/pings and /api/v1/pings/{ping_id}/post."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app, request
from flask.views import MethodView

from api.auth import current_org, key_required
from api.blueprint import Blueprint
from api.leads import _lead_out, intake_answer
from api.schemas.leads import LeadIn, LeadOut
from api.schemas.pings import PingIn, PingOut
from exchange.models import Role
from exchange.pings import create_ping, post_ping
from extensions import db

blp = Blueprint(
    "pings",
    __name__,
    url_prefix="/api/v1/pings",
    description="Ping/post: a bid on a lead's non-personal data, then the full lead.",
)


@blp.route("")
class Pings(MethodView):
    @key_required(Role.PUBLISHER)
    @blp.arguments(PingIn)
    @blp.response(201, PingOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Ping: what would this lead earn?

        Send the niche, place and niche fields (no personal data). The answer is your payout
        on offer (`bid`) and until when it holds, or `bid: null`. Buyers are never named and
        nothing is reserved.
        """
        ttl = dt.timedelta(seconds=current_app.config["PING_TTL_SECONDS"])
        ping = create_ping(db.session, current_org(), data, ttl=ttl)
        db.session.commit()
        return ping


@blp.route("/<ping_id>/post")
class PingPost(MethodView):
    @key_required(Role.PUBLISHER)
    @blp.arguments(LeadIn)
    @blp.response(201, LeadOut, description="The lead was stored (and sold if a buyer took it).")
    @blp.alt_response(200, schema=LeadOut, description="A replay: the first answer, unchanged.")
    @blp.errors(
        {409: "Nobody bid on the ping (`ping_no_bid`), or its bid expired (`ping_expired`)."}
    )
    def post(self, data: dict[str, Any], ping_id: str) -> Any:
        """Post the full lead for a ping

        Within the ping's validity, with the same niche, place and fields (otherwise 422
        `post_mismatch`, nothing stored). It passes through quality like any lead and sells
        at the promised payout if a buyer still takes it. Posting again returns the first
        answer; after expiry it is 409 `ping_expired`.
        """
        intake = post_ping(
            db.session,
            current_org(),
            ping_id,
            data,
            raw=request.get_json(),
            render=_lead_out.dump,
        )
        response = intake_answer(intake)
        db.session.commit()
        return response
