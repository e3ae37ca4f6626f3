"""Returns and disputes: filing inside the window and the cap, every refusal storing nothing,
the automatic re-check, the publisher's answer and the admin's ruling, the money moving back
exactly once (held or already paid out), campaign caps, CPA disputes, and the source flag."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from billing.charges import refunded_so_far
from billing.checks import check_books
from billing.ledger import balance_of
from billing.models import AccountKind, EarningHold, EntryKind, JournalEntry
from billing.payouts import set_payout_destination
from database import utcnow
from exchange.errors import Conflict
from exchange.models import (
    AuditEvent,
    Conversion,
    Lead,
    LeadReturn,
    PublisherFlag,
    ReturnStatus,
    Sale,
    SaleStatus,
)
from exchange.returns import file_return
from extensions import db
from jobs import pay_publishers
from tests.conftest import Account
from tests.helpers import solar_lead
from tests.support.fake_gateway import FakeGateway
from tests.support.market import create_campaign, fixed
from tests.support.money import fund

LEADS = "/api/v1/leads"
RETURNS = "/api/v1/returns"
ADMIN_RETURNS = "/api/v1/admin/returns"
NICHE = "/api/v1/niches/solar"
PRICE, EARNED, MARGIN = 2500, 1750, 750  # the default campaign's bid; 70% to the publisher
FUNDS = 100_000

FIRST = ["Maria", "Julia", "Anna", "Clara", "Elena", "Sofia", "Laura", "Nina"]
LAST = ["Lopez", "Garcia", "Smith", "Brown", "Miller", "Davis", "Wilson", "Moore"]

# What makes a sold lead provably bad after the fact, per reason (the re-check reads the row).
BAD_PHONE = "+14155550123"  # 555-01xx: reserved for fiction
BAD_EMAIL = "maria@mailinator.com"  # a disposable provider
NEVADA_ZIP = "89101"  # Las Vegas, outside a California campaign


# --- helpers ----------------------------------------------------------------------------------


def person(n: int, **overrides: Any) -> dict[str, Any]:
    """A valid solar lead for person n, with a name of its own (no rotation warnings)."""
    return solar_lead(n, first_name=FIRST[n % 8], last_name=LAST[(n // 8) % 8], **overrides)


def post_lead(client: FlaskClient, publisher: Account, n: int, **overrides: Any) -> Any:
    response = client.post(LEADS, json=person(n, **overrides), headers=publisher.headers)
    assert response.status_code == 201, response.json
    return response.json


@dataclass(frozen=True)
class Sold:
    """What a test needs of a sale. The row itself is kept out of the test's session, which
    the requests share: a Sale left in it would reach the next request as it is."""

    id: int
    lead_id: int
    niche_id: int
    entry_id: int | None
    price: int


def sold(where: Any) -> Sold:
    db.session.rollback()
    sale = db.session.scalars(select(Sale).where(where)).one()
    snapshot = Sold(sale.id, sale.lead_id, sale.niche_id, sale.entry_id, sale.price)
    db.session.expunge(sale)
    return snapshot


def sell(client: FlaskClient, publisher: Account, n: int, **overrides: Any) -> Sold:
    """Post person n's lead and return the one sale it made."""
    lead = post_lead(client, publisher, n, **overrides)
    assert lead["status"] == "sold", lead
    return sold(Sale.lead_id == lead["id"])


def sale_status(sale_id: int) -> SaleStatus:
    db.session.rollback()
    status = db.session.scalar(select(Sale.status).where(Sale.id == sale_id))
    assert status is not None
    return status


def spoil(sale: Sold, **columns: Any) -> None:
    """Change the sold lead's row (what the re-check will read) and commit."""
    lead = db.session.get(Lead, sale.lead_id)
    assert lead is not None
    for name, value in columns.items():
        setattr(lead, name, value)
    db.session.commit()


def file(
    client: FlaskClient, buyer: Account, sale_id: int, reason: str = "wrong_person", **extra: Any
) -> Any:
    return client.post(
        f"/api/v1/purchases/{sale_id}/returns",
        json={"reason": reason, **extra},
        headers=buyer.headers,
    )


def rule(client: FlaskClient, admin: Account, return_id: int, decision: str, note: str) -> Any:
    return client.post(
        f"{ADMIN_RETURNS}/{return_id}",
        json={"decision": decision, "note": note},
        headers=admin.headers,
    )


def answer(client: FlaskClient, publisher: Account, return_id: int, message: str) -> Any:
    return client.post(
        f"{RETURNS}/{return_id}/response",
        json={"message": message, "evidence": {"reference": "call-log-9"}},
        headers=publisher.headers,
    )


def refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.json
    assert response.json["error"] == code, response.json


def money(buyer: Account, publisher: Account) -> dict[str, int]:
    """The balances a return moves (fresh from the database)."""
    db.session.rollback()
    return {
        "buyer": balance_of(db.session, buyer.org.id, AccountKind.BUYER_BALANCE, "USD"),
        "pending": balance_of(db.session, publisher.org.id, AccountKind.PUBLISHER_PENDING, "USD"),
        "payable": balance_of(db.session, publisher.org.id, AccountKind.PUBLISHER_PAYABLE, "USD"),
        "paid_out": balance_of(db.session, publisher.org.id, AccountKind.PUBLISHER_PAID_OUT, "USD"),
        "revenue": balance_of(db.session, None, AccountKind.PLATFORM_REVENUE, "USD"),
    }


def count(model: Any, *where: Any) -> int:
    db.session.rollback()
    return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def refund_entries() -> list[JournalEntry]:
    db.session.rollback()
    stmt = select(JournalEntry).where(JournalEntry.kind.in_([EntryKind.RETURN, EntryKind.REFUND]))
    return list(db.session.scalars(stmt.order_by(JournalEntry.id)))


def events(action: str, return_id: int) -> list[AuditEvent]:
    db.session.rollback()
    stmt = select(AuditEvent).where(
        AuditEvent.action == action,
        AuditEvent.target_type == "return",
        AuditEvent.target_id == str(return_id),
    )
    return list(db.session.scalars(stmt.order_by(AuditEvent.id)))


