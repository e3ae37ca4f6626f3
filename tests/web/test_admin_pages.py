"""The admin console through the test client: every page renders real content for an admin,
other roles get 403 everywhere (POSTs change nothing), bad input is 4xx with messages and
stores nothing, a return's money moves once, bulk review decisions, credit, the ledger check."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from billing.models import LedgerAccount
from billing.statements import balances
from exchange.models import (
    AuditEvent,
    Lead,
    LeadReturn,
    LeadStatus,
    Niche,
    PriceRule,
    PublisherFlag,
    ReturnStatus,
    Role,
)
from extensions import db
from tests.browser.admin_steps import PRICE, market, open_return, review_lead
from tests.web.conftest import post_form

FUNDS = 100_000


def html_of(response: Any) -> str:
    return str(response.get_data(as_text=True))


def count(model: Any, *where: Any) -> int:
    db.session.rollback()
    return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def buyer_balance(org_id: int) -> int:
    db.session.rollback()
    rows = balances(db.session, org_id)
    db.session.rollback()
    return int(next(r["balance"] for r in rows if r["currency"] == "USD"))


@pytest.fixture
def admin_client(client: FlaskClient, portal_user: Any, login: Any) -> FlaskClient:
    login(portal_user(Role.ADMIN, name="Admin Desk"))
    return client


@pytest.fixture
def case(client: FlaskClient, publisher: Any, buyer: Any, solar: Any) -> Any:
    """A funded buyer with a CA solar campaign and one pending return against a sale."""
    market(client, buyer, FUNDS)
    return open_return(client, publisher, buyer, 1)


# --- every page, for an admin ----------------------------------------------------------------


def test_every_admin_page_shows_real_content(
    admin_client: FlaskClient, case: Any, publisher: Any, buyer: Any, client: FlaskClient
) -> None:
    lead_in_review = review_lead(client, publisher, 7)
    c = admin_client
    dashboard = html_of(c.get("/admin/"))
    assert 'id="count-returns-publisher">1<' in dashboard
    assert 'id="count-reviews">1<' in dashboard and "not run" in dashboard
    queue = html_of(c.get("/admin/returns"))
    assert f'data-return="{case.return_id}"' in queue and "wrong person" in queue
    assert buyer.org.name in queue and publisher.org.name in queue
    detail = html_of(c.get(f"/admin/returns/{case.return_id}"))
    for text in (
        "Not this person",
        "spoke to someone else",
        "inconclusive",
        "Bea Reyes",
        "25.00 USD",
        "The publisher's side",
        "Quality report",
        "CA solar",
    ):
        assert text in detail, text
    assert f'data-lead="{lead_in_review}"' in html_of(c.get("/admin/reviews"))
    assert "postal_code_region_mismatch" in html_of(c.get("/admin/reviews"))
    niches = html_of(c.get("/admin/niches"))
    assert "monthly_electric_bill" in niches and "/admin/niches/solar" in niches
    assert 'value="monthly_electric_bill"' in html_of(c.get("/admin/niches/solar"))
    assert 'name="slug"' in html_of(c.get("/admin/niches/new"))
    prices = html_of(c.get("/admin/prices"))
    assert "Solar" in prices and "Quality tiers" in prices
    quality = html_of(c.get("/admin/quality"))
    assert publisher.org.name in quality and "No publisher is flagged." in quality
    orgs = html_of(c.get("/admin/organizations"))
    assert buyer.org.name in orgs and "975.00 USD" in orgs  # 1,000.00 funded, 25.00 spent
    assert "Credit limit" in html_of(c.get(f"/admin/organizations/{buyer.org.id}"))
    assert "has not been run yet" in html_of(c.get("/admin/ledger"))


def test_pages_say_when_there_is_nothing(admin_client: FlaskClient) -> None:
    c = admin_client
    expected = {
        "/admin/": "Nothing is waiting",
        "/admin/returns": "No returns match",
        "/admin/reviews": "No leads are waiting for review.",
        "/admin/niches": "No niches yet",
        "/admin/prices": "No niches yet",
        "/admin/quality": "No leads from any publisher",
        "/admin/ledger": "has not been run yet",
    }
    for path, text in expected.items():
        response = c.get(path)
        assert response.status_code == 200, path
        assert text in html_of(response), path
    assert "Admin Desk" in html_of(c.get("/admin/organizations"))


# --- other roles ------------------------------------------------------------------------------

PAGES = [
    "/admin/",
    "/admin/returns",
    "/admin/returns/{r}",
    "/admin/reviews",
    "/admin/niches",
    "/admin/niches/new",
    "/admin/niches/solar",
    "/admin/prices",
    "/admin/quality",
    "/admin/organizations",
    "/admin/organizations/{b}",
    "/admin/ledger",
]


@pytest.mark.parametrize("role", [Role.PUBLISHER, Role.BUYER])
def test_other_roles_get_403_on_every_admin_page_and_change_nothing(
    client: FlaskClient, portal_user: Any, login: Any, case: Any, buyer: Any, role: Role
) -> None:
    login(portal_user(role))
    for path in PAGES:
        assert client.get(path.format(r=case.return_id, b=buyer.org.id)).status_code == 403, path
    rule_id = 1
    posts = {
        f"/admin/returns/{case.return_id}": {"decision": "approve", "note": "mine"},
        "/admin/reviews/decide": {"lead": "1", "decision": "accept"},
        "/admin/reviews/1/decide": {"decision": "accept"},
        "/admin/niches/new": {"slug": "x-niche", "name": "X"},
        "/admin/niches/solar": {"name": "Renamed"},
        "/admin/prices/rules": {"niche": "solar", "place": "US", "base_cpl": "10"},
        f"/admin/prices/rules/{rule_id}/delete": {},
        "/admin/prices/settings": {"niche": "solar", "exclusive_multiplier": "2"},
        "/admin/flags/1/clear": {"note": "x"},
        f"/admin/organizations/{buyer.org.id}/credit": {
            "currency": "USD",
            "credit_limit": "500",
            "note": "x",
        },
        f"/admin/organizations/{buyer.org.id}/terms": {"return_window_hours": "1"},
        "/admin/ledger/check": {},
    }
    for path, data in posts.items():
        assert post_form(client, path, data).status_code == 403, path
    assert count(LeadReturn, LeadReturn.status == ReturnStatus.PENDING) == 1
    assert count(Niche) == 1 and count(PriceRule) == 0
    assert db.session.scalar(select(Niche.name)) == "Solar"
    assert (
        count(
            AuditEvent, AuditEvent.action.in_(["billing.credit_limit_set", "billing.books_checked"])
        )
        == 0
    )


def test_logged_out_visitors_are_sent_to_log_in(client: FlaskClient) -> None:
    response = client.get("/admin/returns")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- returns ----------------------------------------------------------------------------------


def test_approving_a_return_moves_the_money_once(
    admin_client: FlaskClient, case: Any, buyer: Any
) -> None:
    before = buyer_balance(buyer.org.id)
    assert before == FUNDS - PRICE
    path = f"/admin/returns/{case.return_id}"
    response = post_form(admin_client, path, {"decision": "approve", "note": "Call log agrees"})
    assert response.status_code == 302
    page = html_of(admin_client.get(path))
    assert "25.00 USD went back to the buyer" in page and "Call log agrees" in page
    assert "Admin Desk" in page  # who ruled, by name
    assert buyer_balance(buyer.org.id) == before + PRICE
    for decision in ("approve", "reject"):
        again = post_form(admin_client, path, {"decision": decision, "note": "Once more"})
        assert again.status_code == 409
        assert f"Return {case.return_id} was already approved." in html_of(again)
    assert buyer_balance(buyer.org.id) == before + PRICE
    assert count(LeadReturn, LeadReturn.status == ReturnStatus.APPROVED) == 1


def test_a_ruling_needs_a_note_and_a_known_decision(
    admin_client: FlaskClient, case: Any, buyer: Any
) -> None:
    path = f"/admin/returns/{case.return_id}"
    no_note = post_form(admin_client, path, {"decision": "approve", "note": "  "})
    assert no_note.status_code == 422
    assert 'id="e-note">Required.' in html_of(no_note)
    odd = post_form(admin_client, path, {"decision": "refund-twice", "note": "x"})
    assert odd.status_code == 422 and "One of: approve, reject." in html_of(odd)
    assert (
        post_form(
            admin_client, "/admin/returns/999999", {"decision": "approve", "note": "x"}
        ).status_code
        == 404
    )
    assert admin_client.get("/admin/returns/999999").status_code == 404
    assert count(LeadReturn, LeadReturn.status == ReturnStatus.PENDING) == 1
    assert buyer_balance(buyer.org.id) == FUNDS - PRICE


def test_the_queue_filters_and_refuses_bad_filters(admin_client: FlaskClient, case: Any) -> None:
    c = admin_client
    assert f'data-return="{case.return_id}"' in html_of(c.get("/admin/returns?stage=publisher"))
    assert f'data-return="{case.return_id}"' not in html_of(c.get("/admin/returns?stage=admin"))
    assert f'data-return="{case.return_id}"' in html_of(
        c.get("/admin/returns?reason=wrong_person&niche=solar")
    )
    bad = c.get("/admin/returns?status=lost&niche=nope")
    assert bad.status_code == 422
    assert "No such niche." in html_of(bad) and "One of: pending" in html_of(bad)
    assert c.get("/admin/returns?cursor=garbage").status_code == 422


# --- the review queue -------------------------------------------------------------------------


def test_bulk_review_decides_each_lead_and_reports_each_result(
    admin_client: FlaskClient, client: FlaskClient, publisher: Any, solar: Any
) -> None:
    a, b, c = (review_lead(client, publisher, n) for n in (1, 2, 3))
    single = post_form(admin_client, f"/admin/reviews/{c}/decide", {"decision": "reject"})
    assert single.status_code == 302
    response = post_form(
        admin_client,
        "/admin/reviews/decide",
        {"lead": [str(a), str(b), str(c)], "decision": "accept", "note": "ZIP typos"},
        follow_redirects=True,
    )
    page = html_of(response)
    assert f"2 leads accepted: {a}, {b}." in page
    assert f"Lead {c}: Lead {c} is rejected, not in review." in page
    db.session.rollback()
    statuses = dict(db.session.execute(select(Lead.id, Lead.status)).all())
    assert statuses == {a: LeadStatus.UNSOLD, b: LeadStatus.UNSOLD, c: LeadStatus.REJECTED}
    notes = db.session.scalars(select(AuditEvent.data).where(AuditEvent.action == "review.accept"))
    assert [n["note"] for n in notes] == ["ZIP typos", "ZIP typos"]


def test_bulk_review_refuses_bad_input_and_decides_nothing(
    admin_client: FlaskClient, client: FlaskClient, publisher: Any, solar: Any
) -> None:
    lead = review_lead(client, publisher, 1)
    nothing = post_form(admin_client, "/admin/reviews/decide", {"decision": "accept"})
    assert nothing.status_code == 422 and "Tick at least one lead." in html_of(nothing)
    junk = post_form(
        admin_client, "/admin/reviews/decide", {"lead": ["x1", str(lead)], "decision": "accept"}
    )
    assert junk.status_code == 422 and "&#39;x1&#39; is not a lead id." in html_of(junk)
    odd = post_form(admin_client, "/admin/reviews/decide", {"lead": str(lead), "decision": "x"})
    assert odd.status_code == 422
    assert (
        post_form(admin_client, "/admin/reviews/999999/decide", {"decision": "accept"}).status_code
        == 404
    )
    assert count(Lead, Lead.status == LeadStatus.REVIEW) == 1
    assert admin_client.get("/admin/reviews?niche=nope").status_code == 422
    assert admin_client.get("/admin/reviews?publisher=abc").status_code == 422
    bad_cursor = admin_client.get("/admin/reviews?cursor=zzz")
    assert bad_cursor.status_code == 422 and "Not a valid cursor." in html_of(bad_cursor)


# --- niches -----------------------------------------------------------------------------------


def niche_form(**overrides: Any) -> dict[str, Any]:
    body = {
        "slug": "roofing",
        "name": "Roofing",
        "currency": "USD",
        "description": "",
        "is_active": "on",
        "accept_score": "60",
        "review_score": "40",
        "duplicate_window_days": "30",
        "max_buyers": "3",
        "consent_max_age_days": "30",
        "return_window_hours": "72",
        "return_cap_percent": "15",
        "return_response_hours": "48",
        "flag_return_rate": "25",
        "return_reasons": ["wrong_person", "invalid_phone"],
        "field_rows": "2",
        "field-0-name": "roof_age",
        "field-0-type": "number",
        "field-0-minimum": "0",
        "field-0-maximum": "100",
        "field-0-required": "on",
        "field-1-name": "material",
        "field-1-type": "enum",
        "field-1-choices": "tile, metal",
    }
    body.update(overrides)
    return body


def test_an_admin_creates_and_edits_a_niche_with_its_fields(admin_client: FlaskClient) -> None:
    created = post_form(admin_client, "/admin/niches/new", niche_form())
    assert created.status_code == 302 and created.headers["Location"].endswith(
        "/admin/niches/roofing"
    )
    db.session.rollback()
    niche = db.session.scalar(select(Niche).where(Niche.slug == "roofing"))
    assert [(f.name, f.type.value, f.required) for f in niche.fields] == [
        ("roof_age", "number", True),
        ("material", "enum", False),
    ]
    assert niche.fields[1].choices == ["tile", "metal"]
    assert niche.return_reasons == ["wrong_person", "invalid_phone"]
    db.session.rollback()
    form = niche_form(name="Roofing & gutters", **{"field-1-remove": "on"})
    form.pop("slug")
    edited = post_form(admin_client, "/admin/niches/roofing", form)
    assert edited.status_code == 302
    db.session.rollback()
    niche = db.session.scalar(select(Niche).where(Niche.slug == "roofing"))
    assert niche.name == "Roofing & gutters" and [f.name for f in niche.fields] == ["roof_age"]
    db.session.rollback()


def test_bad_niche_input_is_shown_next_to_each_field_and_stores_nothing(
    admin_client: FlaskClient, solar: Any
) -> None:
    bad = post_form(
        admin_client,
        "/admin/niches/new",
        niche_form(
            **{
                "slug": "Bad Slug!",
                "accept_score": "abc",
                "return_reasons": [],
                "field-0-minimum": "low",
                "field-1-choices": "",
                "field-1-name": "Material",
            }
        ),
    )
    assert bad.status_code == 422
    page = html_of(bad)
    assert 'id="e-slug">Lower-case letters, digits and hyphens.' in page
    assert 'id="e-accept_score">Not a valid integer.' in page
    assert 'id="e-return_reasons">Tick at least one reason.' in page
    assert 'id="e-field-0-minimum">Not a valid number.' in page
    assert 'value="low"' in page  # what was typed comes back
    rows = post_form(
        admin_client,
        "/admin/niches/new",
        niche_form(**{"field-1-choices": "", "field-1-name": "Material"}),
    )
    assert rows.status_code == 422
    assert 'id="e-field-1">name: lower-case letters' in html_of(rows)
    assert "choices: an enum field needs" in html_of(rows)
    taken = post_form(admin_client, "/admin/niches/new", niche_form(slug="solar"))
    assert taken.status_code == 409 and "Taken: choose another slug." in html_of(taken)
    order = post_form(admin_client, "/admin/niches/new", niche_form(review_score="90"))
    assert order.status_code == 422 and 'id="e-review_score">Must not exceed' in html_of(order)
    assert count(Niche) == 1
    assert admin_client.get("/admin/niches/no-such").status_code == 404


# --- the price book ---------------------------------------------------------------------------


def test_price_rules_and_a_regions_price_with_its_derivation(
    admin_client: FlaskClient, solar: Any
) -> None:
    c = admin_client
    for place, base in (("", "20"), ("US-CA", "40.50")):
        response = post_form(
            c,
            "/admin/prices/rules",
            {"niche": "solar", "place": place, "base_cpl": base, "floor": "10"},
        )
        assert response.status_code == 302, html_of(response)
    db.session.rollback()
    assert sorted(db.session.scalars(select(PriceRule.base_cpl))) == [2000, 4050]
    db.session.rollback()
    quote = html_of(c.get("/admin/prices?niche=solar&quote=1&country=US&region=CA&score=80"))
    # 40.50 x 1.0 (tier 75+) x 1.0 (fresh) = 40.50; the publisher's 70% = 28.35
    assert 'id="quoted-price">40.50 USD<' in quote
    assert "US-CA" in quote and "28.35 USD" in quote and "\u00d7 1.00" in quote
    texas = html_of(c.get("/admin/prices?niche=solar&quote=1&country=US&region=TX&exclusive=on"))
    # 20.00 x 0.8 (lowest tier) x 1.5 (exclusive) = 24.00
    assert 'id="quoted-price">24.00 USD<' in texas and "\u00d7 1.50" in texas


def test_bad_price_input_is_refused_next_to_the_field(
    admin_client: FlaskClient, solar: Any
) -> None:
    c = admin_client
    bad = post_form(
        c, "/admin/prices/rules", {"niche": "solar", "place": "Narnia", "base_cpl": "12.345"}
    )
    assert bad.status_code == 422 and 'id="e-base_cpl">USD amounts have 2 decimals.' in html_of(bad)
    place = post_form(
        c, "/admin/prices/rules", {"niche": "solar", "place": "Narnia", "base_cpl": "12"}
    )
    assert place.status_code == 422 and 'id="e-place">' in html_of(place)
    floor = post_form(
        c, "/admin/prices/rules", {"niche": "solar", "place": "US", "base_cpl": "12", "floor": "20"}
    )
    assert floor.status_code == 422 and 'id="e-floor">At most base_cpl.' in html_of(floor)
    assert count(PriceRule) == 0
    assert (
        post_form(
            c, "/admin/prices/rules", {"niche": "nope", "place": "", "base_cpl": "1"}
        ).status_code
        == 404
    )
    assert post_form(c, "/admin/prices/rules/999/delete", {}).status_code == 404
    quote = c.get("/admin/prices?niche=solar&quote=1&country=XX&score=500")
    assert quote.status_code == 422 and 'id="e-score">Between 0 and 100.' in html_of(quote)
    assert c.get("/admin/prices?niche=nope").status_code == 404
    settings = post_form(
        c,
        "/admin/prices/settings",
        {
            "niche": "solar",
            "exclusive_multiplier": "0.5",
            "payout_type": "share",
            "payout_value": "70",
            "tier-0-min_score": "80",
            "tier-0-multiplier": "20",
        },
    )
    assert settings.status_code == 422
    assert 'id="e-exclusive_multiplier">Between 1 and 10.' in html_of(settings)
    assert 'id="e-tier-0-multiplier">Between 0 and 10.' in html_of(settings)


def test_price_settings_are_saved(admin_client: FlaskClient, solar: Any) -> None:
    response = post_form(
        admin_client,
        "/admin/prices/settings",
        {
            "niche": "solar",
            "exclusive_multiplier": "2",
            "payout_type": "fixed",
            "payout_value": "12.50",
            "tier-0-min_score": "0",
            "tier-0-multiplier": "1",
            "aged-0-after_days": "3",
            "aged-0-multiplier": "0.5",
        },
    )
    assert response.status_code == 302, html_of(response)
    page = html_of(admin_client.get("/admin/prices?niche=solar"))
    assert 'value="12.50"' in page and 'value="2.0"' in page


# --- quality, organisations, the ledger -------------------------------------------------------


def test_a_flag_is_listed_and_cleared_with_a_note(
    admin_client: FlaskClient, publisher: Any, solar: Any
) -> None:
    db.session.add(
        PublisherFlag(
            publisher_id=publisher.org.id,
            niche_id=solar.id,
            return_rate=0.4,
            reason="40% of 10 sales were returned",
        )
    )
    db.session.commit()
    flag_id = db.session.scalar(select(PublisherFlag.id))
    db.session.rollback()
    page = html_of(admin_client.get("/admin/quality"))
    assert "40% of 10 sales were returned" in page and publisher.org.name in page
    empty = post_form(admin_client, f"/admin/flags/{flag_id}/clear", {"note": ""})
    assert empty.status_code == 422 and f'id="e-note-{flag_id}">Required.' in html_of(empty)
    assert post_form(admin_client, "/admin/flags/999/clear", {"note": "x"}).status_code == 404
    cleared = post_form(
        admin_client,
        f"/admin/flags/{flag_id}/clear",
        {"note": "Talked to them"},
        follow_redirects=True,
    )
    assert f"Flag {flag_id} cleared." in html_of(cleared) and "No publisher is flagged." in html_of(
        cleared
    )
    assert count(PublisherFlag, PublisherFlag.cleared_at.is_(None)) == 0
    assert admin_client.get("/admin/quality?days=0").status_code == 422


def test_a_buyers_credit_limit_is_set_and_bad_values_refused(
    admin_client: FlaskClient, buyer: Any, publisher: Any
) -> None:
    path = f"/admin/organizations/{buyer.org.id}/credit"
    for data, field, message in [
        (
            {"currency": "USD", "credit_limit": "-5", "note": "x"},
            "credit_limit",
            "Must not be negative.",
        ),
        (
            {"currency": "USD", "credit_limit": "ten", "note": "x"},
            "credit_limit",
            "An amount in USD",
        ),
        (
            {"currency": "ZZZ", "credit_limit": "10", "note": "x"},
            "currency",
            "Not a known ISO 4217",
        ),
        ({"currency": "USD", "credit_limit": "10", "note": ""}, "note", "Required."),
    ]:
        response = post_form(admin_client, path, data)
        assert response.status_code == 422, data
        assert f'id="e-{field}">{message}' in html_of(response), data
    other = post_form(
        admin_client,
        f"/admin/organizations/{publisher.org.id}/credit",
        {"currency": "USD", "credit_limit": "10", "note": "x"},
    )
    assert other.status_code == 422 and "only buyers have credit" in html_of(other)
    assert (
        post_form(
            admin_client,
            "/admin/organizations/999999/credit",
            {"currency": "USD", "credit_limit": "10", "note": "x"},
        ).status_code
        == 404
    )
    assert count(LedgerAccount) == 0
    ok = post_form(
        admin_client,
        path,
        {"currency": "usd", "credit_limit": "500", "note": "Net 30"},
        follow_redirects=True,
    )
    assert "may now go down to -500.00 USD" in html_of(ok)
    db.session.rollback()
    assert balances(db.session, buyer.org.id)[0]["credit_limit"] == 50_000
    db.session.rollback()
    terms = post_form(
        admin_client,
        f"/admin/organizations/{buyer.org.id}/terms",
        {"return_window_hours": "96", "return_cap_percent": "200"},
    )
    assert terms.status_code == 422 and 'id="e-return_cap_percent">At most 100.' in html_of(terms)
    saved = post_form(
        admin_client,
        f"/admin/organizations/{buyer.org.id}/terms",
        {"return_window_hours": "96", "return_cap_percent": ""},
    )
    assert saved.status_code == 302
    assert 'value="96"' in html_of(admin_client.get(f"/admin/organizations/{buyer.org.id}"))


def test_lowering_credit_below_what_is_owed_is_a_conflict(
    admin_client: FlaskClient, client: FlaskClient, buyer: Any, publisher: Any, solar: Any
) -> None:
    path = f"/admin/organizations/{buyer.org.id}/credit"
    assert (
        post_form(
            admin_client, path, {"currency": "USD", "credit_limit": "100", "note": "x"}
        ).status_code
        == 302
    )
    market(client, buyer, funds=1)  # one cent, then a 25.00 sale on credit
    from tests.browser.admin_steps import sell_lead

    sell_lead(client, publisher, 1)
    response = post_form(admin_client, path, {"currency": "USD", "credit_limit": "0", "note": "x"})
    assert response.status_code == 409
    assert 'id="e-credit_limit">Lower than what the buyer already owes.' in html_of(response)


def test_organisations_are_listed_with_balances_in_a_fixed_number_of_queries(
    admin_client: FlaskClient, make_account: Any
) -> None:
    from sqlalchemy import event

    from tests.support.money import fund

    for n in range(6):
        fund(make_account(Role.BUYER).org.id, 1000 * (n + 1), key=f"topup:{n}")
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        page = html_of(admin_client.get("/admin/organizations?role=buyer"))
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert "60.00 USD" in page and "10.00 USD" in page
    assert sum("ledger_account" in s for s in statements) == 1
    filtered = html_of(admin_client.get("/admin/organizations?q=buyer 3"))
    assert "buyer 3" in filtered and "buyer 4" not in filtered
    assert admin_client.get("/admin/organizations?role=king").status_code == 422
    assert admin_client.get("/admin/organizations/999999").status_code == 404


def test_the_ledger_check_runs_and_shows_ok(admin_client: FlaskClient, case: Any) -> None:
    response = post_form(admin_client, "/admin/ledger/check", {}, follow_redirects=True)
    page = html_of(response)
    assert "The books balance." in page and 'id="books-ok"' in page
    assert "Admin Desk" in page  # who ran it
    assert '<span class="badge good">ok</span>' in html_of(admin_client.get("/admin/"))
