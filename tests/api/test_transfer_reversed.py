"""A Connect transfer reversed after the payout: the webhook fails the payout, once."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from billing.ledger import Leg, balance_of, get_account, post_entry
from billing.models import AccountKind, EntryKind, JournalEntry, Payout, PayoutStatus
from billing.payouts import pay_account, set_payout_destination
from extensions import db
from tests.support.fake_gateway import WEBHOOK_SECRET, FakeGateway
from tests.support.webhooks import event_body, sign


def _paid_payout(publisher: Any, gateway: FakeGateway) -> Payout:
    org_id = publisher.org.id
    post_entry(
        db.session,
        key="adjustment:seed",
        kind=EntryKind.ADJUSTMENT,
        currency="USD",
        legs=[
            Leg(org_id, AccountKind.PUBLISHER_PAYABLE, 12_000),
            Leg(None, AccountKind.PLATFORM_ADJUSTMENTS, -12_000),
        ],
        memo="seed",
    )
    set_payout_destination(db.session, org_id, "acct_publisher1")
    account = get_account(db.session, org_id, AccountKind.PUBLISHER_PAYABLE, "USD")
    assert account is not None
    result = pay_account(db.session, gateway, account.id, minimum_major=50)
    db.session.commit()
    assert result.outcome == "paid"
    payout = db.session.get(Payout, result.payout_id)
    assert payout is not None
    return payout


def _post(client: FlaskClient, event_id: str, transfer_id: str) -> Any:
    body = event_body(event_id, "transfer.reversed", {"id": transfer_id, "object": "transfer"})
    return client.post(
        "/billing/stripe/webhook",
        data=body,
        headers={
            "Stripe-Signature": sign(body, WEBHOOK_SECRET),
            "Content-Type": "application/json",
        },
    )


def test_a_reversed_transfer_puts_the_money_back_to_payable_once(
    client: FlaskClient, publisher: Any, fake_gateway: FakeGateway
) -> None:
    payout = _paid_payout(publisher, fake_gateway)
    org_id = publisher.org.id
    assert balance_of(db.session, org_id, AccountKind.PUBLISHER_PAYABLE, "USD") == 0
    assert payout.transfer_id is not None

    first = _post(client, "evt_rev_1", payout.transfer_id)
    assert first.status_code == 200, first.json
    assert first.json["outcome"] == "payout_reversed"
    again = _post(client, "evt_rev_2", payout.transfer_id)
    assert again.json["outcome"] == "already_reversed"

    db.session.expire_all()
    assert db.session.get(Payout, payout.id).status == PayoutStatus.FAILED
    assert balance_of(db.session, org_id, AccountKind.PUBLISHER_PAYABLE, "USD") == 12_000
    assert balance_of(db.session, org_id, AccountKind.PUBLISHER_PAID_OUT, "USD") == 0
    reversal = db.session.query(JournalEntry).filter_by(kind=EntryKind.PAYOUT_FAILED).one()
    assert reversal.reverses_id == payout.entry_id


def test_a_reversal_of_an_unknown_transfer_changes_nothing(
    client: FlaskClient, fake_gateway: FakeGateway
) -> None:
    response = _post(client, "evt_rev_x", "tr_not_ours")
    assert response.status_code == 200
    assert response.json["outcome"] == "not_ours"
    assert db.session.query(JournalEntry).count() == 0