def patch_niche(client: FlaskClient, admin: Account, **settings_: Any) -> None:
    response = client.patch(NICHE, json=settings_, headers=admin.headers)
    assert response.status_code == 200, response.json


def set_terms(client: FlaskClient, admin: Account, buyer: Account, **terms: Any) -> Any:
    response = client.put(
        f"/api/v1/admin/buyers/{buyer.org.id}/terms", json=terms, headers=admin.headers
    )
    assert response.status_code == 200, response.json
    return response.json


@pytest.fixture
def market(client: FlaskClient, buyer: Account, solar: Any) -> int:
    """The buyer funded with 1,000.00 USD and a CA solar campaign at 25.00 a lead."""
    fund(buyer.org.id, FUNDS)
    return int(create_campaign(client, buyer)["id"])


# --- the window -------------------------------------------------------------------------------

SOLD_AT = dt.datetime(2024, 6, 10, 12, 0, tzinfo=dt.UTC)  # mid-month: the cap's month is June
SECOND = dt.timedelta(seconds=1)


def sold_at(sale: Sold, when: dt.datetime) -> Sold:
    db.session.execute(update(Sale).where(Sale.id == sale.id).values(created_at=when))
    db.session.commit()
    return sale


def file_at(buyer: Account, sale_id: int, now: dt.datetime) -> LeadReturn | str:
    """File through the service at `now`: the return, or the refusal's code."""
    db.session.rollback()
    try:
        ret = file_return(db.session, buyer.org, sale_id, {"reason": "wrong_person"}, now=now)
    except Conflict as exc:
        db.session.rollback()
        return exc.code
    db.session.commit()
    return ret


def test_the_window_is_72_hours_from_the_sale_to_the_second(
    client: FlaskClient, publisher: Account, buyer: Account, market: int
) -> None:
    sale = sold_at(sell(client, publisher, 1), SOLD_AT)
    closes = SOLD_AT + dt.timedelta(hours=72)

    assert file_at(buyer, sale.id, closes + SECOND) == "return_window_closed"
    assert count(LeadReturn) == 0
    ret = file_at(buyer, sale.id, closes - SECOND)
    assert isinstance(ret, LeadReturn)
    assert ret.status == ReturnStatus.PENDING and ret.created_at == closes - SECOND


def test_the_window_comes_from_the_niche_and_a_buyer_contract_overrides_it(
    client: FlaskClient, publisher: Account, buyer: Account, admin: Account, market: int
) -> None:
    sales = [sold_at(sell(client, publisher, n), SOLD_AT) for n in range(1, 6)]
    set_terms(client, admin, buyer, return_cap_percent=100)  # only the window matters here

    # A shorter contract: 24 hours, though the niche gives 72.
    terms = set_terms(client, admin, buyer, return_window_hours=24)
    assert (terms["return_window_hours"], terms["return_cap_percent"]) == (24, 100)
    day = SOLD_AT + dt.timedelta(hours=24)
    assert file_at(buyer, sales[0].id, day + SECOND) == "return_window_closed"
    assert isinstance(file_at(buyer, sales[0].id, day - SECOND), LeadReturn)

    # A longer one: 120 hours.
    set_terms(client, admin, buyer, return_window_hours=120)
    five_days = SOLD_AT + dt.timedelta(hours=120)
    assert file_at(buyer, sales[1].id, five_days + SECOND) == "return_window_closed"
    assert isinstance(file_at(buyer, sales[1].id, five_days - SECOND), LeadReturn)

    # Null falls back to the niche, whose own window an admin can change.
    set_terms(client, admin, buyer, return_window_hours=None)
    three_days = SOLD_AT + dt.timedelta(hours=72)
    assert file_at(buyer, sales[2].id, three_days + SECOND) == "return_window_closed"
    assert isinstance(file_at(buyer, sales[2].id, three_days - SECOND), LeadReturn)
    patch_niche(client, admin, return_window_hours=1)
    hour = SOLD_AT + dt.timedelta(hours=1)
    assert file_at(buyer, sales[3].id, hour + SECOND) == "return_window_closed"
    assert isinstance(file_at(buyer, sales[3].id, hour - SECOND), LeadReturn)

    # Through the API, with real time: a sale from 2024 is long out of its window.
    refused(file(client, buyer, sales[4].id), 409, "return_window_closed")
    assert count(LeadReturn) == 4


def test_terms_are_for_admins_and_for_buyers_only(
    client: FlaskClient, publisher: Account, buyer: Account, admin: Account, solar: Any
) -> None:
    url = f"/api/v1/admin/buyers/{buyer.org.id}/terms"
    own = client.put(url, json={"return_window_hours": 1000}, headers=buyer.headers)
    refused(own, 403, "forbidden")
    missing = client.put(
        f"/api/v1/admin/buyers/{publisher.org.id}/terms",
        json={"return_window_hours": 1},
        headers=admin.headers,
    )
    assert missing.status_code == 404
    bad = client.put(url, json={"return_cap_percent": 101}, headers=admin.headers)
    assert bad.status_code == 422 and "return_cap_percent" in bad.json["fields"]


# --- refusals ---------------------------------------------------------------------------------


class Unchanged:
    """Whatever a refused filing does, no return is stored and no money moves."""

    def __init__(self, buyer: Account, publisher: Account):
        self.buyer, self.publisher = buyer, publisher
        self.before = self.snapshot()

    def snapshot(self) -> tuple[int, int, int, dict[str, int]]:
        return (
            count(LeadReturn),
            count(JournalEntry),
            count(AuditEvent, AuditEvent.target_type == "return"),
            money(self.buyer, self.publisher),
        )

    def check(self) -> None:
        assert self.snapshot() == self.before


