"""Your organisation and its API keys: /api/v1/me and /api/v1/keys."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.auth import current_key, current_org, key_required
from api.blueprint import Blueprint
from api.schemas.accounts import ApiKeyCreated, ApiKeyIn, ApiKeyOut, ApiKeyPage, MeOut
from api.schemas.common import PageQuery
from exchange.accounts import issue_api_key, list_api_keys, revoke_api_key
from extensions import db

blp = Blueprint(
    "keys", __name__, url_prefix="/api/v1", description="Your organisation and API keys."
)


@blp.route("/me")
class Me(MethodView):
    @key_required()
    @blp.response(200, MeOut)
    def get(self) -> Any:
        """Who am I

        The organisation and key this request authenticated as.
        """
        return {"organization": current_org(), "api_key": current_key()}


@blp.route("/keys")
class Keys(MethodView):
    @key_required()
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, ApiKeyPage)
    def get(self, query: dict[str, Any]) -> Any:
        """List your API keys

        Newest first, revoked keys included; the keys themselves are never shown again.
        """
        return list_api_keys(db.session, current_org(), **query)

    @key_required()
    @blp.arguments(ApiKeyIn)
    @blp.response(201, ApiKeyCreated)
    def post(self, data: dict[str, Any]) -> Any:
        """Create an API key

        The response holds the key once; only its hash is stored.
        """
        key, plaintext = issue_api_key(
            db.session, current_org(), name=data["name"], actor=current_org()
        )
        db.session.commit()
        return {**{name: getattr(key, name) for name in ApiKeyOut().fields}, "api_key": plaintext}


@blp.route("/keys/<int:key_id>")
class KeyById(MethodView):
    @key_required()
    @blp.response(200, ApiKeyOut)
    def delete(self, key_id: int) -> Any:
        """Revoke an API key

        The key stops working at once; revoking it again changes nothing.
        """
        key = revoke_api_key(db.session, current_org(), key_id, actor=current_org())
        db.session.commit()
        return key
