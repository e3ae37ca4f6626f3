from __future__ import annotations

import pytest

from exchange.errors import InvalidInput
from exchange.pagination import decode_cursor, encode_cursor


@pytest.mark.parametrize("last_id", [1, 42, 2**40])
def test_cursor_round_trip(last_id: int) -> None:
    assert decode_cursor(encode_cursor(last_id)) == last_id


@pytest.mark.parametrize(
    "cursor", ["", "abc", "!!!", "eyJpZCI6ICJ4In0", "eyJpZCI6IC0xfQ", "bnVsbA"]
)
def test_bad_cursor_is_invalid_input(cursor: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        decode_cursor(cursor)
    assert "cursor" in exc.value.fields