def test_a_sale_already_returned_cannot_be_returned_again(
    client: FlaskClient, publisher: Account, buyer: Account, market: int
) -> None:
    sale = sell(client, publisher, 1)
    spoil(sale, phone=BAD_PHONE)
    first = file(client, buyer, sale.id, "invalid_phone")
    assert first.status_code == 201 and first.json["status"] == "approved", first.json
    same = Unchanged(buyer, publisher)
    for reason in ("invalid_phone", "wrong_person"):
        refused(file(client, buyer, sale.id, reason), 409, "already_returned")
    same.check()
    assert len(refund_entries()) == 1


def test_a_second_return_while_one_is_pending_is_refused_as_pending(
    client: FlaskClient, publisher: Account, buyer: Account, market: int
) -> None:
    # One sale this month: the pending return is also all the 15% cap allows, but what is
    # wrong with the second filing is that one is already open.
    sale = sell(client, publisher, 1)
    first = file(client, buyer, sale.id, "wrong_person")
    assert first.status_code == 201 and first.json["status"] == "pending"
    same = Unchanged(buyer, publisher)
    refused(file(client, buyer, sale.id, "disconnected"), 409, "return_pending")
    same.check()


def test_a_sale_with_a_reported_conversion_cannot_be_returned(
    client: FlaskClient, publisher: Account, buyer: Account, market: int
) -> None:
    sale = sell(client, publisher, 1)
    spoil(sale, phone=BAD_PHONE)  # provably bad, yet the buyer says it converted
    converted = client.post(
        "/api/v1/conversions",
        json={"sale_id": sale.id, "action": "sale", "transaction_id": "crm-1"},
        headers=buyer.headers,
    )
    assert converted.status_code == 201, converted.json
    same = Unchanged(buyer, publisher)
    refused(file(client, buyer, sale.id, "invalid_phone"), 409, "sale_converted")
    same.check()


def test_a_returned_sale_takes_no_conversion(
    client: FlaskClient, publisher: Account, buyer: Account, market: int
) -> None:
    sale = sell(client, publisher, 1)
    spoil(sale, phone=BAD_PHONE)
    assert file(client, buyer, sale.id, "invalid_phone").json["status"] == "approved"
    late = client.post(
        "/api/v1/conversions",
        json={"sale_id": sale.id, "action": "sale", "transaction_id": "crm-late"},
        headers=buyer.headers,
    )
    refused(late, 409, "sale_returned")
    db.session.rollback()
    assert db.session.scalar(select(func.count(Conversion.id))) == 0


def test_reasons_the_niche_does_not_accept_or_that_do_not_exist_are_a_422_naming_reason(
    client: FlaskClient, publisher: Account, buyer: Account, admin: Account, market: int
) -> None:
    sale = sell(client, publisher, 1)
    same = Unchanged(buyer, publisher)
    for reason in ("not_interested", "could_not_reach_after_one_call", "INVALID_PHONE"):
        response = file(client, buyer, sale.id, reason)
        refused(response, 422, "invalid_input")
        assert "reason" in response.json["fields"], response.json
    missing = client.post(
        f"/api/v1/purchases/{sale.id}/returns", json={"note": "bad"}, headers=buyer.headers
    )
    assert missing.status_code == 422 and "reason" in missing.json["fields"]
    same.check()

    patch_niche(client, admin, return_reasons=["invalid_phone", "duplicate"])
    same = Unchanged(buyer, publisher)
    response = file(client, buyer, sale.id, "wrong_person")
    refused(response, 422, "invalid_input")
    assert response.json["fields"]["reason"] == ["One of: invalid_phone, duplicate."]
    same.check()
    assert file(client, buyer, sale.id, "duplicate").status_code == 201


def test_other_needs_a_note(
    client: FlaskClient, publisher: Account, buyer: Account, market: int
) -> None:
    sale = sell(client, publisher, 1)
    same = Unchanged(buyer, publisher)
    for extra in ({}, {"note": ""}, {"note": "   "}):
        response = file(client, buyer, sale.id, "other", **extra)
        assert response.status_code == 422, response.json
        assert "note" in response.json["fields"], response.json
    same.check()
    ok = file(client, buyer, sale.id, "other", note="The homeowner sold the house in May.")
    assert ok.status_code == 201, ok.json
    assert ok.json["note"] == "The homeowner sold the house in May."


def test_the_monthly_cap_rounds_up_and_counts_pending_and_approved_not_rejected(
    client: FlaskClient,
    publisher: Account,
    buyer: Account,
    admin: Account,
    market: int,
) -> None:
    sales = [sell(client, publisher, n) for n in range(1, 8)]
    # 7 sales at 15%: 1.05 rounds up to 2 returns (not 1).
    for sale in sales[:2]:
        assert file(client, buyer, sale.id).status_code == 201
    same = Unchanged(buyer, publisher)
    refused(file(client, buyer, sales[2].id), 409, "return_cap_reached")
    same.check()

    # A rejected return no longer counts; an approved one does.
    page = client.get(RETURNS, headers=buyer.headers).json["items"]
    assert rule(client, admin, page[0]["id"], "reject", "Reached on the second call.").status_code
    assert file(client, buyer, sales[2].id).status_code == 201
    refused(file(client, buyer, sales[3].id), 409, "return_cap_reached")

    # The contract's cap: 30% of 7 is 2.1, so 3 returns.
    set_terms(client, admin, buyer, return_cap_percent=30)
    assert file(client, buyer, sales[3].id).status_code == 201
    refused(file(client, buyer, sales[4].id), 409, "return_cap_reached")
    # And 0% allows none.
    set_terms(client, admin, buyer, return_cap_percent=0)
    refused(file(client, buyer, sales[5].id), 409, "return_cap_reached")
    assert count(LeadReturn, LeadReturn.status != ReturnStatus.REJECTED) == 3


