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
from urllib.parse import urlsplit

import asyncpg

from registry.audit.sealing import checkpoint_head
from registry.config import Environment
from registry.context import MemberContext
from registry.core.errors import FieldError, Forbidden, Invalid, NotFound
from registry.core.pagination import Page, decode_cursor, encode_cursor, id_cursor
from registry.core.subjects import is_token
from registry.core.tenancy import Member
from registry.monitoring import egress, repository
from registry.monitoring.models import ASSOCIATION_ALERT_KINDS
from registry.monitoring.repository import AlertRow
from registry.monitoring.schemas import (
    DISPUTE_ALERT_KINDS,
    AlertFeed,
    AlertKind,
    AlertOut,
    AssociationAlertOut,
    CheckpointAlertOut,
    CollateralAlertOut,
    DeliveryOut,
    DeliveryStatus,
    DisputeAlertOut,
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


def _token_context(owner_id: uuid.UUID, key: bytes) -> bytes:
    return b"watch|" + owner_id.bytes + key


def _secret_context(owner_id: uuid.UUID) -> bytes:
    return b"webhook|" + owner_id.bytes


def open_subject(server_key: bytes, owner_id: uuid.UUID, key: bytes, sealed: bytes) -> str:
    """A watched token, unsealed: `owner_id` is the member it was sealed for (a watch or
    alert's own `member_id`), bound into the ciphertext so no other member's row opens it."""
    return unseal(server_key, sealed, _token_context(owner_id, key)).hex()


def seal_subject(server_key: bytes, owner_id: uuid.UUID, key: bytes, token: str) -> bytes:
    """A watched token sealed for `owner_id` (what open_subject opens)."""
    return seal(server_key, bytes.fromhex(token), _token_context(owner_id, key))


def open_secret(server_key: bytes, owner_id: uuid.UUID, sealed: bytes) -> str:
    return unseal(server_key, sealed, _secret_context(owner_id)).decode()


def alert_out(
    server_key: bytes, owner_id: uuid.UUID, row: AlertRow
) -> AlertOut | CheckpointAlertOut | CollateralAlertOut | DisputeAlertOut | AssociationAlertOut:
    if row.kind in ASSOCIATION_ALERT_KINDS:
        assert row.details is not None
        return AssociationAlertOut(id=row.id, kind=row.kind, details=row.details, at=row.at)
    if row.kind == AlertKind.audit_checkpoint:
        return CheckpointAlertOut(
            id=row.id, kind=AlertKind.audit_checkpoint, at=row.at, checkpoint=checkpoint_head(row.checkpoint())
        )
    if row.kind == AlertKind.collateral_double_pledge:
        assert row.account_ref is not None and row.record_id is not None
        return CollateralAlertOut(
            id=row.id,
            kind=AlertKind.collateral_double_pledge,
            account_ref=row.account_ref,
            record_id=row.record_id,
            at=row.at,
        )
    if row.kind in DISPUTE_ALERT_KINDS:
        return DisputeAlertOut.model_validate(
            {**(row.details or {}), "id": row.id, "kind": row.kind, "at": row.at, "dispute_id": row.dispute_id}
        )
    assert row.subject_key is not None and row.subject_sealed is not None
    return AlertOut(
        id=row.id,
        subject=open_subject(server_key, owner_id, row.subject_key, row.subject_sealed),
        label=row.label,
        kind=row.kind,
        status=row.status,
        at=row.at,
    )


# --- raising alerts (called by the records service and the upload loader) ----------------


async def raise_delinquency_alerts(
    conn: asyncpg.Connection, reporter: Member, record_ids: Sequence[uuid.UUID], today: date | None = None
) -> int:
    """Call in the transaction that created or updated `record_ids` (the reporter's records),
    after the change and its record_events are written: every other member watching one of
    their subjects gets one alert per subject when a record became delinquent or worse.
    One statement whatever the batch size; returns the number of alerts raised. `today`
    (the service clock's date; the database's when None) decides which watchers still
    hold a live record."""
    if not record_ids:
        return 0
    return await repository.raise_delinquency_alerts(conn, reporter, record_ids, today)


async def end_watches_after_withdrawal(
    conn: asyncpg.Connection, owner: Member, record_ids: Sequence[uuid.UUID], today: date | None = None
) -> None:
    """Call in the transaction that withdrew `record_ids`: a watch with no live record left ends."""
    if record_ids:
        await repository.end_watches_without_live_record(conn, owner, record_ids, today)


# --- watches ------------------------------------------------------------------------------


async def add_watches(ctx: MemberContext, body: WatchCreate) -> WatchBatchResult:
    server_key, member_id = ctx.runtime.keys.server_key, ctx.tenant.member_id
    tokens = list(dict.fromkeys(t.lower() for t in body.subjects))
    keys = ctx.subjects.keys(tokens)
    sealed = [
        seal(server_key, bytes.fromhex(t), _token_context(member_id, k)) for t, k in zip(tokens, keys, strict=True)
    ]
    added = await repository.add_watches(ctx.conn, ctx.tenant, keys, sealed, body.label, ctx.today)
    ctx.audit.resource = "watches"
    refused = [tokens[row.ord - 1] for row in added if not row.held]
    if refused:
        ctx.audit.details = {"subjects": len(tokens), "refused": len(refused)}
        raise Forbidden(
            f"You can watch only borrowers you hold a live record on; {len(refused)} subject(s) have none. "
            "Nothing was watched.",
            errors=[FieldError(field="subjects", message=f"no live record of yours: {t}") for t in refused[:1000]],
        )
    created = sum(1 for row in added if row.created)
    result = WatchBatchResult(created=created, existing=len(added) - created)
    ctx.audit.details = result.model_dump()
    return result


def _int_cursor(cursor: str | None, arity: int) -> list[int] | None:
    values = decode_cursor(cursor, arity)
    if values is not None and not all(isinstance(v, int) and v >= 0 for v in values):
        raise Invalid("The cursor is not valid", errors=[FieldError(field="cursor", message="malformed cursor")])
    return values  # type: ignore[return-value]


int_cursor = _int_cursor  # for registry/collateral/watches.py


async def list_watches(ctx: MemberContext, *, cursor: str | None, limit: int) -> Page[WatchOut]:
    after = _int_cursor(cursor, 1)
    server_key, member_id = ctx.runtime.keys.server_key, ctx.tenant.member_id
    found = await repository.list_watches(
        ctx.conn, ctx.tenant, after_id=after[0] if after else 0, limit=limit + 1, today=ctx.today
    )
    return Page[WatchOut].from_rows(
        found,
        limit,
        lambda r: WatchOut(
            subject=open_subject(server_key, member_id, r.subject_key, r.subject_sealed),
            label=r.label,
            created_at=r.created_at,
        ),
        id_cursor,
    )


async def remove_watch(ctx: MemberContext, subject: str) -> None:
    ctx.audit.resource = "watch"
    if not is_token(subject):
        raise Invalid(
            "subject must be a 64-hex-character token", errors=[FieldError(field="subject", message="not a token")]
        )
    if not await repository.delete_watch(ctx.conn, ctx.tenant, ctx.subjects.key(subject)):
        raise NotFound("You do not watch that subject")


# --- the alert feed -----------------------------------------------------------------------

START = [0, 0]


async def alerts(ctx: MemberContext, *, after: str | None, limit: int) -> AlertFeed:
    position = _int_cursor(after, 2) or START
    found = await repository.feed(ctx.conn, ctx.tenant, (position[0], position[1]), limit)
    data = [alert_out(ctx.runtime.keys.server_key, ctx.tenant.member_id, r) for r in found]
    if found:
        position = [found[-1].txid, found[-1].id]
    return AlertFeed(data=data, next_cursor=after if after is not None and not found else encode_cursor(position))


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
        return Invalid(
            f"The webhook URL is not acceptable: {message}", errors=[FieldError(field="url", message=message)]
        )

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
        message = (
            f"{parts.hostname} resolves to {refused[0]}: loopback, private and link-local addresses are not allowed"
        )
        raise Invalid(
            f"The webhook URL is not acceptable: {message}", errors=[FieldError(field="url", message=message)]
        )


async def put_webhook(ctx: MemberContext, body: WebhookPut) -> WebhookOut:
    env = ctx.settings.env
    check_webhook_url(body.url, env)
    await check_webhook_host(body.url, env)
    ctx.audit.resource = "webhook"
    ctx.audit.details = {"host": urlsplit(body.url).hostname, "secret_generated": body.secret is None}
    secret = body.secret or SECRET_PREFIX + secrets.token_urlsafe(32)
    sealed = seal(ctx.runtime.keys.server_key, secret.encode(), _secret_context(ctx.tenant.member_id))
    row = await repository.put_webhook(ctx.conn, ctx.tenant, body.url, sealed)
    return WebhookOut(
        url=row.url, secret=None if body.secret else secret, created_at=row.created_at, updated_at=row.updated_at
    )


async def get_webhook(ctx: MemberContext) -> WebhookOut:
    row = await repository.get_webhook(ctx.conn, ctx.tenant)
    if row is None:
        raise NotFound("No webhook is configured")
    return WebhookOut.model_validate(row, from_attributes=True)


async def delete_webhook(ctx: MemberContext) -> None:
    ctx.audit.resource = "webhook"
    if not await repository.delete_webhook(ctx.conn, ctx.tenant):
        raise NotFound("No webhook is configured")


async def test_webhook(ctx: MemberContext) -> DeliveryOut:
    ctx.audit.resource = "webhook"
    if not await repository.has_webhook(ctx.conn, ctx.tenant):
        raise NotFound("No webhook is configured")
    row = await repository.enqueue_ping(ctx.conn, ctx.tenant)
    ctx.audit.details = {"delivery_id": row.id}
    if ctx.runtime.deliveries is not None:
        ctx.tx.after_commit.append(ctx.runtime.deliveries.wake)
    return DeliveryOut.model_validate(row, from_attributes=True)


async def list_deliveries(
    ctx: MemberContext, *, status: DeliveryStatus | None, cursor: str | None, limit: int
) -> Page[DeliveryOut]:
    before = _int_cursor(cursor, 1)
    found = await repository.list_deliveries(
        ctx.conn,
        ctx.tenant,
        before_id=before[0] if before else None,
        status=status.value if status else None,
        limit=limit + 1,
    )
    return Page[DeliveryOut].from_rows(
        found, limit, lambda r: DeliveryOut.model_validate(r, from_attributes=True), id_cursor
    )
