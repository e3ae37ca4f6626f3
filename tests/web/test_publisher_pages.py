"""The publisher portal through the test client: every page, the CSV upload (good and bad
rows, bad files, uploading twice), the lead report, answering returns, payouts, filters, and
other organisations kept out."""

from __future__ import annotations

import datetime as dt
import io
import re
from html import unescape
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from api.schemas.leads import LeadIn, LeadOut
from exchange.intake import submit_lead
from exchange.models import Lead, LeadReturn, LeadStatus, LeadUpload, ReturnStage, Role, Sale
from exchange.returns import file_return
from extensions import db
from tests.helpers import solar_lead
from tests.support.market import create_campaign
from tests.support.money import fund
from tests.web.conftest import logged_in, post_form

PAGES = (
    "/publisher/",
    "/publisher/?days=7",
    "/publisher/?days=90",
    "/publisher/leads",
    "/publisher/uploads",
    "/publisher/returns",
    "/publisher/payouts",
    "/publisher/instructions",
    "/publisher/instructions/solar",
)
HEADER = "first_name,last_name,email,phone,country,postal_code,homeowner,monthly_electric_bill,"
HEADER += "roof_type,consent_text,consent_url,consent_captured_at\n"
CAPTURED = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).replace(microsecond=0).isoformat()
CONSENT = f"I agree to be contacted,https://solar.example.org/q,{CAPTURED}"


def row(n: int, *, email: str | None = None, phone: str | None = None, **kw: str) -> str:
    """A solar CSV row for person n (valid unless told otherwise)."""
    values = {
        "first": ["Maria", "Julia", "Anna", "Clara", "Elena", "Sofia"][n % 6],
        "last": ["Lopez", "Garcia", "Smith", "Brown", "Miller", "Davis"][n % 6],
        "email": email if email is not None else f"person{n}@gmail.com",
        "phone": phone if phone is not None else f"(415) 555-{2671 + n}",
        "country": "US",
        "zip": "94103",
        "homeowner": "yes",
        "bill": "180",
        "roof": "asphalt",
    }
    values.update(kw)
    return ",".join(values.values()) + f",{CONSENT}\n"


def upload(client: FlaskClient, content: str | bytes, name: str = "leads.csv", **kw: Any) -> Any:
    data = content.encode() if isinstance(content, str) else content
    form = {"niche": kw.pop("niche", "solar"), "file": (io.BytesIO(data), name)}
    return post_form(client, "/publisher/uploads", form, **kw)


def upload_and_process(client: FlaskClient, content: str) -> str:
    """Upload a file, carry on processing until done (as a page without script), the report."""
    response = upload(client, content)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    report = response.headers["Location"]
    process = report + "/process"
    for _ in range(20):
        assert post_form(client, process, {}).status_code == 302
        html = client.get(report + "?rows=all").get_data(as_text=True)
        if "Process the rows" not in html:
            return html
    raise AssertionError("the upload never finished")


def lead_count(publisher_id: int) -> int:
    count = db.session.scalar(select(func.count(Lead.id)).where(Lead.publisher_id == publisher_id))
    db.session.rollback()
    return int(count or 0)


@pytest.fixture
def publisher_user(portal_user: Any, login: Any, solar: Any) -> Any:
    user = portal_user(Role.PUBLISHER)
    login(user)
    return user


def test_every_page_renders_for_a_publisher(client: FlaskClient, publisher_user: Any) -> None:
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:1000])
    dashboard = client.get("/publisher/").get_data(as_text=True)
    assert "leads submitted" in dashboard and "No rejected leads in this period." in dashboard
    instructions = client.get("/publisher/instructions/solar").get_data(as_text=True)
    assert "monthly_electric_bill" in instructions and "/api/v1/pings" in instructions
    assert "Authorization: Bearer &lt;your key&gt;" in instructions
    assert "Idempotency-Key" in instructions and "asphalt" in instructions
    leads = client.get("/publisher/leads").get_data(as_text=True)
    assert "No leads yet." in leads
    example = client.get("/publisher/uploads/example/solar.csv")
    assert example.status_code == 200 and example.mimetype == "text/csv"
    header, first = example.get_data(as_text=True).splitlines()[:2]
    assert "homeowner" in header and "consent_captured_at" in header and "yes" in first
    assert client.get("/publisher/uploads/example/nope.csv").status_code == 404
    assert client.get("/publisher/instructions/nope").status_code == 404