def test_a_buyer_cannot_return_or_even_see_another_buyers_sale(
    client: FlaskClient,
    publisher: Account,
    buyer: Account,
    make_account: Any,
    market: int,
) -> None:
    sale = sell(client, publisher, 1)
    ret = file(client, buyer, sale.id).json
    other_sale = sell(client, publisher, 2)
    stranger = make_account("buyer")
    other_publisher = make_account("publisher")
    fund(stranger.org.id, FUNDS, key="fund:stranger")

    same = Unchanged(buyer, publisher)
    refused(file(client, stranger, other_sale.id), 404, "not_found")
    refused(file(client, stranger, 999_999), 404, "not_found")
    same.check()
    assert client.get(f"{RETURNS}/{ret['id']}", headers=stranger.headers).status_code == 404
    assert client.get(RETURNS, headers=stranger.headers).json["items"] == []
    # Nor a publisher whose lead it is not.
    assert client.get(f"{RETURNS}/{ret['id']}", headers=other_publisher.headers).status_code == 404
    assert client.get(RETURNS, headers=other_publisher.headers).json["items"] == []
    refused(answer(client, other_publisher, ret["id"], "Not mine"), 404, "not_found")
    # Publishers do not file, buyers do not answer or rule.
    assert file(client, publisher, sale.id).status_code == 403
    assert answer(client, buyer, ret["id"], "x").status_code == 403
    assert rule(client, buyer, ret["id"], "approve", "x").status_code == 403
    assert client.get(ADMIN_RETURNS, headers=publisher.headers).status_code == 403

    # The sale's own buyer and publisher do see it, without the other side's identity.
    for account in (buyer, publisher):
        mine = client.get(f"{RETURNS}/{ret['id']}", headers=account.headers)
        assert mine.status_code == 200 and mine.json["sale_id"] == sale.id
        assert not {"buyer_id", "publisher_id"} & set(mine.json)
        assert [r["id"] for r in client.get(RETURNS, headers=account.headers).json["items"]] == [
            ret["id"]
        ]


# --- the automatic re-check -------------------------------------------------------------------


def _duplicate_setup(client: FlaskClient, publisher: Account, admin: Account) -> int:
    # Intake refuses the same person twice within the niche's duplicate window; with no window
    # the second lead is sold to the same buyer, which the re-check proves.
    patch_niche(client, admin, duplicate_window_days=0)
    sell(client, publisher, 1)
    return 1


PROVABLE: dict[str, tuple[dict[str, Any], str]] = {
    "invalid_phone": ({"phone": BAD_PHONE}, "reserved for fiction"),
    "invalid_email": ({"email": BAD_EMAIL}, "disposable"),
    "outside_geography": ({"postal_code": NEVADA_ZIP}, "US-NV"),
    "duplicate": ({}, "sold to this buyer before"),
}


@pytest.mark.parametrize("reason", list(PROVABLE))
def test_a_proven_reason_is_approved_and_refunded_in_the_same_request(
    client: FlaskClient,
    publisher: Account,
    buyer: Account,
    admin: Account,
    market: int,
    reason: str,
) -> None:
    n = _duplicate_setup(client, publisher, admin) if reason == "duplicate" else 2
    before = money(buyer, publisher)
    sale = sell(client, publisher, n)
    columns, grounds = PROVABLE[reason]
    if columns:
        spoil(sale, **columns)
    assert money(buyer, publisher)["buyer"] == before["buyer"] - PRICE

    response = file(client, buyer, sale.id, reason, evidence={"text": "Checked."})

    assert response.status_code == 201, response.json
    ret = response.json
    assert (ret["status"], ret["stage"], ret["kind"]) == ("approved", "decided", "return")
    assert ret["finding"]["result"] == "proven" and grounds in ret["finding"]["detail"]
    assert (ret["amount"], ret["refunded"], ret["decided_by"]) == (PRICE, PRICE, "automatic")
    assert ret["evidence"] == {"text": "Checked."}
    assert money(buyer, publisher) == before  # buyer, publisher and platform all as before
    assert sale_status(sale.id) == SaleStatus.RETURNED
    [entry] = refund_entries()
    assert (entry.kind, entry.idempotency_key) == (EntryKind.RETURN, f"return:{ret['id']}")
    assert entry.reverses_id == sale.entry_id
    lead = db.session.get(Lead, sale.lead_id)
    assert lead is not None and lead.payout == 0
    approved = events("return.approved", ret["id"])
    assert {e.organization_id for e in approved} == {buyer.org.id, publisher.org.id}
    for event in approved:
        assert event.data["grounds"] == ret["finding"]["detail"]
        assert event.data["decided_by"] == "automatic"
        assert (event.data["refunded"], event.data["publisher_back"]) == (PRICE, EARNED)
    assert [e.organization_id for e in events("return.filed", ret["id"])] == [buyer.org.id]


@pytest.mark.parametrize("reason", list(PROVABLE))
def test_a_reason_the_recheck_cannot_prove_goes_to_the_publisher(
    client: FlaskClient,
    publisher: Account,
    buyer: Account,
    admin: Account,
    market: int,
    reason: str,
) -> None:
    # The same reasons on a sound lead (for duplicate: the first sale of the person).
    patch_niche(client, admin, duplicate_window_days=0)
    sale = sell(client, publisher, 1)
    sell(client, publisher, 1)
    before = money(buyer, publisher)

    response = file(client, buyer, sale.id, reason)

    assert response.status_code == 201, response.json
    ret = response.json
    assert (ret["status"], ret["stage"], ret["refunded"]) == ("pending", "publisher", 0)
    assert ret["finding"]["result"] == "inconclusive"
    respond_by = dt.datetime.fromisoformat(ret["respond_by"])
    filed = dt.datetime.fromisoformat(ret["created_at"])
    assert respond_by - filed == dt.timedelta(hours=48)
    assert money(buyer, publisher) == before
    assert sale_status(sale.id) == SaleStatus.SOLD
    assert [e.organization_id for e in events("return.awaiting_response", ret["id"])] == [
        publisher.org.id
    ]


