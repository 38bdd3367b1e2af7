"""The request context: everything a route hands its service, made by one dependency.

A context carries the caller, its tenant (`Member` for `/v1`, `Association` for `/admin`),
the request's transaction, the clock read once, the subject keyer, the request's audit row,
the request id, and the route template that idempotency keys are bound to.

One transaction per request: it opens with the tenant's proven row-level-security context,
commits when the route returns (before the response is sent, so a client never sees a
success that did not commit) with the request's audit row inside it, and rolls back when
the route raises; the error handler then audits the failure (`audit_failure`). Routes that
take no request transaction (the exposure statement writes its own rows in one round trip;
an upload commits chunk by chunk) get a context without one and write their audit row
themselves.

No `from __future__ import annotations` here: the dependencies' annotations name the scope
of the closure that makes them, which FastAPI must see as objects, not strings."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

import asyncpg
from fastapi import Depends, Request

from registry.audit.auditor import RequestAudit
from registry.audit.declare import audited, request_audit
from registry.auth.credentials import CHANNEL as CREDENTIALS_CHANNEL
from registry.auth.deps import Caller, authenticate, require
from registry.auth.principal import Principal, Scope
from registry.config import Settings
from registry.core.db import Tx, statements
from registry.core.errors import database_unavailable_reason
from registry.core.subjects import SubjectKeyer
from registry.core.tenancy import Association, Member, Tenancy, Tenant
from registry.idempotency.service import IdempotencyKey
from registry.ratelimit import service as ratelimit
from registry.ratelimit.service import Policy
from registry.runtime import Runtime, get_runtime

logger = logging.getLogger(__name__)

T = TypeVar("T", Member, Association)


class RequestContext(Generic[T]):
    """What one authenticated request's service code works with."""

    __slots__ = ("_tx", "audit", "caller", "now", "request_id", "route", "runtime", "tenant")

    def __init__(
        self,
        *,
        runtime: Runtime,
        caller: Caller,
        tenant: T,
        audit: RequestAudit,
        request_id: str | None,
        route: str,
        tx: Tx | None,
    ) -> None:
        self.runtime = runtime
        self.caller = caller
        self.tenant = tenant
        self.audit = audit
        self.request_id = request_id
        self.route = route
        self.now: datetime = runtime.clock()
        self._tx = tx

    @property
    def tx(self) -> Tx:
        if self._tx is None:
            raise RuntimeError(f"{self.route} runs without a request transaction")
        return self._tx

    @property
    def conn(self) -> asyncpg.Connection:
        return self.tx.conn

    @property
    def principal(self) -> Principal:
        return self.caller.principal

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def subjects(self) -> SubjectKeyer:
        return self.runtime.subjects

    @property
    def today(self) -> date:
        return self.now.date()

    @property
    def tenancy(self) -> Tenancy:
        return Tenancy(self.runtime.prover, self.tenant, self.caller.principal.client_id)

    def idempotency(self, key: str | None) -> IdempotencyKey | None:
        """The caller's Idempotency-Key, bound to its member and this route's template."""
        return None if key is None else IdempotencyKey(self.tenant.member_id, self.route, key)


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def _declare_write_quota(request: Request) -> None:
    request.state.counts_writes = True


# Declared by a router whose writes count against the member's write quota (requests per
# second); the context counts them once the route's audit action is known, so a refusal
# is audited as the route's.
WriteQuota = Depends(_declare_write_quota)


async def _count_write(request: Request, runtime: Runtime, caller: Caller) -> None:
    # Read from the scope's state dict: `request.state` raises (and catches) AttributeError
    # for a route that declared nothing, on every request.
    if request.scope["method"] in READ_METHODS or not request.scope.get("state", {}).get("counts_writes", False):
        return
    quota = caller.standing.writes_per_second or runtime.settings.default_writes_per_second
    await ratelimit.consume(
        runtime.db.pool, Policy("writes", quota, 1), str(caller.principal.member_id), runtime.clock()
    )


def _route(request: Request) -> tuple[str, int]:
    """The route's template (`POST /v1/disputes`) and its success status."""
    route = request.scope.get("route")
    path = getattr(route, "path", None) or request.url.path  # parsing the URL only when there is no route
    return f"{request.scope['method']} {path}", getattr(route, "status_code", None) or 200


async def without_transaction(request: Request, caller: Caller, tenant: Tenant) -> RequestContext[Any]:
    """The context of a route that takes no request transaction and writes its own audit
    row (the exposure statement; an upload's end). A plain function, not a generator: FastAPI
    wraps a generator dependency in an exit stack and a context manager on every request."""
    runtime = get_runtime(request)
    await _count_write(request, runtime, caller)
    return RequestContext(
        runtime=runtime,
        caller=caller,
        tenant=tenant,
        audit=request_audit(request),
        request_id=request.scope.get("state", {}).get("request_id"),
        route=_route(request)[0],
        tx=None,
    )


