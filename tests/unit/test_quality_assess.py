"""Geography, consent, plausibility, fraud signals, the score and the verdict."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quality import FieldSpec, LeadFacts, Lookups, NicheRules, assess
from quality.findings import Severity

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


def good_lead(**changes: Any) -> LeadFacts:
    lead = LeadFacts(
        first_name="Maria",
        last_name="Lopez",
        email="maria.lopez@gmail.com",
        phone="+14155552671",
        country="US",
        region="US-CA",
        postal_code="94103",
        ip="203.0.113.7",
        user_agent="Mozilla/5.0",
        source="google",
        sub_id="a1",
        consent_text="I agree to be contacted.",
        consent_url="https://solar.example.org/q",
        consent_captured_at=NOW - dt.timedelta(minutes=3),
        form_seconds=45.0,
    )
    for key, value in changes.items():
        setattr(lead, key, value)
    return lead


RULES = NicheRules(slug="solar", consent_required=True, fields=[FieldSpec("date_of_birth", "date")])


def codes(
    lead: LeadFacts, rules: NicheRules = RULES, lookups: Lookups | None = None
) -> dict[str, str]:
    report = assess(lead, rules, lookups, now=NOW)
    return {r.code: r.severity.value for r in report.reasons if r.severity != Severity.PASS}


def test_a_good_lead_is_accepted_with_a_perfect_score() -> None:
    report = assess(good_lead(), RULES, now=NOW)
    assert (report.score, report.verdict) == (100, "accept")
    assert report.conversion_probability is None and report.temperature is None
    assert all(r.severity == Severity.PASS for r in report.reasons)
    assert {"email_ok", "phone_ok", "name_ok", "geography_ok", "consent_ok"} <= {
        r.code for r in report.reasons
    }


@pytest.mark.parametrize(
    ("changes", "code", "severity", "verdict"),
    [
        ({"email": "x@mailinator.com"}, "email_disposable", "fail", "review"),
        ({"phone": "+12125550123"}, "phone_fictional", "fail", "review"),
        ({"phone": "+12125550123", "email": None}, "contact_unreachable", "fail", "reject"),
        ({"phone": None, "email": "maria@"}, "contact_unreachable", "fail", "reject"),
        ({"first_name": "", "last_name": ""}, "name_missing", "fail", "reject"),
        ({"first_name": "Asdf"}, "name_test_value", "fail", "review"),
        ({"consent_text": None}, "consent_missing", "fail", "reject"),
        (
            {"consent_captured_at": NOW + dt.timedelta(hours=2)},
            "consent_in_future",
            "fail",
            "reject",
        ),
        ({"consent_captured_at": NOW - dt.timedelta(days=45)}, "consent_too_old", "fail", "review"),
        ({"fields": {"date_of_birth": "1815-06-18"}}, "field_implausible", "warn", "accept"),
        ({"fields": {"date_of_birth": "2020-01-01"}}, "field_implausible", "warn", "accept"),
        ({"form_seconds": 1.2}, "form_too_fast", "fail", "reject"),
        ({"form_seconds": 5}, "form_fast", "warn", "accept"),
        ({"postal_code": None}, "postal_code_missing", "warn", "accept"),
        (
            {
                "intake_findings": [
                    {
                        "code": "postal_code_region_mismatch",
                        "severity": "fail",
                        "message": "ZIP 90210 is in US-CA, not US-TX.",
                    }
                ]
            },
            "postal_code_region_mismatch",
            "fail",
            "review",
        ),
        (
            {
                "intake_findings": [
                    {
                        "code": "postal_code_unknown",
                        "severity": "fail",
                        "message": "ZIP 00000 does not exist.",
                    }
                ]
            },
            "postal_code_unknown",
            "fail",
            "review",
        ),
    ],
)
def test_each_problem_gives_its_reason_and_verdict(
    changes: dict[str, Any], code: str, severity: str, verdict: str
) -> None:
    lead = good_lead(**changes)
    report = assess(lead, RULES, now=NOW)
    assert codes(lead).get(code) == severity
    assert report.verdict == verdict
    assert report.score < 100


def test_consent_is_not_demanded_where_the_niche_does_not_require_it() -> None:
    lead = good_lead(consent_text=None, consent_url=None, consent_captured_at=None)
    assert "consent_missing" not in codes(lead, NicheRules())


def test_duplicates_come_from_the_lookup_within_the_window() -> None:
    asked: list[Any] = []

    def duplicates(email: str | None, phone: str | None, since: dt.datetime) -> int:
        asked.append((email, phone, since))
        return 1

    report = assess(good_lead(), RULES, Lookups(duplicates=duplicates), now=NOW)
    assert report.verdict == "reject"
    assert asked == [("maria.lopez@gmail.com", "+14155552671", NOW - dt.timedelta(days=30))]


@pytest.mark.parametrize(
    ("kind", "count", "severity"),
    [
        ("ip", 3, None),
        ("ip", 4, "warn"),
        ("ip", 10, "fail"),
        ("user_agent", 20, "warn"),
        ("sub_id", 1000, "fail"),
    ],
)
def test_velocity(kind: str, count: int, severity: str | None) -> None:
    lookups = Lookups(recent=lambda k, v, since: count if k == kind else 0)
    assert codes(good_lead(), RULES, lookups).get(f"velocity_{kind}") == severity


def test_rotation_is_a_warning() -> None:
    lookups = Lookups(rotations=lambda first, last, postal, since: 2)
    assert codes(good_lead(), RULES, lookups)["lead_rotation"] == "warn"


def test_niche_weights_and_thresholds_decide() -> None:
    lead = good_lead(email="info@acmeplumbing.com")
    assert assess(lead, RULES, now=NOW).score == 95
    strict = NicheRules(consent_required=True, weights={"email_role_account": 50}, accept_score=60)
    report = assess(lead, strict, now=NOW)
    assert (report.score, report.verdict) == (50, "review")


def test_model_probability_sets_temperature() -> None:
    for probability, temperature in ((0.05, "cold"), (0.3, "warm"), (0.8, "hot")):
        report = assess(
            good_lead(),
            RULES,
            predict=lambda lead, reasons, p=probability: p,
            model_version="v1",
            now=NOW,
        )
        assert (report.conversion_probability, report.temperature) == (probability, temperature)
        assert report.model_version == "v1"


def test_a_broken_check_or_model_never_loses_the_lead() -> None:
    def broken(*_: Any) -> int:
        raise RuntimeError("database gone")

    def bad_model(*_: Any) -> float:
        raise ValueError("model file corrupt")

    report = assess(good_lead(), RULES, Lookups(duplicates=broken), predict=bad_model, now=NOW)
    assert {"check_error", "model_error"} <= {r.code for r in report.reasons}
    assert report.verdict in ("accept", "review", "reject")


text = st.one_of(st.none(), st.text(max_size=300), st.sampled_from(["", " ", "US", "+1", "@"]))
anything = st.one_of(
    text, st.integers(), st.floats(), st.booleans(), st.lists(st.integers(), max_size=3)
)


@settings(max_examples=300, deadline=None)
@given(
    first=text,
    last=text,
    email=text,
    phone=text,
    country=text,
    postal=text,
    ip=text,
    form_seconds=st.one_of(st.none(), st.floats(allow_nan=True)),
    fields=st.dictionaries(st.text(max_size=20), anything, max_size=4),
    captured=st.one_of(st.none(), st.datetimes(timezones=st.just(dt.UTC))),
    findings=st.lists(
        st.dictionaries(st.sampled_from(["code", "severity", "message"]), anything), max_size=2
    ),
)
def test_assess_always_returns_a_well_formed_report(
    first: Any,
    last: Any,
    email: Any,
    phone: Any,
    country: Any,
    postal: Any,
    ip: Any,
    form_seconds: Any,
    fields: Any,
    captured: Any,
    findings: Any,
) -> None:
    lead = LeadFacts(
        first_name=first,
        last_name=last,
        email=email,
        phone=phone,
        country=country,
        postal_code=postal,
        ip=ip,
        form_seconds=form_seconds,
        fields=fields,
        consent_captured_at=captured,
        intake_findings=findings,
    )
    specs = [FieldSpec(name, "date") for name in fields] + [FieldSpec("date_of_birth", "date")]
    report = assess(lead, NicheRules(consent_required=True, fields=specs), now=NOW).as_dict()
    assert 0 <= report["score"] <= 100
    assert report["verdict"] in ("accept", "review", "reject")
    assert report["reasons"]
    for reason in report["reasons"]:
        assert set(reason) == {"code", "severity", "message"}
        assert reason["severity"] in ("pass", "warn", "fail")
        assert isinstance(reason["code"], str) and isinstance(reason["message"], str)