def test_a_lead_the_buyer_reported_qualified_goes_to_an_admin_as_disproven(
    client: FlaskClient, publisher: Account, buyer: Account, admin: Account, market: int
) -> None:
    sale = sell(client, publisher, 1)
    spoil(sale, phone=BAD_PHONE)  # the phone check alone would prove it
    moved = client.patch(
        f"/api/v1/purchases/{sale.id}", json={"status": "qualified"}, headers=buyer.headers
    )
    assert moved.status_code == 200, moved.json
    before = money(buyer, publisher)

    ret = file(client, buyer, sale.id, "invalid_phone").json

    assert (ret["status"], ret["stage"], ret["respond_by"]) == ("pending", "admin", None)
    assert ret["finding"]["result"] == "disproven"
    assert "qualified" in ret["finding"]["detail"]
    assert ret["refunded"] == 0 and money(buyer, publisher) == before
    assert refund_entries() == []
    sent = events("return.sent_to_admin", ret["id"])
    assert {e.organization_id for e in sent} == {buyer.org.id, publisher.org.id}
    assert sent[0].data["finding"]["result"] == "disproven"
    queue = client.get(ADMIN_RETURNS, query_string={"stage": "admin"}, headers=admin.headers).json
    assert [(r["id"], r["finding"]["result"]) for r in queue["items"]] == [(ret["id"], "disproven")]

    approved = rule(client, admin, ret["id"], "approve", "The number is fictional after all.")
    assert approved.status_code == 200, approved.json
    assert approved.json["refunded"] == PRICE
    after = money(buyer, publisher)
    assert after["buyer"] == before["buyer"] + PRICE
    assert after["pending"] == before["pending"] - EARNED
    assert after["revenue"] == before["revenue"] - MARGIN


# --- the publisher's answer and the admin's ruling ---------------------------------------------


def test_the_publisher_answers_in_time_then_an_admin_approves_once(
    client: FlaskClient, publisher: Account, buyer: Account, admin: Account, market: int
) -> None:
    sale = sell(client, publisher, 1)
    before = money(buyer, publisher)
    ret = file(
        client, buyer, sale.id, "wrong_person", evidence={"text": "He says he never asked."}
    ).json
    assert ret["stage"] == "publisher"

    seen = client.get(RETURNS, headers=publisher.headers).json["items"]
    assert [(r["id"], r["reason"], r["evidence"]) for r in seen] == [
        (ret["id"], "wrong_person", {"text": "He says he never asked."})
    ]
    answered = answer(client, publisher, ret["id"], "Consent recorded on the form.")
    assert answered.status_code == 200, answered.json
    assert answered.json["stage"] == "admin" and answered.json["status"] == "pending"
    assert answered.json["publisher_response"] == "Consent recorded on the form."
    assert answered.json["publisher_evidence"] == {"reference": "call-log-9"}
    assert answered.json["responded_at"] is not None
    refused(answer(client, publisher, ret["id"], "And again."), 409, "already_answered")
    assert money(buyer, publisher) == before  # an answer moves nothing

    shown = client.get(f"{ADMIN_RETURNS}/{ret['id']}", headers=admin.headers).json
    assert (shown["buyer_id"], shown["publisher_id"]) == (buyer.org.id, publisher.org.id)
    assert shown["publisher_response"] == "Consent recorded on the form."

    first = rule(client, admin, ret["id"], "approve", "The recording shows another person.")
    assert first.status_code == 200, first.json
    assert (first.json["status"], first.json["stage"]) == ("approved", "decided")
    assert first.json["decided_by"] == f"admin:{admin.org.id}"
    for decision in ("approve", "reject"):
        refused(rule(client, admin, ret["id"], decision, "Again."), 409, "already_decided")
    refused(answer(client, publisher, ret["id"], "Late."), 409, "already_decided")

    assert money(buyer, publisher) == {
        **before,
        "buyer": before["buyer"] + PRICE,
        "pending": before["pending"] - EARNED,
        "revenue": before["revenue"] - MARGIN,
    }
    assert len(refund_entries()) == 1
    assert sale_status(sale.id) == SaleStatus.RETURNED
    [approved, _] = events("return.approved", ret["id"])
    assert approved.actor_organization_id == admin.org.id
    assert approved.data["grounds"] == "The recording shows another person."
    assert approved.data["decided_by"] == f"admin:{admin.org.id}"
    mine = client.get(f"{RETURNS}/{ret['id']}", headers=buyer.headers).json
    assert (mine["status"], mine["refunded"]) == ("approved", PRICE)


def test_a_late_answer_is_refused_and_a_rejection_moves_nothing(
    client: FlaskClient, publisher: Account, buyer: Account, admin: Account, market: int
) -> None:
    sale = sell(client, publisher, 1)
    ret = file(client, buyer, sale.id, "disconnected").json
    before = money(buyer, publisher)
    db.session.execute(
        update(LeadReturn)
        .where(LeadReturn.id == ret["id"])
        .values(respond_by=utcnow() - dt.timedelta(seconds=1))
    )
    db.session.commit()

    refused(answer(client, publisher, ret["id"], "Too late."), 409, "response_window_closed")
    row = db.session.get(LeadReturn, ret["id"])
    assert row is not None and row.publisher_response is None and row.stage.value == "publisher"

    # Unanswered, it still reaches the admins' queue.
    queue = client.get(ADMIN_RETURNS, headers=admin.headers).json["items"]
    assert [r["id"] for r in queue] == [ret["id"]]
    rejected = rule(client, admin, ret["id"], "reject", "The line rang; nobody picked up.")
    assert rejected.status_code == 200, rejected.json
    refused(rule(client, admin, ret["id"], "approve", "Changed my mind."), 409, "already_decided")

    assert money(buyer, publisher) == before
    assert refund_entries() == []
    assert sale_status(sale.id) == SaleStatus.SOLD
    mine = client.get(f"{RETURNS}/{ret['id']}", headers=buyer.headers).json
    assert (mine["status"], mine["stage"], mine["refunded"]) == ("rejected", "decided", 0)
    assert mine["decision_note"] == "The line rang; nobody picked up."
    rejected_events = events("return.rejected", ret["id"])
    assert {e.organization_id for e in rejected_events} == {buyer.org.id, publisher.org.id}
    assert rejected_events[0].data["grounds"] == "The line rang; nobody picked up."
    assert client.get(ADMIN_RETURNS, headers=admin.headers).json["items"] == []


