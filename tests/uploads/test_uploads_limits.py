"""The bounds of one upload as units (registry/uploads/limits.py and the line splitter):
what is stored of a rejected line, the share rule, the pace, the size of a batch of lines
and of a decompressed body. The same bounds end to end: tests/adversarial/test_uploads.py."""

from __future__ import annotations

import gzip
import time
from collections.abc import AsyncIterator

import pytest

from registry.records.schemas import ItemError
from registry.uploads.limits import (
    STORED_REASONS,
    LimitExceeded,
    LineTally,
    Pacer,
    UploadLimits,
    stored_reasons,
    stored_ref,
    stored_text,
)
from registry.uploads.lines import MAX_BATCH_LINES, inflate, numbered_lines


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def limits(**values: float) -> UploadLimits:
    return UploadLimits(
        **{
            "max_decompressed_bytes": 2**31,
            "max_bad_line_share": 0.5,
            "bad_line_share_after": 10,
            "max_stored_errors": 10,
            **values,
        }
    )


def test_stored_text_holds_nothing_postgresql_refuses_and_is_cut_to_size():
    assert stored_text("A\x00B", 64) == "A\ufffdB"
    assert stored_text("A\ud800B", 64) == "A\ufffd\ufffd\ufffdB"  # an unpaired surrogate is not UTF-8
    assert stored_text("x" * 100, 10) == "x" * 10 + "…"
    assert stored_text("LN-2024-000187", 64) == "LN-2024-000187"
    assert stored_text("借款-1", 64) == "借款-1"
    assert stored_ref(12345) is None and stored_ref(None) is None


def test_stored_reasons_keep_a_bounded_number_and_say_how_many_were_left_out():
    errors = [ItemError(field=f"f{n}\x00", message="m" * 1000) for n in range(40)]
    kept = stored_reasons(errors)
    assert len(kept) == STORED_REASONS + 1
    assert kept[0] == {"field": "f0\ufffd", "message": "m" * 256 + "…"}
    assert kept[-1] == {"field": "line", "message": f"{40 - STORED_REASONS} more reasons left out"}
    assert stored_reasons(errors[:2]) == kept[:2]


def test_the_share_rule_judges_only_after_enough_lines():
    tally = LineTally(limits(bad_line_share_after=10, max_bad_line_share=0.5))
    for number in range(1, 10):  # nine bad lines of nine: too early to judge
        tally.bad += 1
        tally.check(number)
    tally.bad += 1
    with pytest.raises(LimitExceeded, match="Stopped at line 10: 10 of the first 10 lines are blank or rejected"):
        tally.check(10)
    half = LineTally(limits(bad_line_share_after=10, max_bad_line_share=0.5))
    half.bad = 50
    half.check(100)  # exactly the share is allowed
    never = LineTally(limits(max_bad_line_share=1.0))
    never.bad = 1000
    never.check(1000)


async def test_the_pacer_is_due_after_its_budget_and_rests_a_loop_turn():
    pacer = Pacer(budget=0.005)
    assert not pacer.due()
    time.sleep(0.006)  # noqa: ASYNC251 - the CPU-bound work the pacer measures, simulated
    assert pacer.due()
    await pacer.rest()
    assert not pacer.due()


async def test_a_slice_of_blank_lines_is_handed_on_in_bounded_batches():
    batches = [batch async for batch in numbered_lines(chunks(b"\n" * (3 * MAX_BATCH_LINES + 5)))]
    assert [len(b) for b in batches] == [MAX_BATCH_LINES] * 3 + [5]
    assert [n for b in batches for n, _ in b] == list(range(1, 3 * MAX_BATCH_LINES + 6))


async def test_a_line_split_across_a_batch_boundary_keeps_its_number_and_bytes():
    body = b"\n" * (MAX_BATCH_LINES - 1) + b"first\nsec"
    lines = [pair async for batch in numbered_lines(chunks(body, b"ond\n")) for pair in batch]
    assert lines[-2:] == [(MAX_BATCH_LINES, b"first"), (MAX_BATCH_LINES + 1, b"second")]


async def test_gzip_output_past_the_limit_raises_and_plain_bodies_are_not_counted():
    body = gzip.compress(b"a" * 5000)
    with pytest.raises(LimitExceeded, match="larger than 4,096 bytes once decompressed"):
        [part async for part in inflate(chunks(body), True, 4096)]
    assert b"".join([part async for part in inflate(chunks(body), True, 5000)]) == b"a" * 5000
    assert b"".join([part async for part in inflate(chunks(b"a" * 5000), False, 10)]) == b"a" * 5000
