from __future__ import annotations

from typing import Any

import pytest

from exchange.errors import InvalidInput
from exchange.models import FieldType, Niche, NicheField


def _niche() -> Niche:
    return Niche(
        slug="solar",
        fields=[
            NicheField(name="homeowner", type=FieldType.BOOLEAN, required=True),
            NicheField(name="bill", type=FieldType.NUMBER, minimum=0, maximum=5000),
            NicheField(name="roof", type=FieldType.ENUM, choices=["tile", "metal"]),
            NicheField(name="notes", type=FieldType.TEXT, max_length=10),
            NicheField(name="moved_in", type=FieldType.DATE),
        ],
    )


def test_valid_fields_are_kept() -> None:
    from exchange.niche_fields import clean_lead_fields

    data = {
        "homeowner": True,
        "bill": 120.5,
        "roof": "tile",
        "notes": "south",
        "moved_in": "2020-02-29",
    }
    assert clean_lead_fields(_niche(), data) == data


def test_empty_optional_values_are_dropped() -> None:
    from exchange.niche_fields import clean_lead_fields

    assert clean_lead_fields(_niche(), {"homeowner": False, "notes": "", "bill": None}) == {
        "homeowner": False
    }


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "homeowner"),
        ({"homeowner": "yes"}, "homeowner"),
        ({"homeowner": True, "bill": "100"}, "bill"),
        ({"homeowner": True, "bill": True}, "bill"),
        ({"homeowner": True, "bill": -1}, "bill"),
        ({"homeowner": True, "bill": 5001}, "bill"),
        ({"homeowner": True, "bill": float("inf")}, "bill"),
        ({"homeowner": True, "roof": "straw"}, "roof"),
        ({"homeowner": True, "roof": ["tile"]}, "roof"),
        ({"homeowner": True, "notes": "x" * 11}, "notes"),
        ({"homeowner": True, "notes": 5}, "notes"),
        ({"homeowner": True, "moved_in": "2021-02-30"}, "moved_in"),
        ({"homeowner": True, "moved_in": 20200101}, "moved_in"),
        ({"homeowner": True, "colour": "red"}, "colour"),
    ],
)
def test_each_problem_names_its_field(data: dict[str, Any], field: str) -> None:
    from exchange.niche_fields import clean_lead_fields

    with pytest.raises(InvalidInput) as exc:
        clean_lead_fields(_niche(), data)
    assert list(exc.value.fields["fields"]) == [field]