def test_bad_rulings_and_answers_are_refused(
    client: FlaskClient, publisher: Account, buyer: Account, admin: Account, market: int
) -> None:
    sale = sell(client, publisher, 1)
    ret = file(client, buyer, sale.id).json
    for body, field in (
        ({"decision": "maybe", "note": "x"}, "decision"),
        ({"decision": "approve"}, "note"),
        ({"decision": "approve", "note": ""}, "note"),
    ):
        response = client.post(f"{ADMIN_RETURNS}/{ret['id']}", json=body, headers=admin.headers)
        assert response.status_code == 422 and field in response.json["fields"], response.json
    refused(rule(client, admin, 999_999, "approve", "x"), 404, "not_found")
    empty = client.post(f"{RETURNS}/{ret['id']}/response", json={}, headers=publisher.headers)
    assert empty.status_code == 422 and "message" in empty.json["fields"]
    assert refund_entries() == []


def test_the_admin_queue_is_oldest_first_and_filters(
    client: FlaskClient,
    publisher: Account,
    buyer: Account,
    admin: Account,
    make_account: Any,
    market: int,
) -> None:
    set_terms(client, admin, buyer, return_cap_percent=100)
    sales = [sell(client, publisher, n) for n in range(1, 5)]
    spoil(sales[3], phone=BAD_PHONE)
    ids = [
        file(client, buyer, sales[0].id, "wrong_person").json["id"],
        file(client, buyer, sales[1].id, "disconnected").json["id"],
        file(client, buyer, sales[2].id, "wrong_person").json["id"],
    ]
    auto = file(client, buyer, sales[3].id, "invalid_phone").json["id"]
    answer(client, publisher, ids[1], "Answered.")

    def queue(**query: Any) -> list[int]:
        response = client.get(ADMIN_RETURNS, query_string=query, headers=admin.headers)
        assert response.status_code == 200, response.json
        return [r["id"] for r in response.json["items"]]

    assert queue() == ids  # pending only, oldest first
    assert queue(status="approved") == [auto]
    assert queue(stage="admin") == [ids[1]]
    assert queue(stage="publisher") == [ids[0], ids[2]]
    assert queue(reason="wrong_person") == [ids[0], ids[2]]
    assert queue(buyer_id=buyer.org.id) == ids
    assert queue(publisher_id=publisher.org.id) == ids
    assert queue(niche_id=sales[0].niche_id) == ids
    assert queue(buyer_id=make_account("buyer").org.id) == []
    first = client.get(ADMIN_RETURNS, query_string={"limit": 2}, headers=admin.headers).json
    assert [r["id"] for r in first["items"]] == ids[:2]
    rest = client.get(
        ADMIN_RETURNS,
        query_string={"limit": 2, "cursor": first["next_cursor"]},
        headers=admin.headers,
    ).json
    assert [r["id"] for r in rest["items"]] == ids[2:]
    bad = client.get(ADMIN_RETURNS, query_string={"reason": "nope"}, headers=admin.headers)
    assert bad.status_code == 422
    # The buyer's own list is newest first and filters by status.
    mine = client.get(RETURNS, query_string={"status": "pending"}, headers=buyer.headers).json
    assert [r["id"] for r in mine["items"]] == ids[::-1]


# --- after the publisher was paid out ---------------------------------------------------------


def release_and_pay(gateway: FakeGateway) -> list[tuple[str, int]]:
    """Make every held earning due, then run the payout job; (outcome, amount) per payout."""
    db.session.execute(update(EarningHold).values(release_at=utcnow() - dt.timedelta(minutes=1)))
    db.session.commit()
    _released, results = pay_publishers(gateway, 0)
    return [(r.outcome, r.amount) for r in results]


def test_a_return_after_the_payout_is_recovered_from_the_next_earnings(
    client: FlaskClient,
    publisher: Account,
    buyer: Account,
    market: int,
    fake_gateway: FakeGateway,
) -> None:
    set_payout_destination(db.session, publisher.org.id, "acct_publisher")
    db.session.commit()
    sale = sell(client, publisher, 1)
    assert release_and_pay(fake_gateway) == [("paid", EARNED)]
    paid = money(buyer, publisher)
    assert (paid["pending"], paid["payable"], paid["paid_out"]) == (0, 0, EARNED)

    spoil(sale, phone=BAD_PHONE)
    ret = file(client, buyer, sale.id, "invalid_phone").json
    assert ret["status"] == "approved"

    # The earnings were gone: payable goes negative by the publisher's share.
    after = money(buyer, publisher)
    assert after == {
        **paid,
        "buyer": paid["buyer"] + PRICE,
        "payable": -EARNED,
        "revenue": paid["revenue"] - MARGIN,
    }
    [entry] = refund_entries()
    legs = {p.account.kind: p.amount for p in entry.postings}
    assert legs == {
        AccountKind.BUYER_BALANCE: PRICE,
        AccountKind.PUBLISHER_PAYABLE: -EARNED,
        AccountKind.PLATFORM_REVENUE: -MARGIN,
    }
    assert release_and_pay(fake_gateway) == []  # nothing to pay while negative

    # The next sale (at 40.00, 28.00 earned) covers it once released: 28.00 - 17.50 is paid.
    create_campaign(client, buyer, name="better", pricing=fixed(4000))
    sell(client, publisher, 2)
    held = money(buyer, publisher)
    assert (held["pending"], held["payable"]) == (2800, -EARNED)
    assert release_and_pay(fake_gateway) == [("paid", 2800 - EARNED)]
    final = money(buyer, publisher)
    assert (final["pending"], final["payable"], final["paid_out"]) == (0, 0, 2800)
    assert [t["amount"] for t in fake_gateway.transfers] == [EARNED, 2800 - EARNED]


