"""The record rules every domain asks about, written once as SQL conditions: which records
are still held, which are delinquent, and which delinquencies nobody is collecting.

Each function takes the alias of a `records` row (and SQL expressions for the dates it
compares against) and returns a boolean SQL expression. The exposure statement, the
disputes, monitoring and statistics all compose these; none writes its own copy."""

from __future__ import annotations

from registry.records.vocabulary import DELINQUENT_SEVERITY, DELINQUENT_STATUSES, Arrangement

# Days a delinquency must last, and a collection action may be old, on the record's `as_of`.
UNCOLLECTED_AFTER_DAYS = 30

# The one definition of an uncollected account, over a record's own columns (so it needs no
# clock: it is judged on the record's `as_of`). An account is uncollected when it is
# delinquent (`dpd_*`, `written_off`), has been delinquent more than 30 days on its `as_of`,
# is under no hardship arrangement, and no collection action falls in the 30 days up to its
# `as_of`. `records.uncollected` is a stored column generated from exactly this (migration
# 0013 keeps a frozen copy; tests/records prove they are equal); docs/api.md says it in words.
_DELINQUENT_LIST = ", ".join(f"'{s}'" for s in DELINQUENT_STATUSES)
UNCOLLECTED = (
    f"status IN ({_DELINQUENT_LIST}) AND delinquent_since IS NOT NULL"
    f" AND delinquent_since < as_of - {UNCOLLECTED_AFTER_DAYS}"
    f" AND arrangement = '{Arrangement.none.value}'"
    f" AND (last_collection_action_on IS NULL OR last_collection_action_on < as_of - {UNCOLLECTED_AFTER_DAYS})"
)


def held(record: str, today: str) -> str:
    """The record is still held: not withdrawn, not expired on `today`."""
    return f"{record}.withdrawn_at IS NULL AND ({record}.expires_on IS NULL OR {record}.expires_on > {today})"


def delinquent(record: str) -> str:
    """The record's status is a delinquency (`dpd_*`, `written_off`)."""
    return f"{record}.severity >= {DELINQUENT_SEVERITY}"


def uncollected(record: str) -> str:
    """A delinquency nobody is collecting (UNCOLLECTED, stored with the record)."""
    return f"{record}.uncollected"


def in_arrangement(record: str) -> str:
    """The account is under a hardship arrangement agreed with the borrower."""
    return f"{record}.arrangement <> '{Arrangement.none.value}'"
