"""Returns and disputes (/api/v1/purchases/{id}/returns, /api/v1/returns, admin rulings),
the sources' quality table and publisher flags."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.auth import current_org, key_required
from api.blueprint import Blueprint
from api.schemas.returns import (
    AdminReturnOut,
    AdminReturnPage,
    AdminReturnQuery,
    AdminSourceQuery,
    BuyerTermsIn,
    BuyerTermsOut,
    ClearFlagIn,
    DecisionIn,
    FlagOut,
    FlagQuery,
    ResponseIn,
    ReturnIn,
    ReturnOut,
    ReturnPage,
    ReturnQuery,
    SourceQuery,
    SourceTable,
)
from exchange.models import Role
from exchange.returns import (
    admin_queue,
    decide,
    file_dispute,
    file_return,
    get_return,
    list_returns,
    respond,
    set_buyer_terms,
)
from exchange.source_quality import clear_flag, list_flags, source_report
from extensions import db

blp = Blueprint(
    "returns",
    __name__,
    url_prefix="/api/v1",
    description="Returns of bad leads and disputes of CPA charges: filing, the publisher's "
    "answer, rulings, and the money moving back once.",
)


@blp.route("/purchases/<int:sale_id>/returns")
class FileReturn(MethodView):
    @key_required(Role.BUYER)
    @blp.arguments(ReturnIn)
    @blp.response(201, ReturnOut)
    @blp.errors(
        {
            409: "The sale cannot be returned: `already_returned`, `return_pending`,"
            " `return_window_closed`, `return_cap_reached` or `sale_converted`."
        }
    )
    def post(self, data: dict[str, Any], sale_id: int) -> Any:
        """Return a purchased lead

        With a reason code the niche accepts (`other` needs a note) and optional evidence,
        inside the return window (niche's default 72 hours from the sale, or your contract's).
        The lead is re-checked at once: when the check proves the reason (an invalid phone or
        e-mail, a duplicate of an earlier sale to you, a ZIP outside the campaign) the return
        is approved in this request and the price is back in your balance; otherwise the
        publisher may answer and an admin rules. Refused with 409: window closed, already
        returned or pending, a reported conversion, or over your monthly return cap.
        """
        ret = file_return(db.session, current_org(), sale_id, data)
        db.session.commit()
        return ret


@blp.route("/conversions/<int:conversion_id>/disputes")
class FileDispute(MethodView):
    @key_required(Role.BUYER)
    @blp.arguments(ReturnIn)
    @blp.response(201, ReturnOut)
    @blp.errors({409: "The conversion cannot be disputed: `nothing_charged` or `return_pending`."})
    def post(self, data: dict[str, Any], conversion_id: int) -> Any:
        """Dispute a CPA charge

        Same reasons and window as a return, counted from the charge; the publisher may
        answer and an admin rules. Approved, the action's charge comes back.
        """
        ret = file_dispute(db.session, current_org(), conversion_id, data)
        db.session.commit()
        return ret


@blp.route("/returns")
class Returns(MethodView):
    @key_required(Role.BUYER, Role.PUBLISHER)
    @blp.arguments(ReturnQuery, location="query")
    @blp.response(200, ReturnPage)
    def get(self, query: dict[str, Any]) -> Any:
        """Your returns (buyer) or the returns against your leads (publisher), newest first"""
        return list_returns(db.session, current_org(), **query)


@blp.route("/returns/<int:return_id>")
class ReturnById(MethodView):
    @key_required(Role.BUYER, Role.PUBLISHER)
    @blp.response(200, ReturnOut)
    def get(self, return_id: int) -> Any:
        """One return (its buyer's and its publisher's only)"""
        return get_return(db.session, current_org(), return_id)


@blp.route("/returns/<int:return_id>/response")
class ReturnResponse(MethodView):
    @key_required(Role.PUBLISHER)
    @blp.arguments(ResponseIn)
    @blp.response(200, ReturnOut)
    @blp.errors(
        {
            409: "Too late to answer: `already_answered`, `already_decided` or"
            " `response_window_closed`."
        }
    )
    def post(self, data: dict[str, Any], return_id: int) -> Any:
        """Answer a return against your lead

        Once, with evidence, before `respond_by` (the niche's default 48 hours); the return
        then goes to an admin with both sides.
        """
        ret = respond(db.session, current_org(), return_id, data)
        db.session.commit()
        return ret


@blp.route("/sources")
class MySources(MethodView):
    @key_required(Role.PUBLISHER)
    @blp.arguments(SourceQuery, location="query")
    @blp.response(200, SourceTable)
    def get(self, query: dict[str, Any]) -> Any:
        """Your quality by niche and sub-id

        Leads, rejections, sales, approved returns and conversions over the last `days`, with
        the rates, and whether you are flagged for review in the niche.
        """
        rows = source_report(db.session, publisher_id=current_org().id, by_sub_id=True, **query)
        return {"days": query["days"], "rows": rows}


@blp.route("/admin/returns")
class AdminReturns(MethodView):
    @key_required(Role.ADMIN)
    @blp.arguments(AdminReturnQuery, location="query")
    @blp.response(200, AdminReturnPage)
    def get(self, query: dict[str, Any]) -> Any:
        """The returns queue, oldest first

        Pending by default; filter by stage (publisher, admin), reason, niche, buyer or
        publisher. Each return carries the buyer's evidence, the re-check's finding and the
        publisher's answer.
        """
        return admin_queue(db.session, **query)


@blp.route("/admin/returns/<int:return_id>")
class AdminReturnDecision(MethodView):
    @key_required(Role.ADMIN)
    @blp.response(200, AdminReturnOut)
    def get(self, return_id: int) -> Any:
        """One return with both sides"""
        return get_return(db.session, current_org(), return_id)

    @key_required(Role.ADMIN)
    @blp.arguments(DecisionIn)
    @blp.response(200, AdminReturnOut)
    @blp.errors({409: "The return was already decided (`already_decided`)."})
    def post(self, data: dict[str, Any], return_id: int) -> Any:
        """Rule on a return

        `approve`: one reversing ledger entry gives the buyer the price back and takes back
        the publisher's earnings (from held earnings, or from payable, which may go negative
        until later earnings cover it) and the platform's margin. `reject`: nothing moves.
        A second ruling is 409. The ruling and its note go to the audit log.
        """
        ret = decide(db.session, current_org(), return_id, data["decision"], data["note"])
        db.session.commit()
        return ret


@blp.route("/admin/buyers/<int:buyer_id>/terms")
class AdminBuyerTerms(MethodView):
    @key_required(Role.ADMIN)
    @blp.arguments(BuyerTermsIn)
    @blp.response(200, BuyerTermsOut)
    def put(self, data: dict[str, Any], buyer_id: int) -> Any:
        """Set a buyer's contract: its return window and monthly return cap

        Null falls back to the niche's settings.
        """
        terms = set_buyer_terms(db.session, buyer_id, data)
        db.session.commit()
        return terms


@blp.route("/admin/sources")
class AdminSources(MethodView):
    @key_required(Role.ADMIN)
    @blp.arguments(AdminSourceQuery, location="query")
    @blp.response(200, SourceTable)
    def get(self, query: dict[str, Any]) -> Any:
        """Publishers' quality table

        Per publisher and niche (and sub-id with `by_sub_id`): leads, rejection, return and
        conversion rates over the last `days`, and open flags.
        """
        return {"days": query["days"], "rows": source_report(db.session, **query)}


@blp.route("/admin/flags")
class AdminFlags(MethodView):
    @key_required(Role.ADMIN)
    @blp.arguments(FlagQuery, location="query")
    @blp.response(200, FlagOut(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Publishers flagged for their return rate (open ones by default)"""
        return list_flags(db.session, open_only=query["open"])


@blp.route("/admin/flags/<int:flag_id>/clear")
class AdminClearFlag(MethodView):
    @key_required(Role.ADMIN)
    @blp.arguments(ClearFlagIn)
    @blp.response(200, FlagOut)
    @blp.errors({409: "The flag was already cleared (`already_cleared`)."})
    def post(self, data: dict[str, Any], flag_id: int) -> Any:
        """Clear a flag: the publisher's leads in the niche are scored normally again"""
        flag = clear_flag(db.session, current_org(), flag_id, data["note"])
        db.session.commit()
        return flag
