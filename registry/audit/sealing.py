"""Tamper evidence: each audit row hashed at insert, the hashes sealed by a signed chain.

A BEFORE INSERT trigger gives every row its `row_hash` (SHA-256 over its fields, `row_hash`
below computes the same) on whichever path inserts it. A sealer takes the rows of finished
transactions in (txid, id) order, recomputes each row's hash from its content, chains the
stored hashes (digest = SHA-256(previous digest ‖ row hash) row by row) into a checkpoint and
signs it with the service's current Ed25519 key. A row whose content no longer matches its
hash was changed after insert: the sealer still folds the hash the row got at insert, names
the row in the checkpoint's `changed_rows` (which the signature covers) and logs it. Writers
never wait: rows are inserted freely and sealed later in batches.

Verification recomputes every row's hash and every checkpoint: a row changed (named by id,
action and member), removed or slipped into a sealed range, or a checkpoint altered, shows.
Checkpoints sealed before row hashes existed (format 1) chain the rows' content instead."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson
from cryptography.exceptions import InvalidSignature

from registry.audit.schemas import MAX_NAMED_ROWS, AuditVerification, ChangedRow, ChangeFound, CheckpointHead
from registry.core import rows as typed
from registry.core.keys import SigningKey

logger = logging.getLogger(__name__)

SEAL_LOCK = 0x5245_4153  # advisory lock key: one sealer at a time
GENESIS = (-1, 0, bytes(32))
BATCH = 20_000
FORMAT = 2  # what this code seals: a chain over the row hashes set at insert
ROW_HASH_TAG = b"registry-audit-row-v1"

COLUMNS = """id, txid, (extract(epoch FROM at) * 1000000)::bigint AS at_us, member_id::text AS member_id,
       client_id, action, resource, outcome, request_id, details::text AS details, row_hash"""

ROWS = f"""
SELECT {COLUMNS}
FROM audit_log
WHERE (txid, id) > ($1::bigint, $2::bigint) AND (txid, id) <= ($3::bigint, $4::bigint)
ORDER BY txid, id
"""

SEALABLE = f"""
SELECT {COLUMNS}
FROM audit_log
WHERE (txid, id) > ($1::bigint, $2::bigint)
  AND txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
ORDER BY txid, id
LIMIT $3
"""

UNSEALED = f"""
SELECT {COLUMNS}
FROM audit_log
WHERE (txid, id) > ($1::bigint, $2::bigint)
ORDER BY txid, id
LIMIT $3
"""


@dataclass(frozen=True, slots=True)
class SealedRow:
    """An audit row as sealing reads it: each field as the row hash covers it."""

    id: int
    txid: int
    at_us: int
    member_id: str | None
    client_id: str | None
    action: str
    resource: str | None
    outcome: int
    request_id: str | None
    details: str
    row_hash: bytes | None


@dataclass(frozen=True, slots=True)
class Checkpoint:
    id: int
    format: int
    last_txid: int
    last_id: int
    rows: int
    changed_rows: list[int]
    previous_digest: bytes
    digest: bytes
    kid: str
    signature: bytes
    sealed_at: Any


CHECKPOINT_COLUMNS = typed.columns(Checkpoint)

# The fields a row hash covers, in order (migration 0012 `audit_row_hash` is the same in SQL).
HASHED = ("id", "txid", "at_us", "member_id", "client_id", "action", "resource", "outcome", "request_id", "details")


def row_hash(row: Any) -> bytes:
    """SHA-256 over a version tag and each field as `<byte length>:<text>`, or `-` for NULL
    (`row`: a SealedRow, or a record with the same columns)."""
    digest = hashlib.sha256(ROW_HASH_TAG)
    for name in HASHED:
        value = getattr(row, name) if isinstance(row, SealedRow) else row[name]
        if value is None:
            digest.update(b"-")
        else:
            text = str(value).encode()
            digest.update(b"%d:" % len(text))
            digest.update(text)
    return digest.digest()


def row_bytes(row: SealedRow) -> bytes:
    """What a format-1 checkpoint chained: the row's content."""
    return orjson.dumps([getattr(row, name) for name in HASHED])


def chain(previous: bytes, rows: Sequence[SealedRow], fmt: int = FORMAT) -> bytes:
    digest = previous
    for row in rows:
        link = row_bytes(row) if fmt == 1 else (row.row_hash or b"")
        digest = hashlib.sha256(digest + link).digest()
    return digest


def signed_message(
    fmt: int, previous: bytes, digest: bytes, last_txid: int, last_id: int, count: int, changed_rows: Sequence[int]
) -> bytes:
    position = [last_txid, last_id, count] if fmt == 1 else [last_txid, last_id, count, list(changed_rows)]
    return b"registry-audit-v%d|" % fmt + previous + digest + orjson.dumps(position)


def checkpoint_head(cp: Any) -> CheckpointHead:
    """A checkpoint's public header (`cp`: a Checkpoint, or a mapping of its columns)."""
    cp = cp if isinstance(cp, Checkpoint) else Checkpoint(**{name: cp[name] for name in Checkpoint.__slots__})
    return CheckpointHead(
        id=cp.id,
        format=cp.format,
        last_txid=cp.last_txid,
        last_id=cp.last_id,
        rows=cp.rows,
        changed_rows=list(cp.changed_rows),
        previous_digest=cp.previous_digest.hex(),
        digest=cp.digest.hex(),
        kid=cp.kid,
        signature=cp.signature.hex(),
        sealed_at=cp.sealed_at,
    )


def _named(row: SealedRow) -> str:
    member = f"member {row.member_id}" if row.member_id else "no member"
    return f"row {row.id} ({row.action}, {member})"


