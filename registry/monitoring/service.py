"""Rules of monitoring: a member watches only borrowers it holds a live record on; another
member's new or worse delinquency, or hard inquiry, on a watched borrower raises one alert
per watcher, in the transaction of the change, with its webhook delivery queued beside it;
the feed returns each alert exactly once; a member sees and changes only its own."""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from registry.audit.schemas import AuditIntent
from registry.audit.sealing import checkpoint_head
from registry.auth.principal import Principal
from registry.config import Environment
from registry.core.db import Tx
from registry.core.errors import FieldError, Forbidden, Invalid, NotFound
from registry.core.pagination import Page, decode_cursor, encode_cursor
from registry.core.subjects import is_token, subject_key
from registry.monitoring import egress, repository
from registry.monitoring.schemas import (
    AlertFeed,
    AlertKind,
    AlertOut,
    CheckpointAlertOut,
    DeliveryOut,
    DeliveryStatus,
    WatchBatchResult,
    WatchCreate,
    WatchOut,
    WebhookOut,
    WebhookPut,
)
from registry.monitoring.sealing import seal, unseal

SECRET_PREFIX = "whsec_"
RESOLVE_SECONDS = 2.0  # registration waits this long at most for the webhook host's addresses


# --- sealing helpers: a token is bound to its member and subject, a secret to its member --

def _token_context(member_id: uuid.UUID, key: bytes) -> bytes:
    return b"watch|" + member_id.bytes + key


def _secret_context(member_id: uuid.UUID) -> bytes:
    return b"webhook|" + member_id.bytes


def open_subject(server_key: bytes, member_id: uuid.UUID, key: bytes, sealed: bytes) -> str:
    return unseal(server_key, sealed, _token_context(member_id, key)).hex()


def open_secret(server_key: bytes, member_id: uuid.UUID, sealed: bytes) -> str:
    return unseal(server_key, sealed, _secret_context(member_id)).decode()


def alert_out(server_key: bytes, member_id: uuid.UUID, row: Any) -> AlertOut | CheckpointAlertOut:
    if row["kind"] == AlertKind.audit_checkpoint:
        head = checkpoint_head({**row, "id": row["checkpoint_id"]})
        return CheckpointAlertOut(id=row["id"], kind=AlertKind.audit_checkpoint, at=row["at"], checkpoint=head)
    return AlertOut(
        id=row["id"],
        subject=open_subject(server_key, member_id, row["subject_key"], row["subject_sealed"]),
        label=row["label"],
        kind=row["kind"],
        status=row["status"],
        at=row["at"],
    )


# --- raising alerts (called by the records service and the upload loader) ----------------

async def raise_delinquency_alerts(
    conn: asyncpg.Connection, reporter_id: uuid.UUID, record_ids: Sequence[uuid.UUID], today: date | None = None
) -> int:
    """Call in the transaction that created or updated `record_ids` (the reporter's records),
    after the change and its record_events are written: every other member watching one of
    their subjects gets one alert per subject when a record became delinquent or worse.
    One statement whatever the batch size; returns the number of alerts raised. `today`
    (the service clock's date; the database's when None) decides which watchers still
    hold a live record."""
    if not record_ids:
        return 0
    return await repository.raise_delinquency_alerts(conn, reporter_id, record_ids, today)


async def end_watches_after_withdrawal(
    conn: asyncpg.Connection, member_id: uuid.UUID, record_ids: Sequence[uuid.UUID], today: date | None = None
) -> None:
    """Call in the transaction that withdrew `record_ids`: a watch with no live record left ends."""
    if record_ids:
        await repository.end_watches_without_live_record(conn, member_id, record_ids, today)


# --- watches ------------------------------------------------------------------------------

async def add_watches(
    tx: Tx, principal: Principal, body: WatchCreate, *, server_key: bytes, today: date, audit: AuditIntent
) -> WatchBatchResult:
    tokens = list(dict.fromkeys(t.lower() for t in body.subjects))
    keys = [subject_key(server_key, t) for t in tokens]
    sealed = [seal(server_key, bytes.fromhex(t), _token_context(principal.member_id, k)) for t, k in zip(tokens, keys, strict=True)]
    rows = await repository.add_watches(tx.conn, principal.member_id, keys, sealed, body.label, today)
    audit.resource = "watches"
    refused = [tokens[row["ord"] - 1] for row in rows if not row["held"]]
    if refused:
        audit.details = {"subjects": len(tokens), "refused": len(refused)}
        raise Forbidden(
            f"You can watch only borrowers you hold a live record on; {len(refused)} subject(s) have none. "
            "Nothing was watched.",
            errors=[FieldError(field="subjects", message=f"no live record of yours: {t}") for t in refused[:1000]],
        )
    created = sum(1 for row in rows if row["created"])
    result = WatchBatchResult(created=created, existing=len(rows) - created)
    audit.details = result.model_dump()
    return result


def _int_cursor(cursor: str | None, arity: int) -> list[int] | None:
    values = decode_cursor(cursor, arity)
    if values is not None and not all(isinstance(v, int) and v >= 0 for v in values):
        raise Invalid("The cursor is not valid", errors=[FieldError(field="cursor", message="malformed cursor")])
    return values  # type: ignore[return-value]


async def list_watches(
    tx: Tx, principal: Principal, *, server_key: bytes, cursor: str | None, limit: int, today: date
) -> Page[WatchOut]:
    after = _int_cursor(cursor, 1)
    rows = await repository.list_watches(
        tx.conn, principal.member_id, after_id=after[0] if after else 0, limit=limit + 1, today=today
    )
    data = [
        WatchOut(
            subject=open_subject(server_key, principal.member_id, r["subject_key"], r["subject_sealed"]),
            label=r["label"],
            created_at=r["created_at"],
        )
        for r in rows[:limit]
    ]
    next_cursor = encode_cursor([rows[limit - 1]["id"]]) if len(rows) > limit else None
    return Page[WatchOut](data=data, next_cursor=next_cursor)


