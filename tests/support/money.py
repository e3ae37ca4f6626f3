"""Putting money in a buyer's balance without Stripe, as a succeeded top-up would post it."""

from __future__ import annotations

import datetime as dt

from billing.ledger import Leg, post_entry
from billing.models import AccountKind, EntryKind
from extensions import db


def fund(
    buyer_id: int,
    amount: int,
    key: str = "topup:t1",
    currency: str = "USD",
    at: dt.datetime | None = None,
) -> None:
    """Credit `amount` to the buyer (Stripe clearing on the other side) and commit."""
    post_entry(
        db.session,
        key=key,
        kind=EntryKind.TOPUP,
        currency=currency,
        legs=[
            Leg(None, AccountKind.STRIPE_CLEARING, -amount),
            Leg(buyer_id, AccountKind.BUYER_BALANCE, amount),
        ],
        at=at,
    )
    db.session.commit()