async def _fetch(conn: asyncpg.Connection, statement: str, *args: Any) -> list[SealedRow]:
    return typed.many(SealedRow, await conn.fetch(statement, *args))


async def _last(conn: asyncpg.Connection) -> tuple[int, int, bytes]:
    row = await conn.fetchrow("SELECT last_txid, last_id, digest FROM audit_checkpoints ORDER BY id DESC LIMIT 1")
    return (row["last_txid"], row["last_id"], row["digest"]) if row else GENESIS


async def seal(conn: asyncpg.Connection, key: SigningKey, batch: int = BATCH) -> int:
    """Seal what can be sealed now; returns the number of rows sealed (0: nothing new, or
    another sealer is at work). Rows found changed since insert are sealed with the hash they
    got at insert, named in the checkpoint's `changed_rows` and logged as an error."""
    sealed = 0
    while True:
        async with conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", SEAL_LOCK):
                return sealed
            last_txid, last_id, previous = await _last(conn)
            rows = await _fetch(conn, SEALABLE, last_txid, last_id, batch)
            if not rows:
                return sealed
            changed = [r for r in rows if row_hash(r) != r.row_hash]
            changed_ids = [r.id for r in changed]
            digest = chain(previous, rows)
            end = rows[-1]
            message = signed_message(FORMAT, previous, digest, end.txid, end.id, len(rows), changed_ids)
            checkpoint_id = await conn.fetchval(
                """
                INSERT INTO audit_checkpoints
                    (last_txid, last_id, rows, previous_digest, digest, kid, signature, format, changed_rows)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                RETURNING id
                """,
                end.txid,
                end.id,
                len(rows),
                previous,
                digest,
                key.kid,
                key.private_key.sign(message),
                FORMAT,
                changed_ids,
            )
            if changed:
                logger.error(
                    "audit rows changed after insert, before sealing: %s",
                    "; ".join(_named(r) for r in changed[:100]),
                    extra={"checkpoint": checkpoint_id, "changed_rows": len(changed)},
                )
            sealed += len(rows)
        if len(rows) < batch:
            return sealed


@dataclass
class _Walk:
    problems: list[str] = field(default_factory=list)
    changed: list[ChangedRow] = field(default_factory=list)
    changed_total: int = 0
    sealed: int = 0

    def changed_row(self, row: SealedRow, checkpoint: int | None, found: ChangeFound, problem: str) -> None:
        self.changed_total += 1
        if len(self.changed) < MAX_NAMED_ROWS:
            self.changed.append(
                ChangedRow(id=row.id, action=row.action, member_id=row.member_id, checkpoint=checkpoint, found=found)
            )
            self.problems.append(f"{_named(row)}: {problem}")

    def check_rows(self, rows: Sequence[SealedRow], checkpoint: Checkpoint | None) -> None:
        recorded = set(checkpoint.changed_rows) if checkpoint is not None else set()
        for row in rows:
            matches = row_hash(row) == row.row_hash
            if checkpoint is None:
                if not matches:
                    self.changed_row(row, None, ChangeFound.unsealed, "changed after it was written (not sealed yet)")
            elif row.id in recorded:
                problem = f"changed after it was written, before checkpoint {checkpoint.id} sealed it"
                if matches:
                    problem += " (it matches its hash again)"
                self.changed_row(row, checkpoint.id, ChangeFound.at_sealing, problem)
            elif not matches:
                self.changed_row(
                    row, checkpoint.id, ChangeFound.after_sealing, f"changed after checkpoint {checkpoint.id} sealed it"
                )


async def verify(conn: asyncpg.Connection, keys: dict[str, SigningKey]) -> AuditVerification:
    """Recompute every row's hash and every checkpoint, and check every signature."""
    walk = _Walk()
    cursor = GENESIS
    checkpoints = typed.many(
        Checkpoint, await conn.fetch(f"SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY id")
    )
    for cp in checkpoints:
        name = f"checkpoint {cp.id}"
        if cp.previous_digest != cursor[2]:
            walk.problems.append(f"{name}: does not follow the previous checkpoint")
        rows = await _fetch(conn, ROWS, cursor[0], cursor[1], cp.last_txid, cp.last_id)
        if len(rows) != cp.rows:
            walk.problems.append(f"{name}: sealed {cp.rows} rows, {len(rows)} are there now")
        if chain(cp.previous_digest, rows, cp.format) != cp.digest:
            walk.problems.append(f"{name}: rows differ from what was sealed")
        walk.check_rows(rows, cp)
        key = keys.get(cp.kid)
        if key is None:
            walk.problems.append(f"{name}: signed by key {cp.kid}, which is not in the key set")
        else:
            message = signed_message(
                cp.format, cp.previous_digest, cp.digest, cp.last_txid, cp.last_id, cp.rows, cp.changed_rows
            )
            try:
                key.public_key.verify(cp.signature, message)
            except InvalidSignature:
                walk.problems.append(f"{name}: signature does not verify")
        walk.sealed += len(rows)
        cursor = (cp.last_txid, cp.last_id, cp.digest)
    unsealed = 0
    position = cursor[:2]
    while rows := await _fetch(conn, UNSEALED, position[0], position[1], BATCH):
        walk.check_rows(rows, None)
        unsealed += len(rows)
        position = (rows[-1].txid, rows[-1].id)
    if walk.changed_total > len(walk.changed):
        walk.problems.append(f"{walk.changed_total - len(walk.changed)} more changed rows are not named here")
    return AuditVerification(
        ok=not walk.problems,
        checkpoints=len(checkpoints),
        sealed_rows=walk.sealed,
        unsealed_rows=unsealed,
        changed_rows=walk.changed,
        problems=walk.problems,
    )
