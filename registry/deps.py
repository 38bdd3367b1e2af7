"""Dependencies every route shares: the request's transaction and its audit declaration.

One transaction per request: it commits when the route returns and rolls back when it
raises. The audit row of a successful request is written inside that transaction, so a
change and its audit row land together; a failed request is audited after the rollback,
in its own transaction, by the error handler (`audit_failure`)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request

from registry.audit import repository as audit_repository
from registry.audit.actions import AuditAction
from registry.audit.schemas import AuditEntry, AuditIntent
from registry.auth.credentials import CHANNEL as CREDENTIALS_CHANNEL
from registry.auth.principal import Principal, Scope
from registry.core.db import Tx, set_tenant
from registry.runtime import get_runtime

logger = logging.getLogger(__name__)


def audited(action: AuditAction) -> Any:
    """Route dependency declaring the audit action of the route."""

    async def declare(request: Request) -> None:
        request.state.audit = AuditIntent(action)

    return Depends(declare)


async def audit_intent(request: Request) -> AuditIntent:
    intent = getattr(request.state, "audit", None)
    if intent is None:
        raise RuntimeError(f"route {request.url.path} declares no audit action")
    return intent


# What a route's service fills in about the audit row of the request.
Intent = Annotated[AuditIntent, Depends(audit_intent)]


def _entry(request: Request, intent: AuditIntent, outcome: int, extra: dict[str, Any] | None = None) -> AuditEntry:
    principal: Principal | None = getattr(request.state, "principal", None)
    details = dict(intent.details)
    if extra:
        details.update(extra)
    return AuditEntry(
        action=intent.action,
        outcome=outcome,
        member_id=principal.member_id if principal else None,
        client_id=principal.client_id if principal else None,
        resource=intent.resource,
        request_id=request.scope.get("state", {}).get("request_id"),
        details=details,
    )


async def transaction(request: Request) -> AsyncIterator[Tx]:
    runtime = get_runtime(request)
    async with runtime.db.pool.acquire() as conn:
        db_tx = conn.transaction()
        await db_tx.start()
        principal: Principal | None = getattr(request.state, "principal", None)
        if principal is not None:
            await set_tenant(conn, principal.member_id, association=Scope.ADMIN.value in principal.scopes)
        tx = Tx(conn)
        try:
            yield tx
        except BaseException:
            await db_tx.rollback()
            raise
        intent: AuditIntent | None = getattr(request.state, "audit", None)
        if intent is not None and not intent.written:
            route = request.scope.get("route")
            await audit_repository.append(conn, _entry(request, intent, getattr(route, "status_code", None) or 200))
            intent.written = True
        await db_tx.commit()
    if CREDENTIALS_CHANNEL in tx.notified:
        runtime.credentials.invalidate()  # type: ignore[union-attr]
    await tx.run_after_commit()


# Function scope: commit happens when the route returns, before the response is sent,
# so a client never sees a success that did not commit.
TxDep = Annotated[Tx, Depends(transaction, scope="function")]


async def audit_failure(request: Request, status: int, reason: str) -> None:
    """Audit a request that failed after it was authenticated (or declared its action)."""
    intent: AuditIntent | None = getattr(request.state, "audit", None)
    principal = getattr(request.state, "principal", None)
    if intent is None or intent.written or principal is None:
        return
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is None:
        return
    intent.written = True
    try:
        await audit_repository.append(runtime.db.pool, _entry(request, intent, status, {"error": reason[:200]}))
    except Exception:  # noqa: BLE001 - the error answer must still go out; the failure is logged
        logger.exception("could not audit a failed request", extra={"request_id": request.scope.get("state", {}).get("request_id")})
