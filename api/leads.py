"""Lead intake and lead reading: /api/v1/leads."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request, url_for
from flask.views import MethodView

from api.auth import current_org, key_required
from api.blueprint import Blueprint
from api.schemas.common import IdempotencyHeader
from api.schemas.leads import LeadIn, LeadListQuery, LeadOut, LeadPage
from exchange.intake import Intake, submit_lead
from exchange.leads import get_lead, list_leads
from exchange.models import Role
from extensions import db

blp = Blueprint(
    "leads", __name__, url_prefix="/api/v1/leads", description="Submit leads and read your own."
)

_lead_out = LeadOut()


def intake_answer(intake: Intake) -> Response:
    """The stored first answer, sent as it is (keys sorted, as JSONB reorders them) so a
    replay is byte-for-byte the same: 201 the first time, 200 for a replay."""
    response = jsonify(intake.response)
    response.status_code = 200 if intake.replayed else 201
    response.headers["Location"] = url_for("leads.LeadById", lead_id=intake.lead.id)
    return response


@blp.route("")
class Leads(MethodView):
    @key_required(Role.PUBLISHER)
    @blp.arguments(IdempotencyHeader, location="headers", as_kwargs=True)
    @blp.arguments(LeadIn)
    @blp.response(201, LeadOut, description="The lead was stored.")
    @blp.alt_response(200, schema=LeadOut, description="A replay: the first response, unchanged.")
    @blp.errors(
        {409: "The Idempotency-Key was used with a different body (`idempotency_key_reused`)."}
    )
    def post(self, data: dict[str, Any], idempotency_key: str | None = None) -> Any:
        """Submit a lead

        The lead is normalised (E.164 phone, lower-case e-mail, ZIP to state and city) and
        stored with its raw payload. A retry with the same `Idempotency-Key`, or the same
        `external_id` from the same publisher, returns the first response with status 200
        and stores nothing new.
        """
        intake = submit_lead(
            db.session,
            current_org(),
            data,
            raw=request.get_json(),
            idempotency_key=idempotency_key,
            render=_lead_out.dump,
        )
        response = intake_answer(intake)
        db.session.commit()
        return response

    @key_required(Role.PUBLISHER, Role.ADMIN)
    @blp.arguments(LeadListQuery, location="query")
    @blp.response(200, LeadPage)
    def get(self, query: dict[str, Any]) -> Any:
        """List your leads

        Newest first; filter by `status`, `niche` and creation day. Publishers see only
        their own leads.
        """
        return list_leads(db.session, current_org(), **query)


@blp.route("/<int:lead_id>")
class LeadById(MethodView):
    @key_required(Role.PUBLISHER, Role.ADMIN)
    @blp.response(200, LeadOut)
    def get(self, lead_id: int) -> Any:
        """Read one of your leads

        Another publisher's lead answers 404, exactly as a lead that does not exist.
        """
        return get_lead(db.session, current_org(), lead_id)
