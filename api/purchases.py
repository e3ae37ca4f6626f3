"""What buyers bought (/api/v1/purchases) and the actions they report (/api/v1/conversions)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.auth import current_org, key_required
from api.blueprint import Blueprint
from api.schemas.purchases import (
    ConversionIn,
    ConversionOut,
    PipelineIn,
    PurchaseOut,
    PurchasePage,
    PurchaseQuery,
)
from exchange.models import Role
from exchange.purchases import get_purchase, list_purchases, report_conversion, update_pipeline
from extensions import db

blp = Blueprint(
    "purchases",
    __name__,
    url_prefix="/api/v1",
    description="Your purchased leads, their pipeline status, and conversions (pay per action).",
)


@blp.route("/purchases")
class Purchases(MethodView):
    @key_required(Role.BUYER)
    @blp.arguments(PurchaseQuery, location="query")
    @blp.response(200, PurchasePage)
    def get(self, query: dict[str, Any]) -> Any:
        """Your purchases, newest first, each with the full lead"""
        return list_purchases(db.session, current_org(), **query)


@blp.route("/purchases/<int:sale_id>")
class PurchaseById(MethodView):
    @key_required(Role.BUYER)
    @blp.response(200, PurchaseOut)
    def get(self, sale_id: int) -> Any:
        """One purchase with its lead"""
        return get_purchase(db.session, current_org(), sale_id)

    @key_required(Role.BUYER)
    @blp.arguments(PipelineIn)
    @blp.response(200, PurchaseOut)
    def patch(self, data: dict[str, Any], sale_id: int) -> Any:
        """Move a purchase along your pipeline

        contacted, qualified (MQL to SQL), converted or lost (with an optional reason). Each
        step is an outcome the quality model learns from.
        """
        sale = update_pipeline(
            db.session, current_org(), sale_id, data["status"], data.get("lost_reason")
        )
        db.session.commit()
        return sale


@blp.route("/conversions")
class Conversions(MethodView):
    @key_required(Role.BUYER)
    @blp.arguments(ConversionIn)
    @blp.response(201, ConversionOut)
    @blp.alt_response(200, schema=ConversionOut, description="Reported before: nothing changed.")
    @blp.errors(
        {
            404: "You did not buy that lead or sale.",
            409: "The sale was returned (`sale_returned`), or the `transaction_id` was"
            " reported for another action (`transaction_id_reused`).",
        }
    )
    def post(self, data: dict[str, Any]) -> Any:
        """Report an action on a lead you bought

        For a CPA campaign paying for the action, its amount is charged once per
        `transaction_id`, however often it is reported. For every campaign the lead is marked
        converted. A lead you did not buy is 404.
        """
        conversion, created = report_conversion(db.session, current_org(), data)
        db.session.commit()
        return conversion, 201 if created else 200
