"""The planner's arithmetic: the issue's example, rounding up, exact money in zero- and
two-decimal currencies, and the inputs it refuses (parsing needs no database for those)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.currency import format_amount
from exchange.errors import InvalidInput
from exchange.planner import Measured, _cpl, _customers, _rate, leads_and_budget


def test_the_issue_example() -> None:
    leads, budget = leads_and_budget(100, Decimal("0.05"), 100_000)
    assert (leads, budget) == (2000, 200_000_000)
    assert format_amount(budget, "VND") == "200,000,000 VND"


def test_leads_are_rounded_up() -> None:
    assert leads_and_budget(7, Decimal("0.03"), 1)[0] == 234  # 233.33...
    assert leads_and_budget(1, Fraction(1, 3), 1)[0] == 3  # exact thirds: no 4 from 0.333...
    assert leads_and_budget(7, Fraction(1, 3), 1)[0] == 21
    assert leads_and_budget(5, Decimal(1), 1)[0] == 5


@pytest.mark.parametrize(
    ("raw", "currency", "minor"),
    [
        ("100000", "VND", 100_000),
        ("100,000", "VND", 100_000),
        ("25", "USD", 2500),
        ("25.5", "USD", 2550),
        ("0.01", "USD", 1),
        ("1.234", "KWD", 1234),
    ],
)
def test_a_typed_cost_per_lead_becomes_exact_minor_units(
    raw: str, currency: str, minor: int
) -> None:
    errors: dict[str, list[str]] = {}
    assert _cpl(raw, currency, errors) == minor
    assert errors == {}


def test_two_decimal_and_zero_decimal_budgets_are_exact() -> None:
    errors: dict[str, list[str]] = {}
    cpl = _cpl("19.99", "USD", errors)
    assert cpl == 1999
    leads, budget = leads_and_budget(3, Decimal("0.07"), cpl)
    assert (leads, budget) == (43, 85_957)
    assert format_amount(budget, "USD") == "859.57 USD"
    assert format_amount(leads_and_budget(3, Decimal("0.07"), 12_345)[1], "VND") == "530,835 VND"


@pytest.mark.parametrize(
    ("parse", "raw", "message"),
    [
        (lambda raw, e: _customers(raw, e), "0", "A whole number from 1"),
        (lambda raw, e: _customers(raw, e), "-3", "A whole number from 1"),
        (lambda raw, e: _customers(raw, e), "2.5", "A whole number from 1"),
        (lambda raw, e: _customers(raw, e), "lots", "A whole number from 1"),
        (lambda raw, e: _customers(raw, e), "", "How many customers"),
        (lambda raw, e: _rate(raw, e), "0", "Above 0%"),
        (lambda raw, e: _rate(raw, e), "120", "at most 100%"),
        (lambda raw, e: _rate(raw, e), "five", "A percentage"),
        (lambda raw, e: _rate(raw, e), "NaN", "A percentage"),
        (lambda raw, e: _cpl(raw, "USD", e), "-5", "More than zero."),
        (lambda raw, e: _cpl(raw, "USD", e), "0", "More than zero."),
        (lambda raw, e: _cpl(raw, "USD", e), "1.005", "At most 2 decimals"),
        (lambda raw, e: _cpl(raw, "VND", e), "1.5", "VND has no decimals."),
        (lambda raw, e: _cpl(raw, "USD", e), "Infinity", "An amount"),
    ],
)
def test_bad_inputs_are_named(parse: Any, raw: str, message: str) -> None:
    errors: dict[str, list[str]] = {}
    assert parse(raw, errors) is None
    [(_field, [text])] = errors.items()
    assert message in text


def test_a_rate_may_carry_a_percent_sign_and_is_exact() -> None:
    errors: dict[str, list[str]] = {}
    assert _rate("5%", errors) == Decimal("0.05")
    assert _rate(" 2.5 ", errors) == Decimal("0.025")
    assert _rate("", errors) is None
    assert errors == {}


def test_too_few_known_outcomes_measure_nothing() -> None:
    assert Measured(29, 10).rate is None
    assert Measured(30, 0).rate is None
    assert Measured(30, 3).rate == Fraction(1, 10)


def test_the_planner_refuses_without_a_database_hit_when_everything_is_bad() -> None:
    from exchange.planner import plan

    class NoSession:
        def scalar(self, *_: Any) -> None:
            return None

    with pytest.raises(InvalidInput) as refused:
        plan(NoSession(), None, {"customers": "0", "niche": "x", "conversion_rate": "0"})  # type: ignore[arg-type]
    assert set(refused.value.fields) == {"customers", "niche", "conversion_rate"}


@given(
    customers=st.integers(min_value=1, max_value=1_000_000),
    rate=st.decimals(min_value=Decimal("0.0001"), max_value=1, places=4),
    cpl=st.integers(min_value=1, max_value=10**10),
)
def test_budget_is_leads_times_cpl_and_leads_cover_the_customers(
    customers: int, rate: Decimal, cpl: int
) -> None:
    leads, budget = leads_and_budget(customers, rate, cpl)
    assert budget == leads * cpl
    assert leads * rate >= customers
    assert (leads - 1) * rate < customers  # the fewest leads that do


@given(
    customers=st.integers(min_value=1, max_value=10_000),
    known=st.integers(min_value=30, max_value=10_000),
    data=st.data(),
)
def test_a_measured_rate_is_used_exactly(customers: int, known: int, data: Any) -> None:
    converted = data.draw(st.integers(min_value=1, max_value=known))
    rate = Measured(known, converted).rate
    assert rate is not None
    leads, _ = leads_and_budget(customers, rate, 1)
    assert leads * converted >= customers * known > (leads - 1) * converted
