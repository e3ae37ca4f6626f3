"""Billing: the double-entry ledger, balances, Stripe behind an interface, top-ups, webhooks,
payouts and statements. Never imports flask, nor anything of ours above it.

Money moves only through these verbs, each writing one balanced journal entry under a unique
idempotency key (billing/ledger.py holds the rules):

- `charge` / `refund_charge` (billing/charges.py): sales and actions, returns and disputes;
- `apply_intent` / `refund_topup` (billing/topups.py): top-ups credited once Stripe succeeded;
- `release_due_earnings` (charges) and `pay_account` / `fail_payout` (billing/payouts.py);
- `adjust` (billing/adjustments.py): an admin's manual correction, with a note.

`check_books` (billing/checks.py) reconciles the whole ledger.
"""

from billing.gateway import Intent, InvalidSignature, PaymentGateway, SavedCard
from billing.stripe_gateway import StripeGateway


def gateway_from_config(config: dict) -> PaymentGateway | None:
    """The gateway the configuration names: Stripe (real, or localstripe via STRIPE_API_BASE)
    when STRIPE_SECRET_KEY is set, otherwise none (payments answer 503)."""
    if not config.get("STRIPE_SECRET_KEY"):
        return None
    return StripeGateway(
        config["STRIPE_SECRET_KEY"],
        webhook_secret=config.get("STRIPE_WEBHOOK_SECRET"),
        publishable_key=config.get("STRIPE_PUBLISHABLE_KEY"),
        api_base=config.get("STRIPE_API_BASE") or None,
        webhook_tolerance=int(config.get("STRIPE_WEBHOOK_TOLERANCE", 300)),
    )


__all__ = [
    "Intent",
    "InvalidSignature",
    "PaymentGateway",
    "SavedCard",
    "StripeGateway",
    "gateway_from_config",
]
