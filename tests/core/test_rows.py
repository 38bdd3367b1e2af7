"""Typed rows from records: by position when the columns are the row's fields in order, by
name otherwise, and the same rows either way."""

from __future__ import annotations

from dataclasses import dataclass

from registry.core import rows


@dataclass(frozen=True, slots=True)
class Pair:
    left: int
    right: str


async def test_records_in_field_order_and_in_another_order_give_the_same_rows(pool):
    in_order = await pool.fetch("SELECT n AS left, n::text || 'r' AS right FROM generate_series(1, 3) n")
    reversed_ = await pool.fetch("SELECT n::text || 'r' AS right, n AS left FROM generate_series(1, 3) n")
    expected = [Pair(1, "1r"), Pair(2, "2r"), Pair(3, "3r")]
    assert rows.many(Pair, in_order) == expected
    assert rows.many(Pair, reversed_) == expected
    assert rows.many(Pair, []) == []


def test_mappings_that_are_not_records_are_read_by_name():
    # A dict's iteration gives its keys: reading it by position would be wrong.
    assert rows.many(Pair, [{"left": 1, "right": "a"}]) == [Pair(1, "a")]


async def test_a_column_missing_or_extra_still_fails_loudly(pool):
    import pytest

    extra = await pool.fetch("SELECT 1 AS left, 'a' AS right, 2 AS more")
    with pytest.raises(TypeError):
        rows.many(Pair, extra)
