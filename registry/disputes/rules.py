"""The dispute rule every answer about a borrower follows, as a SQL condition."""

from __future__ import annotations


def answered(record: str, now: str) -> str:
    """The record may appear in answers: not suppressed by an upheld dispute, and not under a
    dispute left unresolved past its deadline (until it is resolved)."""
    return f"NOT {record}.suppressed AND ({record}.dispute_deadline IS NULL OR {record}.dispute_deadline > {now})"