def test_the_example_file_uploads_as_an_accepted_lead(
    client: FlaskClient, publisher_user: Any
) -> None:
    example = client.get("/publisher/uploads/example/solar.csv").get_data(as_text=True)
    html = upload_and_process(client, example)
    assert lead_count(publisher_user.org_id) == 1
    assert "accepted" in html and "invalid" not in re.sub(r"<[^>]+>", "", html).split("Every")[-1]


def test_an_upload_stores_the_good_rows_and_explains_each_bad_one(
    client: FlaskClient, publisher_user: Any
) -> None:
    content = HEADER + row(1) + row(2)  # lines 2, 3: good
    content += row(3, phone="12345", email="")  # line 4: the phone is not a number
    content += row(4, email="anna@mailinator.com", phone="")  # line 5: a disposable e-mail
    content += row(5, country="")  # line 6: no country: invalid, not stored
    content += row(0, roof="thatched")  # line 7: not one of the roof types
    html = upload_and_process(client, content)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    leads = db.session.execute(
        select(Lead.first_name, Lead.status)
        .where(Lead.publisher_id == publisher_user.org_id)
        .order_by(Lead.id)
    ).all()
    db.session.rollback()
    statuses = [status for _, status in leads]
    assert statuses[:2] == [LeadStatus.UNSOLD, LeadStatus.UNSOLD]  # no campaign: accepted, unsold
    assert statuses[2:] == [LeadStatus.REJECTED, LeadStatus.REJECTED]  # kept with their reasons
    assert re.search(r"\b4 rejected\b.*The phone number is not valid", text)
    assert re.search(r"\b5 rejected\b.*The e-mail domain is disposable", text)
    assert re.search(r"\b6 invalid\b.*Country is missing", text)
    assert re.search(r"\b7 invalid\b.*Must be one of: asphalt", text)
    upload_row = db.session.scalars(select(LeadUpload)).one()
    assert (upload_row.total_rows, upload_row.accepted, upload_row.rejected) == (6, 2, 2)
    assert (upload_row.invalid, upload_row.repeated, upload_row.content) == (2, 0, None)
    db.session.rollback()
    # The lead list explains the rejection in plain words; the lead's report too.
    rejected = client.get("/publisher/leads?status=rejected").get_data(as_text=True)
    assert "The phone number is not valid" in rejected or "Neither the e-mail" in rejected
    lead_id = int(re.findall(r'/publisher/leads/(\d+)"', rejected)[0])
    detail = client.get(f"/publisher/leads/{lead_id}").get_data(as_text=True)
    assert "Why this lead was rejected" in detail


def test_uploading_the_same_file_twice_stores_nothing_new(
    client: FlaskClient, publisher_user: Any
) -> None:
    content = HEADER + row(1) + row(2) + row(3, email="x@mailinator.com", phone="")
    upload_and_process(client, content)
    assert lead_count(publisher_user.org_id) == 3
    html = upload_and_process(client, content)
    assert lead_count(publisher_user.org_id) == 3
    assert html.count("already submitted") >= 3
    second = db.session.scalars(select(LeadUpload).order_by(LeadUpload.id.desc())).first()
    assert second is not None and (second.repeated, second.accepted) == (3, 0)
    db.session.rollback()


def test_the_page_script_processes_one_batch_per_call(
    client: FlaskClient, publisher_user: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr("exchange.uploads.BATCH", 2)
    response = upload(client, HEADER + "".join(row(n) for n in range(1, 6)))
    process = response.headers["Location"] + "/process"
    token = re.search(r'data-csrf="([^"]+)"', client.get(response.headers["Location"]).text)
    assert token
    headers = {"Accept": "application/json", "X-CSRFToken": token.group(1)}
    states = [client.post(process, headers=headers).json for _ in range(3)]
    assert [(s["processed"], s["done"]) for s in states] == [(2, False), (4, False), (5, True)]
    assert lead_count(publisher_user.org_id) == 5


BAD_FILES = [
    (b"PK\x03\x04\x14\x00binary", "leads.xlsx", "Upload a .csv file"),
    (b"PK\x03\x04\x14\x00binary", "leads.csv", "not a CSV file"),
    (b"", "leads.csv", "The file is empty."),
    (b"Maria,Lopez,maria@gmail.com,US\n", "leads.csv", "must be a header"),
    (
        "first_name,email,country,homeowner,monthly_electric_bill\nJosé,j@gmail.com,US,yes,1\n".encode(
            "latin-1"
        ),
        "leads.csv",
        "not UTF-8",
    ),
    (
        b"first_name,email,homeowner\nMaria,m@gmail.com,yes\n",
        "leads.csv",
        "no column for: country, monthly_electric_bill",
    ),
    (HEADER.encode(), "leads.csv", "no rows of leads"),
    (b"first_name,email,country\n" + b"Maria,m@gmail.com,US\n" * 10, "x.csv", "no column for"),
]


@pytest.mark.parametrize(("content", "name", "message"), BAD_FILES)
def test_a_bad_file_is_refused_with_a_message(
    client: FlaskClient, publisher_user: Any, content: bytes, name: str, message: str
) -> None:
    response = upload(client, content, name)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(LeadUpload.id))) == 0
    db.session.rollback()


