from __future__ import annotations

import pytest

from exchange.errors import InvalidInput
from exchange.regions import lookup_us_zip, normalise_subdivision, resolve_region, validate_country


def test_zip_resolves_offline_to_state_city_and_coordinates() -> None:
    info = lookup_us_zip("10001")
    assert info is not None
    assert (info.region, info.city) == ("US-NY", "New York")
    assert info.latitude == pytest.approx(40.75, abs=0.1)
    assert info.longitude == pytest.approx(-74.0, abs=0.1)


def test_zip_plus_four_uses_the_first_five_digits() -> None:
    place = resolve_region("US", None, "94103-1234", None)
    assert (place.region, place.postal_code, place.city) == ("US-CA", "94103", "San Francisco")
    assert place.findings == []


def test_zip_fills_in_the_missing_state_and_city() -> None:
    place = resolve_region("us", None, "73301", None)
    assert place.country == "US"
    assert place.region == "US-TX"
    assert place.city == "Austin"


def test_zip_contradicting_the_state_is_a_finding_not_an_error() -> None:
    place = resolve_region("US", "TX", "90210", None)
    assert place.region == "US-TX"
    assert [f["code"] for f in place.findings] == ["postal_code_region_mismatch"]


@pytest.mark.parametrize(
    ("postal", "code"), [("00000", "postal_code_unknown"), ("ABCDE", "postal_code_malformed")]
)
def test_bad_us_postal_codes_are_findings(postal: str, code: str) -> None:
    place = resolve_region("US", "CA", postal, None)
    assert [f["code"] for f in place.findings] == [code]


def test_non_us_postal_code_is_kept_tidy() -> None:
    place = resolve_region("GB", "GB-LND", " sw1a   1aa ", "London")
    assert (place.postal_code, place.region, place.findings) == ("SW1A 1AA", "GB-LND", [])


@pytest.mark.parametrize(
    ("country", "given", "expected"),
    [
        ("US", "CA", "US-CA"),
        ("US", "us-ny", "US-NY"),
        ("US", "Texas", "US-TX"),
        ("VN", "VN-SG", "VN-SG"),
        ("CA", "ON", "CA-ON"),
    ],
)
def test_subdivisions_normalise_to_iso_3166_2(country: str, given: str, expected: str) -> None:
    assert normalise_subdivision(country, given) == expected


def test_unknown_subdivision_and_country_are_invalid_input() -> None:
    with pytest.raises(InvalidInput) as exc:
        normalise_subdivision("US", "ZZ")
    assert "region" in exc.value.fields
    with pytest.raises(InvalidInput) as exc:
        validate_country("XX")
    assert "country" in exc.value.fields
