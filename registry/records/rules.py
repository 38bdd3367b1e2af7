"""The record rules every domain asks about, written once as SQL conditions: which records
are still held, which are delinquent, and which delinquencies nobody is collecting.

Each function takes the alias of a `records` row (and SQL expressions for the dates it
compares against) and returns a boolean SQL expression. The exposure statement, the
disputes, monitoring and statistics all compose these; none writes its own copy."""

from __future__ import annotations

from registry.records.vocabulary import DELINQUENT_SEVERITY

# Days a delinquency must last before it can count as uncollected.
UNCOLLECTED_AFTER_DAYS = 30


def held(record: str, today: str) -> str:
    """The record is still held: not withdrawn, not expired on `today`."""
    return f"{record}.withdrawn_at IS NULL AND ({record}.expires_on IS NULL OR {record}.expires_on > {today})"


def delinquent(record: str) -> str:
    """The record's status is a delinquency (`dpd_*`, `written_off`)."""
    return f"{record}.severity >= {DELINQUENT_SEVERITY}"


def uncollected(record: str, today: str) -> str:
    """A delinquency nobody is collecting: delinquent for more than UNCOLLECTED_AFTER_DAYS on
    `today` with no collection under way. docs/api.md states the same rule in words."""
    return (
        f"{delinquent(record)} AND {record}.collection_stage = 'none' "
        f"AND {record}.delinquent_since < {today}::date - {UNCOLLECTED_AFTER_DAYS}"
    )
