"""Your money: balance, top-ups, saved card, auto top-up, ledger, statements, earnings, payouts."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Response, current_app, stream_with_context
from flask.views import MethodView
from sqlalchemy import select

from api.auth import current_org, key_required
from api.blueprint import GATEWAY_ERRORS, Blueprint
from api.schemas.billing import (
    AutoTopUpIn,
    BalanceOut,
    CardIn,
    CardSetupOut,
    EarningsOut,
    LedgerPage,
    LedgerQuery,
    PayoutDestinationIn,
    PayoutPage,
    StatementOut,
    StatementQuery,
    TopUpIn,
    TopUpOut,
    TopUpPage,
)
from api.schemas.common import IdempotencyHeader, PageQuery
from billing.autotopup import configure_auto_topup
from billing.cards import finish_card_setup, start_card_setup
from billing.gateway import PaymentGateway
from billing.models import BillingProfile, Payout, Posting, TopUp, TopUpStatus
from billing.payouts import set_payout_destination
from billing.statements import balances, earnings, ledger_lines, line_dict, statement
from billing.topups import apply_intent, attach_intent, get_topup, open_topup
from errors import PaymentsUnavailable
from exchange.models import Role
from exchange.pagination import paginate
from extensions import db

blp = Blueprint(
    "billing",
    __name__,
    url_prefix="/api/v1/billing",
    description="Balances, top-ups through Stripe, the ledger, statements, earnings, payouts.",
)

LEDGER_CSV_COLUMNS = [
    "id",
    "entry_id",
    "created_at",
    "kind",
    "account",
    "currency",
    "amount",
    "reference_type",
    "reference_id",
    "memo",
]


def gateway() -> PaymentGateway:
    """The configured payment gateway; 503 when payments are off."""
    gw = current_app.extensions.get("payment_gateway")
    if gw is None:
        raise PaymentsUnavailable(
            "Payments are not configured on this exchange (set STRIPE_SECRET_KEY)."
        )
    return gw  # type: ignore[no-any-return]


def topup_out(topup: TopUp) -> dict[str, Any]:
    gw = current_app.extensions.get("payment_gateway")
    data = {name: getattr(topup, name) for name in TopUpOut().fields if hasattr(topup, name)}
    data["status"] = topup.status.value
    data["publishable_key"] = getattr(gw, "publishable_key", None)
    if topup.status != TopUpStatus.PENDING:
        data["client_secret"] = None
    return data


def _profile_out(profile: BillingProfile | None) -> dict[str, Any]:
    if profile is None:
        return {"card": None, "auto_topup": {"enabled": False}}
    card = (
        {"brand": profile.card_brand, "last4": profile.card_last4}
        if profile.payment_method_id
        else None
    )
    return {
        "card": card,
        "auto_topup": {
            "enabled": profile.auto_topup_enabled,
            "currency": profile.auto_topup_currency,
            "threshold": profile.auto_topup_threshold,
            "amount": profile.auto_topup_amount,
            "last_failure": profile.auto_topup_failure,
            "last_failure_at": profile.auto_topup_failed_at,
        },
    }


def csv_response(rows: Iterable[dict[str, Any]], columns: list[str], filename: str) -> Response:
    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            if buffer.tell() > 8192:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    response = Response(stream_with_context(generate()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# The export format=csv answers: one header row, then one row per line.
CSV = {"type": "string", "description": "CSV text with a header row."}


@blp.route("/balance")
class Balance(MethodView):
    @key_required(Role.BUYER)
    @blp.response(200, BalanceOut)
    def get(self) -> Any:
        """Your balance

        Per currency: the balance, the credit an admin granted, and what sales can still
        take; plus the saved card and the auto top-up settings (and its last failure).
        """
        org = current_org()
        profile = db.session.get(BillingProfile, org.id)
        return {"balances": balances(db.session, org.id), **_profile_out(profile)}


@blp.route("/topups")
class TopUps(MethodView):
    @key_required(Role.BUYER)
    @blp.arguments(IdempotencyHeader, location="headers", as_kwargs=True)
    @blp.arguments(TopUpIn)
    @blp.response(201, TopUpOut, description="A pending top-up with its PaymentIntent.")
    @blp.alt_response(200, schema=TopUpOut, description="A replay of the same Idempotency-Key.")
    @blp.errors(
        {
            409: "The Idempotency-Key was used for a different top-up (`idempotency_key_reused`).",
            **GATEWAY_ERRORS,
        }
    )
    def post(self, data: dict[str, Any], idempotency_key: str | None = None) -> Any:
        """Top up your balance

        Creates a pending top-up and a Stripe PaymentIntent; pay it with Stripe.js using the
        `client_secret`. The balance is credited once Stripe's signed `payment_intent.succeeded`
        webhook arrives (or `POST /billing/topups/{id}/refresh` finds the intent succeeded),
        exactly once. Amounts are in minor units (cents; VND and JPY have none).
        """
        gw = gateway()
        org = current_org()
        topup, created = open_topup(
            db.session,
            org.id,
            amount=data["amount"],
            currency=data["currency"],
            client_key=idempotency_key,
        )
        # The row is committed before Stripe is called, so no lock is held meanwhile and a
        # retry finds it and repeats the same intent idempotency key.
        db.session.commit()
        if topup.status == TopUpStatus.PENDING and topup.payment_intent_id is None:
            attach_intent(db.session, gw, topup, org.name)
            db.session.commit()
        return topup_out(topup), 201 if created else 200

    @key_required(Role.BUYER)
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, TopUpPage)
    def get(self, query: dict[str, Any]) -> Any:
        """Your top-ups, newest first"""
        stmt = select(TopUp).where(TopUp.organization_id == current_org().id)
        page = paginate(
            db.session, stmt, TopUp.id, limit=query["limit"], cursor=query.get("cursor")
        )
        return {"items": [topup_out(t) for t in page.items], "next_cursor": page.next_cursor}


@blp.route("/topups/<int:topup_id>")
class TopUpById(MethodView):
    @key_required(Role.BUYER)
    @blp.response(200, TopUpOut)
    def get(self, topup_id: int) -> Any:
        """One of your top-ups"""
        return topup_out(get_topup(db.session, current_org().id, topup_id))


@blp.route("/topups/<int:topup_id>/refresh")
class TopUpRefresh(MethodView):
    @key_required(Role.BUYER)
    @blp.response(200, TopUpOut)
    @blp.errors(GATEWAY_ERRORS)
    def post(self, topup_id: int) -> Any:
        """Ask Stripe how a top-up stands

        Fetches the PaymentIntent's current state and applies it, as the webhook would: a
        succeeded payment is credited (once, whichever comes first).
        """
        gw = gateway()
        topup = get_topup(db.session, current_org().id, topup_id)
        intent_id = topup.payment_intent_id
        db.session.rollback()  # no lock held while Stripe answers
        if intent_id is not None:
            intent = gw.retrieve_payment_intent(intent_id)
            apply_intent(db.session, intent)
            db.session.commit()
        return topup_out(get_topup(db.session, current_org().id, topup_id))


@blp.route("/cards/setup")
class CardSetup(MethodView):
    @key_required(Role.BUYER)
    @blp.arguments(IdempotencyHeader, location="headers", as_kwargs=True)
    @blp.response(201, CardSetupOut)
    @blp.errors(GATEWAY_ERRORS)
    def post(self, idempotency_key: str | None = None) -> Any:
        """Start saving a card

        Returns a SetupIntent's client secret for Stripe.js (`confirmCardSetup`); then send
        its id to `POST /billing/cards`. The card is used for auto top-ups, off-session.
        """
        gw = gateway()
        org = current_org()
        # Without a key every call is a new SetupIntent: a fixed default key would make Stripe
        # replay the first (already confirmed) one, and a second card could never be saved.
        saved = start_card_setup(
            db.session, gw, org.id, org.name, attempt_key=idempotency_key or uuid.uuid4().hex
        )
        db.session.commit()
        return {
            "setup_intent_id": saved.setup_intent_id,
            "client_secret": saved.client_secret,
            "publishable_key": gw.publishable_key,
        }


@blp.route("/cards")
class Cards(MethodView):
    @key_required(Role.BUYER)
    @blp.arguments(CardIn)
    @blp.response(200, BalanceOut)
    @blp.errors(
        {
            404: "No such setup intent for your organisation.",
            409: "The setup intent has not succeeded yet (`setup_not_succeeded`).",
            **GATEWAY_ERRORS,
        }
    )
    def post(self, data: dict[str, Any]) -> Any:
        """Keep the card a succeeded SetupIntent saved

        Replaces any saved card, and resumes auto top-up after a decline.
        """
        org = current_org()
        profile = finish_card_setup(db.session, gateway(), org.id, data["setup_intent_id"])
        db.session.commit()
        return {"balances": balances(db.session, org.id), **_profile_out(profile)}


@blp.route("/auto-topup")
class AutoTopUp(MethodView):
    @key_required(Role.BUYER)
    @blp.arguments(AutoTopUpIn)
    @blp.response(200, BalanceOut)
    @blp.errors({409: "Auto top-up needs a saved card first (`no_saved_card`)."})
    def put(self, data: dict[str, Any]) -> Any:
        """Set auto top-up

        When a sale takes the balance in `currency` under `threshold`, the saved card is
        charged `amount` off-session. A declined card pauses auto top-up (shown as
        `last_failure`) until you save a card or set this again; it is never retried in a loop.
        """
        org = current_org()
        profile = configure_auto_topup(db.session, org.id, **data)
        db.session.commit()
        return {"balances": balances(db.session, org.id), **_profile_out(profile)}


@blp.route("/ledger")
class Ledger(MethodView):
    @key_required(Role.BUYER, Role.PUBLISHER)
    @blp.arguments(LedgerQuery, location="query")
    @blp.response(200, LedgerPage)
    @blp.alt_response(
        200, content_type="text/csv", schema=CSV, description="JSON, or CSV with format=csv."
    )
    def get(self, query: dict[str, Any]) -> Any:
        """Your ledger lines, newest first

        Every movement of your money, one line per balance it touched. `format=csv` exports
        every line (no pagination).
        """
        stmt = ledger_lines(current_org().id, currency=query.get("currency"))
        if query["format"] == "csv":
            rows = db.session.scalars(stmt.order_by(Posting.id)).yield_per(500)
            return csv_response((line_dict(p) for p in rows), LEDGER_CSV_COLUMNS, "ledger.csv")
        page = paginate(
            db.session, stmt, Posting.id, limit=query["limit"], cursor=query.get("cursor")
        )
        return {"items": [line_dict(p) for p in page.items], "next_cursor": page.next_cursor}


@blp.route("/statements/<period>")
class Statements(MethodView):
    @key_required(Role.BUYER, Role.PUBLISHER)
    @blp.arguments(StatementQuery, location="query")
    @blp.response(200, StatementOut)
    @blp.alt_response(
        200, content_type="text/csv", schema=CSV, description="JSON, or CSV with format=csv."
    )
    def get(self, query: dict[str, Any], period: str) -> Any:
        """Your statement for a month (YYYY-MM) or a day (YYYY-MM-DD)

        Per balance: the opening balance, money in, money out and the closing balance; then
        every movement with the balance after it. In one currency (yours by default).
        """
        org = current_org()
        result = statement(db.session, org.id, period, query.get("currency") or org.currency)
        if query["format"] == "csv":
            columns = [*LEDGER_CSV_COLUMNS, "balance_after"]
            return csv_response(result.lines, columns, f"statement-{period}.csv")
        return result


@blp.route("/earnings")
class Earnings(MethodView):
    @key_required(Role.PUBLISHER)
    @blp.response(200, EarningsOut)
    def get(self) -> Any:
        """Your earnings

        Per currency: pending (sales still inside their return window), payable (paid at
        the next payout above the minimum) and paid.
        """
        org = current_org()
        profile = db.session.get(BillingProfile, org.id)
        return {
            "earnings": earnings(db.session, org.id),
            "payout_destination": profile.payout_destination if profile else None,
        }


@blp.route("/payouts")
class Payouts(MethodView):
    @key_required(Role.PUBLISHER)
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, PayoutPage)
    def get(self, query: dict[str, Any]) -> Any:
        """Your payouts, newest first"""
        stmt = select(Payout).where(Payout.organization_id == current_org().id)
        return paginate(
            db.session, stmt, Payout.id, limit=query["limit"], cursor=query.get("cursor")
        )


@blp.route("/payout-destination")
class PayoutDestination(MethodView):
    @key_required(Role.PUBLISHER)
    @blp.arguments(PayoutDestinationIn)
    @blp.response(200, EarningsOut)
    def put(self, data: dict[str, Any]) -> Any:
        """Set where your payouts go (a Stripe Connect account)"""
        org = current_org()
        set_payout_destination(db.session, org.id, data["destination"])
        db.session.commit()
        return {"earnings": earnings(db.session, org.id), "payout_destination": data["destination"]}
