"""Admin money tools (/api/v1/admin/billing): credit limits, adjustments, refunds, the check."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.auth import current_key, current_org, key_required
from api.billing import gateway
from api.blueprint import GATEWAY_ERRORS, Blueprint
from api.schemas.billing import (
    AdjustmentIn,
    BalanceRow,
    BookCheckOut,
    CreditIn,
    EntryOut,
    RefundIn,
    RefundOut,
)
from api.schemas.common import IdempotencyHeader
from billing.adjustments import adjust, grant_credit
from billing.checks import check_books
from billing.models import AccountKind
from billing.statements import balance_row
from billing.topups import get_topup, refund_topup
from errors import InvalidInput, NotFound
from exchange.audit import record_event
from exchange.models import Organization, Role
from extensions import db

blp = Blueprint(
    "admin_billing",
    __name__,
    url_prefix="/api/v1/admin/billing",
    description="Money moderation (admin keys only); every action lands in the audit log.",
)


def _organization(org_id: int, role: Role | None = None) -> Organization:
    org = db.session.get(Organization, org_id)
    if org is None:
        raise NotFound(f"No organisation {org_id}.", fields={"organization_id": ["Unknown."]})
    if role is not None and org.role != role:
        raise InvalidInput(
            f"Organisation {org_id} is a {org.role.value}, not a {role.value}.",
            fields={"organization_id": [f"Must be a {role.value}."]},
        )
    return org


@blp.route("/credit")
class Credit(MethodView):
    @key_required(Role.ADMIN)
    @blp.arguments(CreditIn)
    @blp.response(200, BalanceRow)
    @blp.errors(
        {
            404: "No organisation has that `organization_id`.",
            409: "The buyer owes more than the new limit (`credit_in_use`).",
        }
    )
    def post(self, data: dict[str, Any]) -> Any:
        """Grant (or change) a buyer's credit limit

        The buyer's balance may then go down to minus the limit. Lowering it below what is
        already owed is refused.
        """
        org = _organization(data["organization_id"], Role.BUYER)
        account = grant_credit(db.session, org.id, data["currency"], data["credit_limit"])
        record_event(
            db.session,
            "billing.credit_limit_set",
            organization=org,
            actor=current_org(),
            api_key=current_key(),
            target_type="ledger_account",
            target_id=account.id,
            data={
                "currency": account.currency,
                "credit_limit": data["credit_limit"],
                "note": data["note"],
            },
        )
        db.session.commit()
        return balance_row(account)


@blp.route("/adjustments")
class Adjustments(MethodView):
    @key_required(Role.ADMIN)
    @blp.arguments(IdempotencyHeader, location="headers", as_kwargs=True)
    @blp.arguments(AdjustmentIn)
    @blp.response(201, EntryOut)
    @blp.alt_response(
        200, schema=EntryOut, description="A replay of the Idempotency-Key: nothing new posted."
    )
    @blp.errors(
        {
            404: "No organisation has that `organization_id`.",
            402: "A debit the balance cannot cover (`insufficient_funds`).",
            409: "The Idempotency-Key was used for a different adjustment"
            " (`idempotency_key_reused`).",
        }
    )
    def post(self, data: dict[str, Any], idempotency_key: str | None = None) -> Any:
        """Post a manual adjustment

        Credits (positive) or debits (negative) a buyer balance or a publisher's payable
        earnings against the platform's adjustments account. Needs a note and an
        `Idempotency-Key`; replaying the key posts nothing new.
        """
        if not idempotency_key:
            raise InvalidInput(
                "Adjustments need an Idempotency-Key header.",
                fields={"Idempotency-Key": ["Required."]},
            )
        wanted = Role.BUYER if data["account"] == AccountKind.BUYER_BALANCE else Role.PUBLISHER
        org = _organization(data["organization_id"], wanted)
        admin = current_org()
        posted = adjust(
            db.session,
            key=f"{admin.id}:{idempotency_key}",
            org_id=org.id,
            account=AccountKind(data["account"]),
            currency=data["currency"],
            amount=data["amount"],
            note=data["note"],
            actor_org_id=admin.id,
        )
        if not posted.replayed:
            record_event(
                db.session,
                "billing.adjustment",
                organization=org,
                actor=admin,
                api_key=current_key(),
                target_type="journal_entry",
                target_id=posted.entry.id,
                data={k: data[k] for k in ("account", "currency", "amount", "note")},
            )
        db.session.commit()
        entry = posted.entry
        return {
            "id": entry.id,
            "idempotency_key": entry.idempotency_key,
            "kind": entry.kind.value,
            "memo": entry.memo,
            "created_at": entry.created_at,
            "replayed": posted.replayed,
        }, 200 if posted.replayed else 201


@blp.route("/topups/<int:topup_id>/refunds")
class TopUpRefunds(MethodView):
    @key_required(Role.ADMIN)
    @blp.arguments(RefundIn)
    @blp.response(201, RefundOut)
    @blp.errors(
        {
            402: "The buyer's balance no longer holds the amount (`insufficient_funds`).",
            409: "The top-up did not succeed (`not_refundable`), or the refund exceeds what"
            " is left of it (`refund_exceeds_charge`).",
            **GATEWAY_ERRORS,
        }
    )
    def post(self, data: dict[str, Any], topup_id: int) -> Any:
        """Refund part or all of a top-up to its card

        Never more than the top-up brought in (counting earlier refunds), and never more
        than the buyer's balance can give back.
        """
        topup = get_topup(db.session, None, topup_id)
        admin = current_org()
        refund = refund_topup(
            db.session, gateway(), topup, data["amount"], actor_org_id=admin.id, memo=data["note"]
        )
        record_event(
            db.session,
            "billing.topup_refunded",
            organization=db.session.get(Organization, topup.organization_id),
            actor=admin,
            api_key=current_key(),
            target_type="topup",
            target_id=topup.id,
            data={"amount": data["amount"], "note": data["note"], "refund_id": refund.id},
        )
        db.session.commit()
        return refund


@blp.route("/check")
class Check(MethodView):
    @key_required(Role.ADMIN)
    @blp.response(200, BookCheckOut)
    def get(self) -> Any:
        """Reconcile the ledger

        Every entry balances, every cached balance equals the sum of its postings, no
        balance is below its floor (the same check as `flask billing check`).
        """
        result = check_books(db.session)
        return {**result.__dict__, "ok": result.ok}
