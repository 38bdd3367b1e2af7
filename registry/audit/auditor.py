"""The one way rows reach the audit log.

- Inside a request: the route declares its action (`registry.context.audited`), and the
  request's `RequestAudit` writes its row exactly once — with the request's transaction when
  it succeeds, after the rollback when it fails, or inside the one statement that does the
  request's work (the exposure statement). A second write is a bug and raises.
- Outside a request: `record_event` writes a background job's row; `for_work` gives the CLI
  the same write-once row a route has, for the services it runs.

Nothing else imports the audit repository. Values are scrubbed here (jsonb and text cannot
hold NUL), whatever the caller sent, so the row always lands."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from registry.audit import repository
from registry.audit.actions import AuditAction
from registry.audit.schemas import AuditEntry

ERROR_CHARS = 200

# For a statement that writes its request's audit row itself, in the same round trip as the
# work (the exposure statement): the CTE and its columns, with values from
# `RequestAudit.statement_values`.
COLUMNS = repository.COLUMNS
insert_cte = repository.insert_cte


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: a member and its API client, or the service itself ("cli", "scheduler")."""

    member_id: uuid.UUID | None
    client_id: str | None


def scrub(value: Any) -> Any:
    """jsonb and text cannot hold NUL characters; whatever a caller sent, the row must land."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


class AuditedTwice(RuntimeError):
    """A request tried to write its audit row a second time."""


class RequestAudit:
    """The audit row of one request. The route declares the action; authentication names the
    actor; the service fills in `resource` and `details`; one of the `record` methods writes
    it, once."""

    __slots__ = ("_recorded", "action", "actor", "details", "request_id", "resource")

    def __init__(self, request_id: str | None, action: AuditAction | None = None) -> None:
        self.action = action
        self.request_id = request_id
        self.actor: Actor | None = None
        self.resource: str | None = None
        self.details: dict[str, Any] = {}
        self._recorded = False

    @property
    def recorded(self) -> bool:
        return self._recorded

    def _claim(self) -> None:
        if self._recorded:
            raise AuditedTwice(f"the audit row of request {self.request_id} was already written")
        self._recorded = True

    def _entry(self, outcome: int, action: str, extra: dict[str, Any] | None = None) -> AuditEntry:
        actor = self.actor or Actor(None, None)
        return AuditEntry(
            action=action,
            outcome=outcome,
            member_id=actor.member_id,
            client_id=actor.client_id,
            resource=self.resource,
            request_id=self.request_id,
            details={**self.details, **(extra or {})},
        )

    async def record(self, conn: asyncpg.Connection | asyncpg.Pool, outcome: int) -> None:
        """Write the row with `outcome` (the HTTP status) on `conn`, inside the caller's
        transaction when there is one."""
        if self.action is None:
            raise RuntimeError(f"request {self.request_id} declares no audit action")
        self._claim()
        await repository.append(conn, _scrubbed(self._entry(outcome, self.action)))

    async def record_refusal(
        self, conn: asyncpg.Connection | asyncpg.Pool, action: AuditAction, outcome: int, resource: str, reason: str
    ) -> None:
        """Write the row of a request refused before it could act (authentication), as
        `action` rather than the route's."""
        self._claim()
        self.resource = resource
        await repository.append(conn, _scrubbed(self._entry(outcome, action, {"reason": reason})))

    async def record_failure(self, conn: asyncpg.Connection | asyncpg.Pool, outcome: int, reason: str) -> bool:
        """After a failed request rolled back: write its row with the error, unless it was
        written already or nobody was authenticated (refusals are written as they happen)."""
        if self._recorded or self.actor is None or self.action is None:
            return False
        self._claim()
        await repository.append(conn, _scrubbed(self._entry(outcome, self.action, {"error": reason[:ERROR_CHARS]})))
        return True

    def statement_values(self) -> tuple[uuid.UUID | None, str | None, str | None, dict[str, Any]]:
        """(member, client, request id, details) for a statement that writes this row itself
        in the same round trip as the work (the exposure statement, through
        `repository.insert_cte`); call `recorded_by_statement` once it has run."""
        entry = _scrubbed(self._entry(0, self.action or ""))
        return entry.member_id, entry.client_id, entry.request_id, entry.details

    def recorded_by_statement(self) -> None:
        self._claim()


def for_work(action: AuditAction, actor: Actor) -> RequestAudit:
    """The write-once row of work outside a request that runs the same services a route runs
    (the CLI): the services fill it in, the caller records it."""
    audit = RequestAudit(None, action)
    audit.actor = actor
    return audit


def _scrubbed(entry: AuditEntry) -> AuditEntry:
    entry.client_id = scrub(entry.client_id)
    entry.resource = scrub(entry.resource)
    entry.details = scrub(entry.details)
    return entry


async def record_event(
    conn: asyncpg.Connection | asyncpg.Pool,
    action: AuditAction,
    *,
    actor: Actor,
    outcome: int = 200,
    resource: str | None = None,
    details: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> None:
    """Audit work done outside a request (the CLI, the service's background jobs)."""
    entry = AuditEntry(
        action=action,
        outcome=outcome,
        member_id=actor.member_id,
        client_id=actor.client_id,
        resource=resource,
        request_id=request_id,
        details=details or {},
    )
    await repository.append(conn, _scrubbed(entry))