async def remove_watch(tx: Tx, principal: Principal, subject: str, *, server_key: bytes, audit: AuditIntent) -> None:
    audit.resource = "watch"
    if not is_token(subject):
        raise Invalid("subject must be a 64-hex-character token", errors=[FieldError(field="subject", message="not a token")])
    if not await repository.delete_watch(tx.conn, principal.member_id, subject_key(server_key, subject)):
        raise NotFound("You do not watch that subject")


# --- the alert feed -----------------------------------------------------------------------

START = [0, 0]


async def alerts(tx: Tx, principal: Principal, *, server_key: bytes, after: str | None, limit: int) -> AlertFeed:
    position = _int_cursor(after, 2) or START
    rows = await repository.feed(tx.conn, principal.member_id, (position[0], position[1]), limit)
    data = [alert_out(server_key, principal.member_id, r) for r in rows]
    if rows:
        position = [rows[-1]["txid"], rows[-1]["id"]]
    return AlertFeed(data=data, next_cursor=after if after is not None and not rows else encode_cursor(position))


# --- the webhook endpoint -----------------------------------------------------------------

def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_internal_address(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not egress.address_allowed(address, relaxed=False)


def check_webhook_url(url: str, env: Environment) -> None:
    """https everywhere; plain http only to a loopback address in development and test;
    in production no loopback, private or link-local address literal (no requests to the
    registry's own network on a member's behalf)."""
    def refuse(message: str) -> Invalid:
        return Invalid(f"The webhook URL is not acceptable: {message}", errors=[FieldError(field="url", message=message)])

    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise refuse("not a valid URL") from None
    if not host:
        raise refuse("no host")
    if parts.username or parts.password:
        raise refuse("credentials in the URL are not allowed; use the signing secret")
    if parts.fragment:
        raise refuse("fragments are not allowed")
    relaxed = egress.loopback_allowed(env)
    if parts.scheme == "http":
        if not (relaxed and _is_loopback(host)):
            raise refuse("https is required (http only to a loopback address in development)")
    elif parts.scheme != "https":
        raise refuse("https is required")
    if not relaxed and _is_internal_address(host):
        raise refuse("loopback, private and link-local addresses are not allowed")


async def check_webhook_host(url: str, env: Environment, resolver: egress.Resolver = egress.resolve) -> None:
    """Outside development and test, a host name that resolves to a loopback, private or
    link-local address is refused now rather than at every delivery. A name that does not
    resolve yet is accepted: deliveries check again when they connect (monitoring.egress)."""
    if egress.loopback_allowed(env):
        return
    parts = urlsplit(url)
    try:
        addresses = await asyncio.wait_for(resolver(parts.hostname or "", parts.port or 443), RESOLVE_SECONDS)
    except (OSError, TimeoutError, UnicodeError):
        return
    refused = egress.refused_addresses(addresses, relaxed=False)
    if refused:
        message = f"{parts.hostname} resolves to {refused[0]}: loopback, private and link-local addresses are not allowed"
        raise Invalid(f"The webhook URL is not acceptable: {message}", errors=[FieldError(field="url", message=message)])


async def put_webhook(
    tx: Tx, principal: Principal, body: WebhookPut, *, server_key: bytes, env: Environment, audit: AuditIntent
) -> WebhookOut:
    check_webhook_url(body.url, env)
    await check_webhook_host(body.url, env)
    audit.resource = "webhook"
    audit.details = {"host": urlsplit(body.url).hostname, "secret_generated": body.secret is None}
    secret = body.secret or SECRET_PREFIX + secrets.token_urlsafe(32)
    row = await repository.put_webhook(
        tx.conn, principal.member_id, body.url, seal(server_key, secret.encode(), _secret_context(principal.member_id))
    )
    return WebhookOut(url=row["url"], secret=None if body.secret else secret, created_at=row["created_at"], updated_at=row["updated_at"])


async def get_webhook(tx: Tx, principal: Principal) -> WebhookOut:
    row = await repository.get_webhook(tx.conn, principal.member_id)
    if row is None:
        raise NotFound("No webhook is configured")
    return WebhookOut.model_validate(dict(row))


async def delete_webhook(tx: Tx, principal: Principal, audit: AuditIntent) -> None:
    audit.resource = "webhook"
    if not await repository.delete_webhook(tx.conn, principal.member_id):
        raise NotFound("No webhook is configured")


async def test_webhook(tx: Tx, principal: Principal, audit: AuditIntent) -> DeliveryOut:
    audit.resource = "webhook"
    if not await repository.has_webhook(tx.conn, principal.member_id):
        raise NotFound("No webhook is configured")
    row = await repository.enqueue_ping(tx.conn, principal.member_id)
    audit.details = {"delivery_id": row["id"]}
    return DeliveryOut.model_validate(dict(row))


async def list_deliveries(
    tx: Tx, principal: Principal, *, status: DeliveryStatus | None, cursor: str | None, limit: int
) -> Page[DeliveryOut]:
    before = _int_cursor(cursor, 1)
    rows = await repository.list_deliveries(
        tx.conn, principal.member_id, before_id=before[0] if before else None,
        status=status.value if status else None, limit=limit + 1,
    )
    data = [DeliveryOut.model_validate(dict(r)) for r in rows[:limit]]
    next_cursor = encode_cursor([data[-1].id]) if len(rows) > limit else None
    return Page[DeliveryOut](data=data, next_cursor=next_cursor)
