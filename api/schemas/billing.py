"""Request and response bodies for /api/v1/billing and /api/v1/admin/billing."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import ID_RANGE, InputSchema, PageQuery, page_schema
from billing.models import AccountKind

MINOR = "In the currency's minor unit: cents for USD, whole units for VND and JPY."


def amount_field(description: str = MINOR, **kwargs: object) -> fields.Integer:
    return fields.Integer(strict=True, metadata={"description": description}, **kwargs)  # type: ignore[arg-type]


def currency_field(
    description: str = "ISO 4217 code, e.g. USD, EUR, VND.", **kwargs: object
) -> fields.String:
    return fields.String(
        validate=validate.Regexp(r"^[A-Za-z]{3}$", error="A 3-letter ISO 4217 code."),
        metadata={"description": description},
        **kwargs,  # type: ignore[arg-type]
    )


class TopUpIn(InputSchema):
    amount = amount_field(required=True)
    currency = currency_field(required=True)


class TopUpOut(Schema):
    id = fields.Integer()
    amount = amount_field()
    currency = fields.String()
    status = fields.String(
        metadata={
            "description": "pending until Stripe confirms; then succeeded, failed or canceled."
        }
    )
    source = fields.String(metadata={"description": "manual, or auto (auto top-up)."})
    payment_intent_id = fields.String(allow_none=True)
    client_secret = fields.String(
        allow_none=True,
        metadata={"description": "Give it to Stripe.js (confirmCardPayment) to pay."},
    )
    publishable_key = fields.String(allow_none=True)
    refunded_amount = amount_field()
    failure_code = fields.String(allow_none=True)
    failure_message = fields.String(allow_none=True)
    created_at = fields.DateTime()
    succeeded_at = fields.DateTime(allow_none=True)


TopUpPage = page_schema(TopUpOut, "TopUpPage")


class BalanceRow(Schema):
    currency = fields.String()
    balance = amount_field()
    credit_limit = amount_field("How far below zero the balance may go (granted by an admin).")
    available = amount_field("balance + credit_limit: what sales can still take.")
    display = fields.String(metadata={"description": "The balance with its currency's decimals."})


class AutoTopUpOut(Schema):
    enabled = fields.Boolean()
    currency = fields.String(allow_none=True)
    threshold = amount_field(allow_none=True)
    amount = amount_field(allow_none=True)
    last_failure = fields.String(
        allow_none=True,
        metadata={"description": "Why the last automatic charge failed; auto top-up is paused."},
    )
    last_failure_at = fields.DateTime(allow_none=True)


class CardOut(Schema):
    brand = fields.String(allow_none=True)
    last4 = fields.String(allow_none=True)


class BalanceOut(Schema):
    balances = fields.List(fields.Nested(BalanceRow))
    card = fields.Nested(CardOut, allow_none=True)
    auto_topup = fields.Nested(AutoTopUpOut)


class EarningsRow(Schema):
    currency = fields.String()
    pending = amount_field("Earned on sales still inside their return window.")
    payable = amount_field("Due at the next payout (negative after a return of paid earnings).")
    paid = amount_field("Paid out so far.")
    next_release_at = fields.DateTime(
        allow_none=True, metadata={"description": "When pending earnings next become payable."}
    )


class EarningsOut(Schema):
    earnings = fields.List(fields.Nested(EarningsRow))
    payout_destination = fields.String(allow_none=True)


class LedgerQuery(PageQuery):
    currency = currency_field()
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(["json", "csv"]),
        metadata={"description": "csv returns every line (no pagination) as a CSV file."},
    )


class LedgerLine(Schema):
    id = fields.Integer()
    entry_id = fields.Integer()
    created_at = fields.DateTime()
    kind = fields.String(metadata={"description": "topup, sale, return, payout, adjustment..."})
    account = fields.String(metadata={"description": "Which of your balances moved."})
    currency = fields.String()
    amount = amount_field("Positive: money in; negative: money out.")
    reference_type = fields.String(allow_none=True)
    reference_id = fields.String(allow_none=True)
    memo = fields.String(allow_none=True)


LedgerPage = page_schema(LedgerLine, "LedgerPage")


class StatementQuery(Schema):
    currency = currency_field("Defaults to your organisation's currency.")
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class StatementLine(LedgerLine):
    balance_after = amount_field("The account's balance after this line.")


class StatementAccount(Schema):
    account = fields.String()
    opening_balance = amount_field()
    money_in = amount_field()
    money_out = amount_field()
    closing_balance = amount_field()


class StatementOut(Schema):
    period = fields.String()
    currency = fields.String()
    start = fields.DateTime()
    end = fields.DateTime()
    accounts = fields.List(fields.Nested(StatementAccount))
    lines = fields.List(fields.Nested(StatementLine))


class CardSetupOut(Schema):
    setup_intent_id = fields.String()
    client_secret = fields.String(
        allow_none=True, metadata={"description": "For Stripe.js confirmCardSetup."}
    )
    publishable_key = fields.String(allow_none=True)


class CardIn(InputSchema):
    setup_intent_id = fields.String(
        required=True,
        validate=validate.Regexp(r"^seti_[A-Za-z0-9_]{1,250}$", error="A SetupIntent id, seti_..."),
        metadata={"description": "The SetupIntent's id, seti_..."},
    )


class AutoTopUpIn(InputSchema):
    enabled = fields.Boolean(required=True)
    currency = currency_field()
    threshold = amount_field(validate=validate.Range(min=0))
    amount = amount_field(validate=validate.Range(min=1))


class PayoutDestinationIn(InputSchema):
    destination = fields.String(
        required=True,
        allow_none=True,
        validate=validate.Regexp(
            r"^acct_[A-Za-z0-9]{1,200}$", error="A Stripe account id, acct_..."
        ),
        metadata={"description": "Your Stripe Connect account id (acct_...); null removes it."},
    )


class PayoutOut(Schema):
    id = fields.Integer()
    amount = amount_field()
    currency = fields.String()
    status = fields.String()
    transfer_id = fields.String(allow_none=True)
    failure_message = fields.String(allow_none=True)
    created_at = fields.DateTime()


PayoutPage = page_schema(PayoutOut, "PayoutPage")


class CreditIn(InputSchema):
    organization_id = fields.Integer(required=True, strict=True, validate=ID_RANGE)
    currency = currency_field(required=True)
    credit_limit = amount_field(required=True, validate=validate.Range(min=0))
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class AdjustmentIn(InputSchema):
    organization_id = fields.Integer(required=True, strict=True, validate=ID_RANGE)
    account = fields.String(
        required=True,
        validate=validate.OneOf(
            [AccountKind.BUYER_BALANCE.value, AccountKind.PUBLISHER_PAYABLE.value]
        ),
    )
    currency = currency_field(required=True)
    amount = amount_field("Positive credits the organisation, negative debits it.", required=True)
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class EntryOut(Schema):
    id = fields.Integer()
    idempotency_key = fields.String()
    kind = fields.String()
    memo = fields.String(allow_none=True)
    created_at = fields.DateTime()
    replayed = fields.Boolean(
        metadata={"description": "True when this key had been used: nothing new was posted."}
    )


class RefundIn(InputSchema):
    amount = amount_field(required=True, validate=validate.Range(min=1))
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class RefundOut(Schema):
    id = fields.Integer()
    topup_id = fields.Integer()
    amount = amount_field()
    gateway_refund_id = fields.String(allow_none=True)
    created_at = fields.DateTime()


class BookCheckOut(Schema):
    ok = fields.Boolean()
    entries = fields.Integer()
    postings = fields.Integer()
    accounts = fields.Integer()
    problems = fields.List(fields.String())