def test_a_return_after_release_but_before_the_payout_comes_out_of_payable(
    client: FlaskClient, publisher: Account, buyer: Account, market: int
) -> None:
    from billing.charges import release_due_earnings

    sale = sell(client, publisher, 1)
    db.session.execute(update(EarningHold).values(release_at=utcnow() - dt.timedelta(minutes=1)))
    assert release_due_earnings(db.session) == 1
    db.session.commit()
    spoil(sale, phone=BAD_PHONE)
    assert file(client, buyer, sale.id, "invalid_phone").json["status"] == "approved"
    after = money(buyer, publisher)
    assert (after["buyer"], after["pending"], after["payable"], after["revenue"]) == (
        FUNDS,
        0,
        0,
        0,
    )


# --- campaign caps ----------------------------------------------------------------------------


def test_a_returned_lead_no_longer_counts_against_the_campaigns_cap(
    client: FlaskClient, publisher: Account, buyer: Account, solar: Any
) -> None:
    fund(buyer.org.id, FUNDS)
    create_campaign(client, buyer, caps={"leads": {"day": 1}})
    sale = sell(client, publisher, 1)
    assert post_lead(client, publisher, 2)["status"] == "unsold"  # the day's one lead is bought

    spoil(sale, phone=BAD_PHONE)
    assert file(client, buyer, sale.id, "invalid_phone").json["status"] == "approved"

    assert post_lead(client, publisher, 3)["status"] == "sold"
    assert post_lead(client, publisher, 4)["status"] == "unsold"
    assert money(buyer, publisher)["buyer"] == FUNDS - PRICE


# --- disputes of CPA charges ------------------------------------------------------------------


def test_a_disputed_cpa_charge_comes_back_once_approved(
    client: FlaskClient, publisher: Account, buyer: Account, admin: Account, solar: Any
) -> None:
    fund(buyer.org.id, FUNDS)
    create_campaign(client, buyer, pricing={"model": "cpa", "actions": {"sale": 5000}, "cpl": 200})
    sale = sell(client, publisher, 1)
    conversion = client.post(
        "/api/v1/conversions",
        json={"sale_id": sale.id, "action": "sale", "transaction_id": "crm-7"},
        headers=buyer.headers,
    ).json
    assert conversion["amount"] == 5000
    before = money(buyer, publisher)
    assert before["buyer"] == FUNDS - 200 - 5000

    response = client.post(
        f"/api/v1/conversions/{conversion['id']}/disputes",
        json={"reason": "fake_or_fraud", "evidence": {"reference": "order-cancelled-7"}},
        headers=buyer.headers,
    )
    assert response.status_code == 201, response.json
    dispute = response.json
    assert (dispute["kind"], dispute["status"], dispute["stage"]) == (
        "dispute",
        "pending",
        "publisher",
    )
    assert (dispute["conversion_id"], dispute["sale_id"], dispute["amount"]) == (
        conversion["id"],
        sale.id,
        5000,
    )
    assert money(buyer, publisher) == before
    refused(
        client.post(
            f"/api/v1/conversions/{conversion['id']}/disputes",
            json={"reason": "fake_or_fraud"},
            headers=buyer.headers,
        ),
        409,
        "return_pending",
    )

    approved = rule(client, admin, dispute["id"], "approve", "The order was cancelled.")
    assert approved.status_code == 200, approved.json
    assert approved.json["refunded"] == 5000
    after = money(buyer, publisher)
    assert after["buyer"] == before["buyer"] + 5000
    assert after["pending"] == before["pending"] - 3500  # 70% of the action's charge
    assert after["revenue"] == before["revenue"] - 1500
    [entry] = refund_entries()
    assert (entry.kind, entry.idempotency_key) == (EntryKind.REFUND, f"return:{dispute['id']}")
    assert entry.reverses_id == db.session.scalar(
        select(JournalEntry.id).where(
            JournalEntry.idempotency_key == f"conversion:{conversion['id']}"
        )
    )
    # The lead itself stays sold (its 2.00 per lead is not disputed).
    assert sale_status(sale.id) == SaleStatus.SOLD
    refused(rule(client, admin, dispute["id"], "approve", "Again."), 409, "already_decided")
    assert len(refund_entries()) == 1
    assert [e.organization_id for e in events("dispute.approved", dispute["id"])] == [
        buyer.org.id,
        publisher.org.id,
    ]


def test_a_conversion_that_charged_nothing_cannot_be_disputed(
    client: FlaskClient, publisher: Account, buyer: Account, make_account: Any, market: int
) -> None:
    sale = sell(client, publisher, 1)
    conversion = client.post(
        "/api/v1/conversions",
        json={"sale_id": sale.id, "action": "sale", "transaction_id": "crm-8"},
        headers=buyer.headers,
    ).json
    assert conversion["amount"] == 0  # a CPL campaign: the action is recorded, not charged
    url = f"/api/v1/conversions/{conversion['id']}/disputes"
    same = Unchanged(buyer, publisher)
    body = {"reason": "other", "note": "x"}
    refused(client.post(url, json=body, headers=buyer.headers), 409, "nothing_charged")
    stranger = make_account("buyer")
    refused(client.post(url, json=body, headers=stranger.headers), 404, "not_found")
    same.check()


# --- the source's record and the flag ---------------------------------------------------------


