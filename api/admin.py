"""Admin tools: the review queue and re-running quality checks (/api/v1/admin)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.auth import current_org, key_required
from api.blueprint import Blueprint
from api.schemas.leads import AdminLeadOut, AdminLeadPage, ReviewDecisionIn, ReviewQuery
from exchange.models import Role
from exchange.reviews import decide_review, list_reviews, reassess_lead
from extensions import db

blp = Blueprint(
    "admin", __name__, url_prefix="/api/v1/admin", description="Moderation (admin keys only)."
)


@blp.route("/reviews")
class Reviews(MethodView):
    @key_required(Role.ADMIN)
    @blp.arguments(ReviewQuery, location="query")
    @blp.response(200, AdminLeadPage)
    def get(self, query: dict[str, Any]) -> Any:
        """The review queue

        Leads whose quality verdict was `review`, oldest first; filter by niche, publisher
        and reason code.
        """
        return list_reviews(db.session, current_org(), **query)


@blp.route("/reviews/<int:lead_id>")
class ReviewDecision(MethodView):
    @key_required(Role.ADMIN)
    @blp.arguments(ReviewDecisionIn)
    @blp.response(200, AdminLeadOut)
    @blp.errors({409: "The lead is not in review (`not_in_review`)."})
    def post(self, data: dict[str, Any], lead_id: int) -> Any:
        """Decide a lead in review

        `accept` sends the lead on as if it had passed; `reject` keeps it rejected. The
        decision, its note, the admin and the time go to the audit log.
        """
        lead = decide_review(db.session, current_org(), lead_id, data["decision"], data["note"])
        db.session.commit()
        return lead


@blp.route("/leads/<int:lead_id>/reassess")
class Reassess(MethodView):
    @key_required(Role.ADMIN)
    @blp.response(200, AdminLeadOut)
    @blp.errors({409: "The lead's status cannot be re-assessed (`conflict`)."})
    def post(self, lead_id: int) -> Any:
        """Re-run the quality checks on a lead

        For a lead not yet sold, after a rule or niche change; the new report replaces the old.
        """
        lead = reassess_lead(db.session, current_org(), lead_id)
        db.session.commit()
        return lead
