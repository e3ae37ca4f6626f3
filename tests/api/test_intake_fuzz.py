"""Property: whatever JSON a client sends to the intake, the answer is never a 5xx, every
refusal has the error shape, and a refusal stores nothing."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from exchange.models import Lead
from extensions import db
from tests.conftest import Account
from tests.helpers import solar_lead

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["", "US", "CA", "94103", "90210", "US-TX", "solar", "a@b.co", "+14155552671"]),
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
KEYS = [*list(solar_lead()), "region", "city", "address", "external_id", "user_agent", "extra"]


@st.composite
def lead_bodies(draw: st.DrawFn) -> Any:
    if draw(st.booleans()):
        return draw(json_values)  # anything at all
    body = solar_lead()
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=4, unique=True)):
        if draw(st.booleans()):
            body.pop(key, None)
        else:
            body[key] = draw(json_values)
    if draw(st.booleans()):
        body["fields"] = draw(
            st.dictionaries(
                st.sampled_from(
                    ["homeowner", "monthly_electric_bill", "roof_type", "roof_shade", "x"]
                ),
                json_values,
                max_size=4,
            )
        )
    return body


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=lead_bodies())
def test_random_bodies_never_cause_a_server_error(
    client: FlaskClient, publisher: Account, solar: Any, body: Any
) -> None:
    before = db.session.scalar(select(func.count()).select_from(Lead))
    response = client.post("/api/v1/leads", json=body, headers=publisher.headers)
    db.session.rollback()
    after = db.session.scalar(select(func.count()).select_from(Lead))
    event(f"status {response.status_code}")
    assert response.status_code < 500, response.json
    if response.status_code == 201:
        assert after == before + 1
        assert response.json["status"] in ("unsold", "review", "rejected")
        assert response.json["quality"]["verdict"] in ("accept", "review", "reject")
    else:
        assert response.status_code in (200, 400, 409, 413, 415, 422), response.json
        assert after == before
        if response.status_code != 200:
            assert set(response.json) == {"error", "message", "fields", "request_id"}
