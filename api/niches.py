"""Niche definitions: /api/v1/niches (read by anyone, written by admins)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.auth import current_org, key_required
from api.blueprint import Blueprint
from api.schemas.common import PageQuery
from api.schemas.niches import NicheIn, NicheOut, NichePage, NicheSettings
from exchange.models import Role
from exchange.niches import create_niche, get_niche, list_niches, update_niche
from extensions import db

blp = Blueprint(
    "niches",
    __name__,
    url_prefix="/api/v1/niches",
    description="Niches (verticals) and the fields each one asks of a lead.",
)
PUBLIC: list[dict[str, list[str]]] = []


@blp.route("")
class Niches(MethodView):
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, NichePage)
    @blp.doc(security=PUBLIC)
    def get(self, query: dict[str, Any]) -> Any:
        """List niches

        Public: every niche with its field definitions, newest first.
        """
        return list_niches(db.session, **query)

    @key_required(Role.ADMIN)
    @blp.arguments(NicheIn)
    @blp.response(201, NicheOut)
    @blp.errors({409: "A niche has that slug already (`slug_taken`)."})
    def post(self, data: dict[str, Any]) -> Any:
        """Create a niche (admin)

        Defines the niche's typed fields, return and duplicate windows, quality thresholds
        and currency. The slug is permanent.
        """
        niche = create_niche(db.session, current_org(), data)
        db.session.commit()
        return niche


@blp.route("/<string:slug>")
class NicheBySlug(MethodView):
    @blp.response(200, NicheOut)
    @blp.doc(security=PUBLIC)
    def get(self, slug: str) -> Any:
        """Read a niche

        Public: the niche's settings and field definitions.
        """
        return get_niche(db.session, slug)

    @key_required(Role.ADMIN)
    @blp.arguments(NicheSettings)
    @blp.response(200, NicheOut)
    def patch(self, data: dict[str, Any], slug: str) -> Any:
        """Edit a niche (admin)

        Only the given settings change; a `fields` list replaces the field definitions
        (fields keep their identity by name). Leads already stored keep their values.
        """
        niche = update_niche(db.session, current_org(), slug, data)
        db.session.commit()
        return niche
