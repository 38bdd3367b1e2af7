"""Guarantors, co-borrowers and collateral of an account: the item fields that carry them,
their rules, how they travel in the record's snapshot into `record_parties` and
`record_collateral` (tables in link_models.py), and the SQL that reads them back, including
the contingent figures of the exposure statement.

A party or a vehicle is known by its `brs1` token and stored, like a borrower, only as
HMAC-SHA256(K_server, token). The snapshot carries those keys in hex (the same bytes the
tables hold, never a token), so a change of parties or collateral is a change of content,
and the one records upsert writes them for the API and for uploads alike."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

import asyncpg
from pydantic import BaseModel, Field

from registry.core import rows
from registry.core.schemas import RequestModel
from registry.core.subjects import TOKEN_PATTERN, subject_key
from registry.disputes import rules as dispute_rules
from registry.records import rules as record_rules
from registry.records.vocabulary import Product, SubjectType

MAX_PARTIES = 10
# Products whose accounts should carry their vehicle; a missing one is accepted and counted.
VEHICLE_PRODUCTS = (Product.auto_loan, Product.financial_lease)

_TOKEN = Annotated[
    str,
    Field(
        pattern=TOKEN_PATTERN.pattern,
        description="A brs1 token (docs/identity-hashing.md)",
        examples=["5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592"],
    ),
]


class PartyRole(StrEnum):
    guarantor = "guarantor"
    co_borrower = "co_borrower"


class Party(RequestModel):
    """Someone else answerable for the account: a guarantor or a co-borrower."""

    subject: _TOKEN
    subject_type: SubjectType
    role: PartyRole


class Collateral(RequestModel):
    """The vehicle pledged for the account, by its `vin` token."""

    kind: Literal["vehicle"]
    token: _TOKEN


class PartyOut(BaseModel):
    subject_type: SubjectType
    role: PartyRole


class CollateralOut(BaseModel):
    kind: Literal["vehicle"]


# --- rules of an item --------------------------------------------------------------------


def link_errors(subject: str, parties: Sequence[Party]) -> list[tuple[str, str]]:
    """(field, message) for each party that cannot be: the borrower itself, or one named twice."""
    errors = []
    seen: set[str] = set()
    own = subject.lower()
    for index, party in enumerate(parties):
        token = party.subject.lower()
        if token == own:
            errors.append((f"parties.{index}.subject", "the account's own borrower cannot be a party to it"))
        elif token in seen:
            errors.append((f"parties.{index}.subject", "the same party appears twice"))
        seen.add(token)
    return errors


# The snapshot keys that hold an item's links by key (never by token).
LINK_FIELDS = ("parties", "collateral")


def add_links(snapshot: dict[str, Any], server_key: bytes, parties: Sequence[Party], collateral: Collateral | None):
    """Put the item's parties and collateral in its snapshot, by key, only when it has them
    (so a record reported before they existed keeps its content hash)."""
    if parties:
        snapshot["parties"] = sorted(
            (
                {
                    "subject_key": subject_key(server_key, p.subject).hex(),
                    "subject_type": p.subject_type.value,
                    "role": p.role.value,
                }
                for p in parties
            ),
            key=lambda p: p["subject_key"],
        )
    if collateral is not None:
        snapshot["collateral"] = {
            "kind": collateral.kind,
            "vehicle_key": subject_key(server_key, collateral.token).hex(),
        }


# --- the CSV encoding of an upload line ---------------------------------------------------
#
# `parties`: entries separated by `;`, each `role:subject_type:token`, e.g.
#   guarantor:enterprise:5d41…;co_borrower:individual:7c21…
# `collateral`: `vehicle:token`.

CSV_COLUMNS = ("parties", "collateral")


def from_csv(name: str, cell: str) -> Any:
    """A `parties` or `collateral` cell as the JSON value the item takes; a malformed cell
    becomes a value the item's validation refuses with a message that names the field."""
    if name == "parties":
        parties = []
        for entry in cell.split(";"):
            parts = [part.strip() for part in entry.split(":")]
            if len(parts) != 3:
                return f"{cell} (each party is role:subject_type:token, separated by ';')"
            parties.append({"role": parts[0], "subject_type": parts[1], "subject": parts[2]})
        return parties
    kind, _, token = cell.partition(":")
    return {"kind": kind.strip(), "token": token.strip()}


# --- the upsert: links written from the snapshot of every created or updated record -------

# CTEs appended to the records upsert (registry/records/repository.py), over its `upserted`
# (id, account_ref) and `input` (with snapshot); $1 is the member. Kept links are updated in
# place and dropped ones deleted (disjoint rows, so the two never touch the same row), and a
# link removed by an upheld dispute stays removed.
UPSERT_CTES = """,
parties_set AS (
    INSERT INTO record_parties AS rp (record_id, member_id, subject_key, subject_type, role)
    SELECT u.id, $1, decode(p->>'subject_key', 'hex'), p->>'subject_type', p->>'role'
    FROM upserted u JOIN input i USING (account_ref)
    CROSS JOIN LATERAL jsonb_array_elements(coalesce(i.snapshot->'parties', '[]'::jsonb)) p
    ON CONFLICT (record_id, subject_key) DO UPDATE SET subject_type = EXCLUDED.subject_type, role = EXCLUDED.role
),
parties_dropped AS (
    DELETE FROM record_parties rp USING upserted u JOIN input i USING (account_ref)
    WHERE rp.record_id = u.id AND NOT EXISTS (
        SELECT 1 FROM jsonb_array_elements(coalesce(i.snapshot->'parties', '[]'::jsonb)) p
        WHERE decode(p->>'subject_key', 'hex') = rp.subject_key)
),
collateral_set AS (
    INSERT INTO record_collateral AS rc (record_id, member_id, kind, vehicle_key)
    SELECT u.id, $1, i.snapshot->'collateral'->>'kind', decode(i.snapshot->'collateral'->>'vehicle_key', 'hex')
    FROM upserted u JOIN input i USING (account_ref)
    WHERE i.snapshot->'collateral' IS NOT NULL
    ON CONFLICT (record_id) DO UPDATE SET kind = EXCLUDED.kind, vehicle_key = EXCLUDED.vehicle_key
    RETURNING record_id
),
collateral_dropped AS (
    DELETE FROM record_collateral rc USING upserted u JOIN input i USING (account_ref)
    WHERE rc.record_id = u.id AND i.snapshot->'collateral' IS NULL
)
"""

