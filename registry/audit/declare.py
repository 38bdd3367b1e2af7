"""How a route declares its audit action, and where a request's audit row waits to be
written (`registry.audit.auditor.RequestAudit`, one per request)."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request

from registry.audit.actions import AuditAction
from registry.audit.auditor import RequestAudit


def request_audit(request: Request) -> RequestAudit:
    """The request's audit row, made on first use (authentication may need it before the
    route's declaration has run)."""
    state = request.scope.setdefault("state", {})  # what `request.state` holds, without its AttributeError
    audit = state.get("audit")
    if audit is None:
        audit = state["audit"] = RequestAudit(state.get("request_id"))
    return audit


def audited(action: AuditAction) -> Any:
    """Route dependency declaring the audit action of the route."""

    async def declare(request: Request) -> None:
        request_audit(request).action = action

    return Depends(declare)