def test_a_publisher_returned_too_often_is_flagged_until_an_admin_clears_it(
    client: FlaskClient, publisher: Account, buyer: Account, admin: Account, market: int
) -> None:
    patch_niche(client, admin, flag_return_rate=10)
    sales = [sell(client, publisher, n) for n in range(1, 10)]
    spoil(sales[0], phone=BAD_PHONE)
    assert file(client, buyer, sales[0].id, "invalid_phone").json["status"] == "approved"
    # 1 of 9 is over 10%, but 9 sales are too few to judge a source.
    assert count(PublisherFlag) == 0
    sales += [sell(client, publisher, n) for n in (10, 11)]
    spoil(sales[10], email=BAD_EMAIL)
    assert file(client, buyer, sales[10].id, "invalid_email").json["status"] == "approved"

    flags = client.get("/api/v1/admin/flags", headers=admin.headers)
    assert flags.status_code == 200, flags.json
    [flag] = flags.json
    assert (flag["publisher_id"], flag["niche_id"]) == (publisher.org.id, sales[0].niche_id)
    assert flag["return_rate"] == pytest.approx(2 / 11, abs=1e-4)
    assert "threshold 10%" in flag["reason"] and flag["cleared_at"] is None
    flagged_events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "publisher.flagged")
    ).all()
    assert [e.organization_id for e in flagged_events] == [publisher.org.id]

    # The publisher sees its own record.
    mine = client.get("/api/v1/sources", headers=publisher.headers)
    assert mine.status_code == 200, mine.json
    [row] = mine.json["rows"]
    assert (row["niche"], row["sub_id"], row["sold"], row["returned"]) == ("solar", "aff-12", 11, 2)
    assert row["return_rate"] == pytest.approx(2 / 11, abs=1e-4) and row["flagged"] is True
    table = client.get("/api/v1/admin/sources", headers=admin.headers).json["rows"]
    assert [(r["publisher_id"], r["returned"], r["flagged"]) for r in table] == [
        (publisher.org.id, 2, True)
    ]
    assert client.get("/api/v1/admin/sources", headers=publisher.headers).status_code == 403
    assert client.get("/api/v1/sources", headers=buyer.headers).status_code == 403

    # Its next lead in the niche goes to a person instead of being sold.
    held = post_lead(client, publisher, 12)
    assert held["status"] == "review"
    assert count(Sale, Sale.lead_id == held["id"]) == 0
    row_lead = db.session.get(Lead, held["id"])
    assert row_lead is not None and row_lead.quality is not None
    assert "source_flagged" in {r["code"] for r in row_lead.quality["reasons"]}

    cleared = client.post(
        f"/api/v1/admin/flags/{flag['id']}/clear",
        json={"note": "Spoke to them; the bad sub-id is off."},
        headers=admin.headers,
    )
    assert cleared.status_code == 200, cleared.json
    assert cleared.json["cleared_at"] is not None
    assert cleared.json["cleared_by_id"] == admin.org.id
    refused(
        client.post(
            f"/api/v1/admin/flags/{flag['id']}/clear", json={"note": "x"}, headers=admin.headers
        ),
        409,
        "already_cleared",
    )
    assert client.get("/api/v1/admin/flags", headers=admin.headers).json == []
    everything = client.get(
        "/api/v1/admin/flags", query_string={"open": "false"}, headers=admin.headers
    ).json
    assert [f["id"] for f in everything] == [flag["id"]]
    assert post_lead(client, publisher, 13)["status"] == "sold"


# --- any sequence of filings and rulings ------------------------------------------------------

_people = itertools.count(100)
OPS = st.lists(
    st.tuples(
        st.sampled_from(["file_phone", "file_other", "approve", "reject"]), st.integers(0, 2)
    ),
    max_size=10,
)


@settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(bad_phone=st.lists(st.booleans(), min_size=3, max_size=3), ops=OPS)
def test_any_sequence_of_filings_and_rulings_refunds_each_sale_at_most_once(
    client: FlaskClient,
    make_account: Any,
    buyer: Account,
    admin: Account,
    market: int,
    bad_phone: list[bool],
    ops: list[tuple[str, int]],
) -> None:
    set_terms(client, admin, buyer, return_cap_percent=100)
    # A publisher of its own per example: the returns of earlier examples would flag one.
    publisher = make_account("publisher")
    start = money(buyer, publisher)["buyer"]
    sales = [sell(client, publisher, next(_people)) for _ in range(3)]
    for sale, bad in zip(sales, bad_phone, strict=True):
        if bad:
            spoil(sale, phone=BAD_PHONE)
    returned = [False] * 3
    pending: list[int | None] = [None] * 3
    last: list[int | None] = [None] * 3

    for op, i in ops:
        if op.startswith("file"):
            reason = "invalid_phone" if op == "file_phone" else "wrong_person"
            response = file(client, buyer, sales[i].id, reason)
            if returned[i]:
                refused(response, 409, "already_returned")
            elif pending[i] is not None:
                refused(response, 409, "return_pending")
            else:
                assert response.status_code == 201, response.json
                last[i] = response.json["id"]
                if reason == "invalid_phone" and bad_phone[i]:
                    assert response.json["status"] == "approved"
                    returned[i] = True
                else:
                    assert response.json["status"] == "pending"
                    pending[i] = response.json["id"]
        elif (target := last[i]) is not None:
            decision = "approve" if op == "approve" else "reject"
            response = rule(client, admin, target, decision, f"{decision} {target}")
            if pending[i] == target:
                assert response.status_code == 200, response.json
                pending[i] = None
                returned[i] = returned[i] or decision == "approve"
            else:
                refused(response, 409, "already_decided")

    assert money(buyer, publisher)["buyer"] == start - PRICE * (3 - sum(returned))
    for sale, was_returned in zip(sales, returned, strict=True):
        assert sale_status(sale.id) == (SaleStatus.RETURNED if was_returned else SaleStatus.SOLD)
        charge_entry = db.session.get(JournalEntry, sale.entry_id)
        assert charge_entry is not None
        buyer_back, publisher_back = refunded_so_far(db.session, charge_entry)
        assert (buyer_back, publisher_back) == ((PRICE, EARNED) if was_returned else (0, 0))
        approved = db.session.scalars(
            select(LeadReturn).where(
                LeadReturn.sale_id == sale.id, LeadReturn.status == ReturnStatus.APPROVED
            )
        ).all()
        assert len(approved) == int(was_returned)
        assert sum(r.refunded for r in approved) <= sale.price
    books = check_books(db.session)
    db.session.rollback()
    assert books.ok, books.problems
