"""Idempotency-Key semantics (draft-ietf-httpapi-idempotency-key-header): the same key and
body replay the first response and write nothing; the same key with another body is 422; a
retry while the first request is still running is 409. Keys are scoped per member and route,
and the claim commits in the same transaction as the work, so a failed request leaves the
key free for its retry."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel

from registry.core.db import Tx
from registry.core.errors import Conflict, FieldError, Invalid
from registry.idempotency import repository
from registry.idempotency.repository import IdempotencyKey

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")


Claim = IdempotencyKey  # a key this request holds until it completes


def fingerprint(body: Any) -> bytes:
    try:
        canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS, default=str)
    except TypeError:  # integers beyond 64 bits, which orjson does not encode
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(canonical).digest()


async def claim(tx: Tx, scoped: IdempotencyKey | None, body: Any) -> tuple[Claim | None, dict[str, Any] | None]:
    """(claim to complete later, or None without a key; the stored response on a replay)."""
    if scoped is None:
        return None, None
    if not KEY_PATTERN.match(scoped.key):
        raise Invalid(
            "The Idempotency-Key header must be 1-255 visible ASCII characters",
            errors=[FieldError(field="Idempotency-Key", message="malformed key")],
        )
    digest = fingerprint(body)
    if not await repository.try_lock(tx.conn, scoped):
        raise Conflict(
            "A request with this Idempotency-Key is still being processed; retry shortly",
            headers={"Retry-After": "1", "X-Should-Retry": "true"},
        )
    existing = await repository.claim(tx.conn, scoped, digest)
    if existing is None:
        return scoped, None
    if existing.fingerprint != digest:
        raise Invalid(
            "This Idempotency-Key was used with a different request body",
            errors=[FieldError(field="Idempotency-Key", message="reused with another body")],
        )
    return None, existing.response


async def complete(tx: Tx, claim: Claim | None, status_code: int, response: dict[str, Any]) -> None:
    if claim is not None:
        await repository.store_response(tx.conn, claim, status_code, response)


async def release(tx: Tx, scoped: IdempotencyKey | None) -> None:
    """Free a key whose work was interrupted (an upload cut off mid-file), so a retry with the
    same key starts afresh instead of replaying the interruption."""
    if scoped is not None:
        await repository.release(tx.conn, scoped)


M = TypeVar("M", bound=BaseModel)


async def idempotent(
    tx: Tx,
    scoped: IdempotencyKey | None,
    body: Any,
    model: type[M],
    work: Callable[[], Awaitable[M]],
    status_code: int = 200,
) -> M:
    """Run `work` once per key: a replay returns the stored answer without running it."""
    claimed, replay = await claim(tx, scoped, body)
    if replay is not None:
        return model.model_validate(replay)
    result = await work()
    await complete(tx, claimed, status_code, result.model_dump(mode="json"))
    return result
