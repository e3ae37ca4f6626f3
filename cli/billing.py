"""`flask billing ...`: reconcile the ledger, release earnings, pay publishers, run auto top-ups."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

import jobs
from billing.checks import check_books
from billing.currency import format_amount
from billing.gateway import PaymentGateway
from billing.topups import get_topup
from errors import DomainError
from extensions import db
from observability.ledger_watch import record_check

billing = AppGroup("billing", help="The ledger, payouts and auto top-ups.")


def _gateway() -> PaymentGateway:
    gw = current_app.extensions.get("payment_gateway")
    if gw is None:
        raise click.ClickException("No payment gateway: set STRIPE_SECRET_KEY (see README).")
    return gw  # type: ignore[no-any-return]


@billing.command("check")
def check() -> None:
    """Verify every entry balances and every cached balance equals its postings (exit 1 if not)."""
    result = check_books(db.session)
    record_check(current_app._get_current_object(), result.ok, len(result.problems))
    click.echo(f"{result.entries} entries, {result.postings} postings, {result.accounts} accounts")
    for problem in result.problems:
        click.echo(f"PROBLEM: {problem}", err=True)
    if not result.ok:
        sys.exit(1)
    click.echo("The books balance.")


@billing.command("release")
def release() -> None:
    """Make earnings payable whose return window has closed."""
    click.echo(f"Released {jobs.release_earnings()} held earning(s).")


@billing.command("payouts")
@click.option("--minimum", type=int, default=None, help="Smallest payout in major units.")
def payouts(minimum: int | None) -> None:
    """Release due earnings, then pay every publisher whose payable balance reaches the minimum."""
    gw = _gateway()
    minimum = current_app.config["PAYOUT_MINIMUM"] if minimum is None else minimum
    released, results = jobs.pay_publishers(gw, minimum)
    click.echo(f"Released {released} held earning(s).")
    for result in results:
        click.echo(
            f"publisher {result.organization_id}: {format_amount(result.amount, result.currency)}"
            f" {result.outcome}" + (f" ({result.message})" if result.message else "")
        )
    if any(r.outcome == "failed" for r in results):
        sys.exit(1)


@billing.command("auto-topups")
def auto_topups() -> None:
    """Charge saved cards for the pending auto top-ups (a declined card is not retried)."""
    for result in jobs.run_auto_topups(_gateway()):
        click.echo(f"top-up {result.topup_id}: {result.outcome}")


@billing.command("test-pay")
@click.argument("topup_id", type=int)
@click.option("--card", default="4242424242424242", show_default=True)
def test_pay(topup_id: int, card: str) -> None:
    """Development only: pay a pending top-up with a test card, as Stripe.js would.

    Works against localstripe or Stripe's test mode (sk_test_ keys); the balance is credited
    when the webhook arrives, or at once here if the intent already succeeded.
    """
    from billing.stripe_gateway import StripeGateway
    from billing.topups import apply_intent

    gw = _gateway()
    if not isinstance(gw, StripeGateway) or not current_app.config["STRIPE_SECRET_KEY"].startswith(
        "sk_test_"
    ):
        raise click.ClickException("test-pay needs Stripe test keys (sk_test_...).")
    try:
        topup = get_topup(db.session, None, topup_id)
        if topup.payment_intent_id is None:
            raise click.ClickException("This top-up has no PaymentIntent yet.")
        intent_id = topup.payment_intent_id
        db.session.rollback()
        method = gw.client.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": card, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
            }
        )
        intent = gw.confirm_payment_intent(intent_id, method.id)
        outcome = apply_intent(db.session, intent)
        db.session.commit()
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"top-up {topup_id}: intent {intent.status}, {outcome}")