# The ids of records that now carry a vehicle (for the double-pledge check), as COUNTED reads them.
PLEDGED = "ARRAY(SELECT record_id FROM collateral_set) AS pledged"


# --- contingent exposure (composed into registry/exposure/statement.py) -------------------


def contingent_ctes(*, subjects: str, caller: str, today: str, now: str) -> str:
    """CTEs of the exposure statement: other institutions' live accounts (held, answered)
    where a queried subject is a party; counts and sums only, by subject."""
    delinquent = record_rules.delinquent("o")  # the alias the exposure statement uses for rows it counts
    return f"""contingent_links AS (
    SELECT p.subject_key, p.role, r.severity, r.currency, r.overdue_minor, r.outstanding_minor
    FROM record_parties p JOIN records r ON r.id = p.record_id
    WHERE p.subject_key = ANY({subjects}) AND p.removed_at IS NULL AND r.member_id <> {caller}
      AND {record_rules.held("r", today)} AND {dispute_rules.answered("r", now)}
),
contingent AS (
    SELECT subject_key, count(*) AS accounts, count(*) FILTER (WHERE {delinquent}) AS delinquent,
           max(severity) AS worst
    FROM contingent_links o GROUP BY 1
),
contingent_roles AS (
    SELECT subject_key, jsonb_object_agg(role, jsonb_build_array(n, d)) AS by_role
    FROM (SELECT subject_key, role, count(*) AS n, count(*) FILTER (WHERE {delinquent}) AS d
          FROM contingent_links o GROUP BY 1, 2) x
    GROUP BY 1
),
contingent_amounts AS (
    SELECT subject_key, jsonb_object_agg(currency, jsonb_build_array(overdue, outstanding)) AS amounts
    FROM (SELECT subject_key, currency, sum(overdue_minor) AS overdue, sum(outstanding_minor) AS outstanding
          FROM contingent_links GROUP BY 1, 2) x
    GROUP BY 1
)"""


CONTINGENT_SELECT = (
    "ct.accounts AS contingent_accounts, ct.delinquent AS contingent_delinquent, ct.worst AS contingent_worst,\n"
    "       ctr.by_role AS contingent_by_role, cta.amounts AS contingent_amounts"
)
CONTINGENT_JOINS = """LEFT JOIN contingent ct USING (subject_key)
LEFT JOIN contingent_roles ctr USING (subject_key)
LEFT JOIN contingent_amounts cta USING (subject_key)"""
CONTINGENT_COLUMNS = (
    "contingent_accounts bigint, contingent_delinquent bigint, contingent_worst smallint,\n"
    "    contingent_by_role jsonb, contingent_amounts jsonb"
)


# --- reading a member's own links back ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class LinkRow:
    record_id: uuid.UUID
    parties: list[dict[str, str]]
    collateral: str | None


async def links_of(
    conn: asyncpg.Connection, member_id: uuid.UUID, record_ids: list[uuid.UUID]
) -> dict[uuid.UUID, LinkRow]:
    """The parties (without removed ones) and the collateral kind of the member's records."""
    if not record_ids:
        return {}
    found = await conn.fetch(
        """
        SELECT r.id AS record_id,
               coalesce((SELECT jsonb_agg(jsonb_build_object('subject_type', p.subject_type, 'role', p.role)
                                          ORDER BY p.role, p.subject_key)
                         FROM record_parties p WHERE p.record_id = r.id AND p.removed_at IS NULL), '[]') AS parties,
               (SELECT c.kind FROM record_collateral c WHERE c.record_id = r.id) AS collateral
        FROM unnest($2::uuid[]) AS r(id)
        WHERE EXISTS (SELECT 1 FROM records x WHERE x.id = r.id AND x.member_id = $1)
        """,
        member_id,
        record_ids,
    )
    return {row.record_id: row for row in rows.many(LinkRow, found)}


# --- a party's dispute (registry/disputes) -----------------------------------------------


async def is_party(conn: asyncpg.Connection, record_id: uuid.UUID, subject_key: bytes) -> bool:
    """The subject is a party (link not removed) of the record (read as the caller may see it)."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM record_parties WHERE record_id = $1 AND subject_key = $2 "
            "AND removed_at IS NULL)",
            record_id,
            subject_key,
        )
    )


async def remove_links(conn: asyncpg.Connection, links: list[tuple[uuid.UUID, bytes]], at: Any) -> None:
    """Remove party links (record id, subject key) for good: a dispute by the party was upheld.
    A later report of the account does not bring a removed link back."""
    if links:
        await conn.execute(
            """
            UPDATE record_parties p SET removed_at = $3
            FROM unnest($1::uuid[], $2::bytea[]) AS l(record_id, subject_key)
            WHERE p.record_id = l.record_id AND p.subject_key = l.subject_key AND p.removed_at IS NULL
            """,
            [record_id for record_id, _ in links],
            [key for _, key in links],
            at,
        )
