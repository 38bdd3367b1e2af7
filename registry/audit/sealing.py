"""Tamper evidence: the audit log sealed by a signed hash chain.

A sealer takes the rows of finished transactions in (txid, id) order, chains them
(digest = SHA-256(previous digest ‖ row) row by row) into a checkpoint and signs it with
the service's current Ed25519 key. Writers never wait for it: rows are inserted freely and
sealed later in batches. Verification recomputes every checkpoint from the rows: a row
changed, removed or slipped into a sealed range, or a checkpoint altered, shows."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson
from cryptography.exceptions import InvalidSignature
from pydantic import BaseModel

from registry.core.keys import SigningKey

SEAL_LOCK = 0x5245_4153  # advisory lock key: one sealer at a time
GENESIS = (-1, 0, bytes(32))
BATCH = 20_000

ROWS = """
SELECT id, txid, (extract(epoch FROM at) * 1000000)::bigint AS at_us, member_id::text AS member_id,
       client_id, action, resource, outcome, request_id, details::text AS details
FROM audit_log
WHERE (txid, id) > ($1::bigint, $2::bigint) AND (txid, id) <= ($3::bigint, $4::bigint)
ORDER BY txid, id
"""

SEALABLE = """
SELECT id, txid, (extract(epoch FROM at) * 1000000)::bigint AS at_us, member_id::text AS member_id,
       client_id, action, resource, outcome, request_id, details::text AS details
FROM audit_log
WHERE (txid, id) > ($1::bigint, $2::bigint)
  AND txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
ORDER BY txid, id
LIMIT $3
"""


def row_bytes(row: Any) -> bytes:
    return orjson.dumps(
        [row["id"], row["txid"], row["at_us"], row["member_id"], row["client_id"], row["action"],
         row["resource"], row["outcome"], row["request_id"], row["details"]]
    )


def chain(previous: bytes, rows: list[Any]) -> bytes:
    digest = previous
    for row in rows:
        digest = hashlib.sha256(digest + row_bytes(row)).digest()
    return digest


def signed_message(previous: bytes, digest: bytes, last_txid: int, last_id: int, count: int) -> bytes:
    return b"registry-audit-v1|" + previous + digest + orjson.dumps([last_txid, last_id, count])


async def _last(conn: asyncpg.Connection) -> tuple[int, int, bytes]:
    row = await conn.fetchrow("SELECT last_txid, last_id, digest FROM audit_checkpoints ORDER BY id DESC LIMIT 1")
    return (row["last_txid"], row["last_id"], row["digest"]) if row else GENESIS


async def seal(conn: asyncpg.Connection, key: SigningKey, batch: int = BATCH) -> int:
    """Seal what can be sealed now; returns the number of rows sealed (0: nothing new, or
    another sealer is at work)."""
    sealed = 0
    while True:
        async with conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", SEAL_LOCK):
                return sealed
            last_txid, last_id, previous = await _last(conn)
            rows = await conn.fetch(SEALABLE, last_txid, last_id, batch)
            if not rows:
                return sealed
            digest = chain(previous, rows)
            end = rows[-1]
            signature = key.private_key.sign(signed_message(previous, digest, end["txid"], end["id"], len(rows)))
            await conn.execute(
                """
                INSERT INTO audit_checkpoints (last_txid, last_id, rows, previous_digest, digest, kid, signature)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                """,
                end["txid"], end["id"], len(rows), previous, digest, key.kid, signature,
            )
            sealed += len(rows)
        if len(rows) < batch:
            return sealed


class AuditVerification(BaseModel):
    ok: bool
    checkpoints: int
    sealed_rows: int
    unsealed_rows: int
    problems: list[str]


@dataclass
class _Walk:
    problems: list[str] = field(default_factory=list)
    sealed: int = 0


async def verify(conn: asyncpg.Connection, keys: dict[str, SigningKey]) -> AuditVerification:
    """Recompute every checkpoint from the rows and check every signature."""
    walk = _Walk()
    cursor = GENESIS
    checkpoints = await conn.fetch("SELECT * FROM audit_checkpoints ORDER BY id")
    for cp in checkpoints:
        name = f"checkpoint {cp['id']}"
        if cp["previous_digest"] != cursor[2]:
            walk.problems.append(f"{name}: does not follow the previous checkpoint")
        rows = await conn.fetch(ROWS, cursor[0], cursor[1], cp["last_txid"], cp["last_id"])
        if len(rows) != cp["rows"]:
            walk.problems.append(f"{name}: sealed {cp['rows']} rows, {len(rows)} are there now")
        if chain(cp["previous_digest"], rows) != cp["digest"]:
            walk.problems.append(f"{name}: rows differ from what was sealed")
        key = keys.get(cp["kid"])
        if key is None:
            walk.problems.append(f"{name}: signed by key {cp['kid']}, which is not in the key set")
        else:
            message = signed_message(cp["previous_digest"], cp["digest"], cp["last_txid"], cp["last_id"], cp["rows"])
            try:
                key.public_key.verify(cp["signature"], message)
            except InvalidSignature:
                walk.problems.append(f"{name}: signature does not verify")
        walk.sealed += len(rows)
        cursor = (cp["last_txid"], cp["last_id"], cp["digest"])
    unsealed = await conn.fetchval(
        "SELECT count(*) FROM audit_log WHERE (txid, id) > ($1::bigint, $2::bigint)", cursor[0], cursor[1]
    )
    return AuditVerification(
        ok=not walk.problems, checkpoints=len(checkpoints), sealed_rows=walk.sealed, unsealed_rows=unsealed,
        problems=walk.problems,
    )