def test_no_niche_no_file_and_a_huge_file_are_refused(
    client: FlaskClient, publisher_user: Any, monkeypatch: Any
) -> None:
    # Small limits, so the test client keeps its bodies in memory (it leaks spooled files).
    monkeypatch.setattr("exchange.upload_files.MAX_BYTES", 100 * 1024)
    monkeypatch.setattr("exchange.upload_files.MAX_ROWS", 20)
    response = upload(client, HEADER + row(1), niche="nope")
    assert response.status_code == 422 and "Choose a niche." in response.text
    response = post_form(client, "/publisher/uploads", {"niche": "solar"})
    assert response.status_code == 422 and "Choose a CSV file" in response.text
    huge = HEADER + row(1) * (300 * 1024 // len(row(1)))
    response = upload(client, huge)
    assert response.status_code == 413 and "larger than 100 KB" in response.text
    big = HEADER + row(1) * (120 * 1024 // len(row(1)))  # above the limit, within the margin
    response = upload(client, big)
    assert response.status_code == 422 and "larger than 100 KB" in response.text
    response = upload(client, HEADER + row(1) * 21)
    assert response.status_code == 422 and "at most 20 at a time" in response.text


# --- sales and returns -----------------------------------------------------------------------


def sold_lead_with_return(client: FlaskClient, publisher_org_id: int, make_account: Any) -> Any:
    """A lead of the publisher sold to a buyer, and a return awaiting the publisher's answer."""
    buyer = make_account(Role.BUYER)
    fund(buyer.org.id, 100_000)
    create_campaign(client, buyer)
    from exchange.models import Organization

    publisher = db.session.get(Organization, publisher_org_id)
    intake = submit_lead(db.session, publisher, LeadIn().load(solar_lead(7)), render=LeadOut().dump)
    db.session.commit()
    sale = db.session.scalars(select(Sale).where(Sale.lead_id == intake.lead.id)).one()
    ret = file_return(db.session, buyer.org, sale.id, {"reason": "wrong_person", "note": "Not her"})
    db.session.commit()
    ids = intake.lead.id, ret.id, ret.stage
    db.session.rollback()
    return ids


def test_a_lead_shows_its_sales_and_the_publisher_answers_a_return(
    client: FlaskClient, publisher_user: Any, make_account: Any
) -> None:
    lead_id, return_id, stage = sold_lead_with_return(client, publisher_user.org_id, make_account)
    assert stage == ReturnStage.PUBLISHER
    page = client.get(f"/publisher/leads/{lead_id}").get_data(as_text=True)
    assert "Quality report" in page and "Sold to 1 buyer." in page
    assert "17.50 USD" in page  # the publisher's payout, never the buyer's price
    assert "25.00 USD" not in page
    assert "the contact reached the wrong person" in page and "Send the answer" in page

    answer = f"/publisher/returns/{return_id}/answer"
    bad = post_form(client, answer, {"message": "  "})
    assert bad.status_code == 422 and "Write your answer" in bad.text
    long = post_form(client, answer, {"message": "x" * 5001})
    assert long.status_code == 422 and "Length must be between 1 and 5000." in long.text
    good = post_form(
        client,
        answer,
        {"message": "She filled the form herself.", "evidence_reference": "call-991"},
    )
    assert good.status_code == 302
    ret = db.session.get(LeadReturn, return_id)
    assert ret is not None and ret.stage == ReturnStage.ADMIN
    assert ret.publisher_evidence == {"reference": "call-991"}
    db.session.rollback()
    again = post_form(client, answer, {"message": "Once more"})
    assert again.status_code == 409 and "already answered" in again.text
    returns = client.get("/publisher/returns").get_data(as_text=True)
    assert f"#{lead_id}" in returns and "with an admin" in returns
    payouts = client.get("/publisher/payouts").get_data(as_text=True)
    assert "17.50 USD" in payouts  # pending earnings
    dashboard = client.get("/publisher/").get_data(as_text=True)
    assert "17.50 USD" in dashboard and "Leads by niche" in dashboard


def test_another_publisher_cannot_see_or_answer(
    client: FlaskClient, portal_user: Any, login: Any, solar: Any, make_account: Any
) -> None:
    owner = portal_user(Role.PUBLISHER)
    lead_id, return_id, _ = sold_lead_with_return(client, owner.org_id, make_account)
    login(portal_user(Role.PUBLISHER))
    assert client.get(f"/publisher/leads/{lead_id}").status_code == 404
    response = post_form(client, f"/publisher/returns/{return_id}/answer", {"message": "Mine"})
    assert response.status_code == 404
    ret = db.session.get(LeadReturn, return_id)
    assert ret is not None and ret.responded_at is None and ret.stage == ReturnStage.PUBLISHER
    db.session.rollback()
    assert f"#{lead_id}" not in client.get("/publisher/leads").text
    assert "No returns against your leads." in client.get("/publisher/returns").text


def test_another_publishers_upload_is_not_found(
    client: FlaskClient, portal_user: Any, solar: Any
) -> None:
    logged_in(client, portal_user(Role.PUBLISHER))
    location = upload(client, HEADER + row(1)).headers["Location"]
    post_form(client, "/logout", {})
    logged_in(client, portal_user(Role.PUBLISHER))
    assert client.get(location).status_code == 404
    assert post_form(client, location + "/process", {}).status_code == 404
    assert db.session.scalar(select(func.count(Lead.id))) == 0
    db.session.rollback()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/publisher/leads?created_from=yesterday", "Not a valid date."),
        ("/publisher/leads?status=lost", "Must be one of"),
        ("/publisher/leads?niche=nope", "No such niche"),
        ("/publisher/leads?cursor=%%%", "The cursor is not valid."),
        ("/publisher/returns?status=lost", "Must be one of"),
        ("/publisher/payouts?cursor=zzz", "The cursor is not valid."),
    ],
)
def test_bad_filters_are_named(
    client: FlaskClient, publisher_user: Any, path: str, message: str
) -> None:
    response = client.get(path)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_the_payout_destination_form(client: FlaskClient, publisher_user: Any) -> None:
    bad = post_form(client, "/publisher/payouts/destination", {"destination": "my bank"})
    assert bad.status_code == 422 and "A Stripe account id" in bad.text and "my bank" in bad.text
    good = post_form(client, "/publisher/payouts/destination", {"destination": "acct_123abc"})
    assert good.status_code == 302
    assert 'value="acct_123abc"' in client.get("/publisher/payouts").text
    removed = post_form(client, "/publisher/payouts/destination", {"destination": ""})
    assert removed.status_code == 302
    assert "No destination yet" in client.get("/publisher/payouts").text