@asynccontextmanager
async def _opened(request: Request, caller: Caller, tenant: Tenant) -> AsyncIterator[RequestContext[Any]]:
    runtime = get_runtime(request)
    audit = request_audit(request)
    route, status = _route(request)
    request_id = request.scope.get("state", {}).get("request_id")
    await _count_write(request, runtime, caller)
    async with statements(runtime.db.pool) as conn:  # a transaction: nothing outlives it
        db_tx = conn.transaction()
        await db_tx.start()
        tx = Tx(conn)
        try:
            context = RequestContext(
                runtime=runtime, caller=caller, tenant=tenant, audit=audit, request_id=request_id, route=route, tx=tx
            )
            await context.tenancy.enter(conn)
            yield context
        except BaseException:
            await db_tx.rollback()
            raise
        if not audit.recorded:
            await audit.record(conn, status)
        await db_tx.commit()
    if CREDENTIALS_CHANNEL in tx.notified:
        runtime.credentials.invalidate()
    await tx.run_after_commit()


def opened_context(request: Request, caller: Caller, tenant: Tenant) -> Any:
    """The same context for a caller authenticated another way (the console's staff, signed
    in by session): one transaction with the tenant's proven context and the audit row."""
    return _opened(request, caller, tenant)


def member_context(scope: Scope | None, *, transaction: bool = True) -> Any:
    """A member route's context: the caller needs `scope` (any token of the member when None)
    and sees its own rows."""

    if not transaction:

        async def untransacted(
            request: Request, caller: Annotated[Caller, Depends(require(scope) if scope else authenticate)]
        ) -> Any:
            return await without_transaction(request, caller, caller.as_member())

        return Depends(untransacted)

    async def dependency(
        request: Request, caller: Annotated[Caller, Depends(require(scope) if scope else authenticate)]
    ) -> AsyncIterator[Any]:
        async with _opened(request, caller, caller.as_member()) as ctx:
            yield ctx

    return Depends(dependency, scope="function")


def association_context() -> Any:
    """An admin route's context: the caller needs `admin` and sees every member's rows."""

    async def dependency(
        request: Request, caller: Annotated[Caller, Depends(require(Scope.ADMIN))]
    ) -> AsyncIterator[Any]:
        async with _opened(request, caller, caller.as_association()) as ctx:
            yield ctx

    return Depends(dependency, scope="function")


async def _public_transaction(request: Request) -> AsyncIterator[Tx]:
    """A transaction for a route anyone may call (the token endpoint): it enters no tenant,
    so row-level security shows it no member's rows. Its audit row, if the route declares
    one, commits with it."""
    runtime = get_runtime(request)
    audit = request_audit(request)
    async with statements(runtime.db.pool) as conn:  # a transaction: nothing outlives it
        db_tx = conn.transaction()
        await db_tx.start()
        tx = Tx(conn)
        try:
            yield tx
        except BaseException:
            await db_tx.rollback()
            raise
        if audit.action is not None and not audit.recorded:
            await audit.record(conn, _route(request)[1])
        await db_tx.commit()
    await tx.run_after_commit()


PublicTransaction = Annotated[Tx, Depends(_public_transaction, scope="function")]

MemberContext = RequestContext[Member]
AssociationContext = RequestContext[Association]

RecordsWrite = Annotated[MemberContext, member_context(Scope.RECORDS_WRITE)]
RecordsRead = Annotated[MemberContext, member_context(Scope.RECORDS_READ)]
Uploads = Annotated[MemberContext, member_context(Scope.RECORDS_WRITE, transaction=False)]
Exposure = Annotated[MemberContext, member_context(Scope.EXPOSURE_READ, transaction=False)]
Monitor = Annotated[MemberContext, member_context(Scope.MONITOR)]
Disputes = Annotated[MemberContext, member_context(Scope.DISPUTES)]
AnyMemberToken = Annotated[MemberContext, member_context(None)]
Admin = Annotated[AssociationContext, association_context()]


async def audit_failure(request: Request, status: int, reason: str) -> None:
    """Audit a request that failed after it was authenticated (its transaction, if any, has
    rolled back). The error answer must still go out, so a failure here is only logged."""
    audit: RequestAudit | None = getattr(request.state, "audit", None)
    runtime: Runtime | None = getattr(request.app.state, "runtime", None)
    if audit is None or runtime is None:
        return
    try:
        await audit.record_failure(runtime.db.pool, status, reason)
    except Exception as exc:
        unavailable = database_unavailable_reason(exc)
        if unavailable is not None:  # one line, not a traceback per refused request
            logger.warning(
                "could not audit a failed request: the database is unavailable (%s)",
                unavailable,
                extra={"request_id": audit.request_id},
            )
        else:
            logger.exception("could not audit a failed request", extra={"request_id": audit.request_id})


__all__ = [
    "Admin",
    "AnyMemberToken",
    "AssociationContext",
    "Disputes",
    "Exposure",
    "MemberContext",
    "Monitor",
    "PublicTransaction",
    "RecordsRead",
    "RecordsWrite",
    "RequestContext",
    "Uploads",
    "WriteQuota",
    "audit_failure",
    "audited",
]
