"""The bounds of one upload, so that no file can stall the worker that reads it or fill the
disk: parsing hands the event loop back after about a millisecond of work, a gzip body may
grow only so far, a file mostly of blank or rejected lines is stopped early, and what is
stored of rejected lines is capped (lines per job, characters per line) and cleaned of what
PostgreSQL cannot hold."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from registry.config import Settings
from registry.records.schemas import ItemError

# Work between two hand-backs of the event loop. Time, not a count of lines: a blank line
# costs a fraction of a valid one, so a count lets a file of blank lines hold the loop.
YIELD_SECONDS = 0.001

# What is kept of one rejected line. Real values are far shorter (an account_ref has at most
# 64 characters, a message about 200); the bounds stop a 64 KiB line from being kept whole.
STORED_REF_CHARS = 64
STORED_FIELD_CHARS = 64
STORED_MESSAGE_CHARS = 256
STORED_REASONS = 16


class LimitExceeded(Exception):
    """The file passes one of the upload limits; the message says which, for the member."""


@dataclass(frozen=True, slots=True)
class UploadLimits:
    max_decompressed_bytes: int
    max_bad_line_share: float
    bad_line_share_after: int
    max_stored_errors: int

    @classmethod
    def of(cls, settings: Settings) -> UploadLimits:
        return cls(
            max_decompressed_bytes=settings.upload_max_decompressed_bytes,
            max_bad_line_share=settings.upload_max_bad_line_share,
            bad_line_share_after=settings.upload_bad_line_share_after,
            max_stored_errors=settings.upload_max_stored_errors,
        )


class Pacer:
    """Tells a loop when it has held the event loop for YIELD_SECONDS: `if pacer.due(): await
    pacer.rest()` per unit of work costs one clock read."""

    def __init__(self, budget: float = YIELD_SECONDS) -> None:
        self.budget = budget
        self.until = time.perf_counter() + budget

    def due(self) -> bool:
        return time.perf_counter() >= self.until

    async def rest(self) -> None:
        await asyncio.sleep(0)
        self.until = time.perf_counter() + self.budget


class LineTally:
    """Blank and rejected lines against the physical lines read: past `bad_line_share_after`
    lines, a share of them above `max_bad_line_share` stops the file. The share can only pass
    the limit on a bad line, or on line `after` when it is first judged: the reader calls
    `bad_line` for each bad line and `check` for line `after` alone."""

    def __init__(self, limits: UploadLimits) -> None:
        self.share = limits.max_bad_line_share
        self.after = limits.bad_line_share_after
        self.bad = 0

    def bad_line(self, number: int) -> None:
        self.bad += 1
        self.check(number)

    def check(self, number: int) -> None:
        """After line `number` (physical, from 1) has been counted."""
        if number >= self.after and self.bad > self.share * number:
            raise LimitExceeded(
                f"Stopped at line {number}: {self.bad} of the first {number} lines are blank or rejected, more "
                f"than the {self.share:.0%} an upload may have. Check the file's format; the error report "
                "gives the reasons"
            )


def stored_text(value: str, limit: int) -> str:
    """`value` as it may be stored: NUL (which neither text nor jsonb can hold) and unpaired
    surrogates (which are not UTF-8) replaced by U+FFFD, cut to `limit` characters with a
    closing `…` when longer."""
    if len(value) > limit:
        value = value[:limit] + "…"
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    if not value.isascii():
        value = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return value


def stored_ref(account_ref: object) -> str | None:
    return stored_text(account_ref, STORED_REF_CHARS) if isinstance(account_ref, str) else None


def stored_reasons(errors: Sequence[ItemError]) -> list[dict[str, str]]:
    """The reasons of a rejected line as stored: at most STORED_REASONS, each cut to size."""
    kept = [
        {"field": stored_text(e.field, STORED_FIELD_CHARS), "message": stored_text(e.message, STORED_MESSAGE_CHARS)}
        for e in errors[:STORED_REASONS]
    ]
    if len(errors) > STORED_REASONS:
        kept.append({"field": "line", "message": f"{len(errors) - STORED_REASONS} more reasons left out"})
    return kept


def omitted_notice(kept: int) -> list[dict[str, str]]:
    """The reasons stored for the first rejected line past the cap, in place of its own."""
    return [
        {
            "field": "report",
            "message": f"This rejected line and every later one are left out of the report, which keeps the first "
            f"{kept} rejected lines; the job's rejected count includes them all",
        }
    ]
