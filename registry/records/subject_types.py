"""One token is one kind of subject: a record whose borrower or party says `individual` for a
token the registry holds as `enterprise`, or the reverse, is refused. Tokens of people and of
companies come from different identity kinds (docs/identity-hashing.md), so a contradiction is
a mistake in the reporter's data, and letting it in would split one borrower's exposure.

A token has one type wherever it appears: as the borrower of a record or as one of its parties
(guarantor, co-borrower), at any member. `contradictions` is the one check; every write path
that names a subject calls it with what each item says (`claims_of`). Its answer says which
type is held, never who holds it. A record being rewritten does not count against itself
(its borrower nor its parties), so a lender may correct the type of a subject only it reports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import asyncpg

from registry.core.subjects import subject_key
from registry.core.tenancy import Tenancy
from registry.records import repository
from registry.records.schemas import ItemError
from registry.records.validation import ValidItem


@dataclass(frozen=True, slots=True)
class SubjectClaim:
    """What a write says of one token: its key and type, the account_ref of the caller's record
    being written (its held rows do not count), and the item field that says it."""

    subject_key: bytes
    subject_type: str
    account_ref: str | None = None
    field: str = "subject_type"


def claims_of(valid: ValidItem, server_key: bytes, prefix: str = "") -> list[SubjectClaim]:
    """What an item says of its borrower and of each party, each named by its own field."""
    item, ref = valid.item, valid.item.account_ref
    return [
        SubjectClaim(valid.subject_key, item.subject_type.value, ref, f"{prefix}subject_type"),
        *(
            SubjectClaim(
                subject_key(server_key, p.subject), p.subject_type.value, ref, f"{prefix}parties.{i}.subject_type"
            )
            for i, p in enumerate(item.parties)
        ),
    ]


def contradiction(held: str, claim: SubjectClaim, *, earlier: bool = False) -> ItemError:
    """The refusal of a claim: the type held (by the registry, or by an earlier item of the same
    request), never who holds it."""
    what = "party" if "parties." in claim.field else "subject"
    source = (
        f"an earlier record of this request gives this {what} as" if earlier else f"the registry holds this {what} as"
    )
    return ItemError(
        field=claim.field,
        message=f"{source} {held}; one token cannot be both individual and enterprise "
        f"(this record says {claim.subject_type})",
    )


async def contradictions(
    conn: asyncpg.Connection, tenancy: Tenancy, items: Sequence[Sequence[SubjectClaim]], today: date
) -> dict[int, list[ItemError]]:
    """The items (by position) with a claim that contradicts the type already held for its token,
    as borrower or as party of any member's live record, or by an earlier item of the same batch
    that is not itself refused. Maps each to its errors, one per contradicting field.
    One statement for the whole batch, in association scope for its duration."""
    flat = [claim for claims in items for claim in claims]
    if not flat:
        return {}
    async with tenancy.across_members(conn):
        held = await repository.held_subject_types(
            conn,
            [c.subject_key for c in flat],
            tenancy.member.member_id,
            [c.account_ref for c in flat],
            today,
        )
    refused: dict[int, list[ItemError]] = {}
    in_batch: dict[bytes, str] = {}
    offset = 0
    for position, claims in enumerate(items):
        errors = []
        for n, claim in enumerate(claims, start=offset):
            types = held.get(n, [])
            earlier = in_batch.get(claim.subject_key)
            if types and claim.subject_type not in types:
                errors.append(contradiction(types[0], claim))
            elif earlier is not None and earlier != claim.subject_type:
                errors.append(contradiction(earlier, claim, earlier=True))
        offset += len(claims)
        if errors:
            refused[position] = errors
        else:  # only what is written holds a type for the items after it
            for claim in claims:
                in_batch.setdefault(claim.subject_key, claim.subject_type)
    return refused
