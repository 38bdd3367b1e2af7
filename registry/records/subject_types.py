"""One token is one kind of subject: a record (or, later, a party) that says `individual` for a
token the registry holds as `enterprise`, or the reverse, is refused. Tokens of people and of
companies come from different identity kinds (docs/identity-hashing.md), so a contradiction is
a mistake in the reporter's data, and letting it in would split one borrower's exposure.

`contradictions` is the one check; every write path that names a subject calls it. Its answer
says which type the registry holds, never who holds it. A record being rewritten does not count
against itself, so a lender may correct the type of a subject only it reports."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import asyncpg

from registry.core.tenancy import Tenancy
from registry.records import repository
from registry.records.schemas import ItemError


@dataclass(frozen=True, slots=True)
class SubjectClaim:
    """What a write says of a subject: its key and type, and the account_ref of the caller's
    record being written (None when the write is not a record of the caller's, e.g. a party)."""

    subject_key: bytes
    subject_type: str
    account_ref: str | None = None


def contradiction(held: str, given: str, field: str = "subject_type") -> ItemError:
    return ItemError(
        field=field,
        message=f"the registry holds this subject as {held}; one token cannot be both individual and enterprise "
        f"(this record says {given})",
    )


async def contradictions(
    conn: asyncpg.Connection, tenancy: Tenancy, claims: Sequence[SubjectClaim], today: date
) -> dict[int, str]:
    """The claims (by position) that contradict the type already held for their subject: by any
    member's live record, or by an earlier claim of the same batch. Maps each to the held type.
    One statement, in association scope for its duration."""
    if not claims:
        return {}
    member: uuid.UUID = tenancy.member.member_id
    async with tenancy.across_members(conn):
        held = await repository.held_subject_types(
            conn, [c.subject_key for c in claims], member, [c.account_ref for c in claims], today
        )
    refused: dict[int, str] = {}
    first_in_batch: dict[bytes, str] = {}
    for position, claim in enumerate(claims):
        types = held.get(position, [])
        if types and claim.subject_type not in types:
            refused[position] = types[0]
            continue
        earlier = first_in_batch.setdefault(claim.subject_key, claim.subject_type)
        if earlier != claim.subject_type:
            refused[position] = earlier
    return refused