@pytest.mark.parametrize("role", [Role.BUYER, Role.ADMIN])
def test_other_roles_cannot_open_publisher_pages(
    client: FlaskClient, portal_user: Any, login: Any, solar: Any, role: Role
) -> None:
    login(portal_user(role))
    for path in (*PAGES, "/publisher/uploads/example/solar.csv"):
        assert client.get(path).status_code == 403, path
    assert upload(client, HEADER + row(1)).status_code == 403
    assert db.session.scalar(select(func.count(LeadUpload.id))) == 0
    db.session.rollback()


def test_the_example_lead_of_every_demo_niche_is_accepted(
    client: FlaskClient, make_account: Any
) -> None:
    from exchange.demo_niches import DEMO_NICHES
    from exchange.niches import create_niche
    from web.publisher.examples import example_lead

    publisher = make_account(Role.PUBLISHER)
    for spec in DEMO_NICHES:
        niche = create_niche(db.session, None, spec)
        db.session.commit()
        body = {**example_lead(niche), "external_id": f"example-{niche.slug}"}
        response = client.post("/api/v1/leads", json=body, headers=publisher.headers)
        assert response.status_code == 201, (spec["slug"], response.json)
        assert response.json["status"] == "unsold", (spec["slug"], response.json["quality"])


def test_a_row_with_unreadable_columns_is_invalid_and_the_others_go_in(
    client: FlaskClient, publisher_user: Any
) -> None:
    header = HEADER.rstrip("\n") + ",form_seconds\n"
    content = header + row(1).rstrip("\n") + ",fast\n" + row(2).rstrip("\n") + ",40\n"
    content += row(3, homeowner="maybe").rstrip("\n") + ",40\n"
    html = upload_and_process(client, content)
    text = unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))
    assert re.search(r"\b2 invalid\b.*'fast' is not a number of seconds", text)
    assert re.search(r"\b4 invalid\b.*Homeowner: 'maybe' is not yes or no", text)
    assert lead_count(publisher_user.org_id) == 1
