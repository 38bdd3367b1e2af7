"""`client.audit`: the audit log's signed checkpoint chain, for a member to check the head
it kept from its alert feed (scope `monitor`). Rows are never shown to members."""

from __future__ import annotations

from typing import Generic, TypeVar, Unpack

from registry_client._base_client import CallOptions
from registry_client.pagination import AsyncCursorPaginator, SyncCursorPaginator
from registry_client.resources._resource import Resource
from registry_client.types.audit import CheckpointHead

CheckpointPages = TypeVar(
    "CheckpointPages", SyncCursorPaginator[CheckpointHead], AsyncCursorPaginator[CheckpointHead]
)


class _AuditBase(Resource, Generic[CheckpointPages]):
    _pages: type[CheckpointPages]

    def checkpoints(
        self,
        from_checkpoint: int = 1,
        *,
        page_size: int | None = None,
        **options: Unpack[CallOptions],
    ) -> CheckpointPages:
        """Checkpoint headers in chain order from `from_checkpoint` (inclusive)."""
        params = {"from_checkpoint": from_checkpoint, "limit": page_size}
        return self._pages(
            self._client, "/v1/audit/checkpoints", CheckpointHead, params, options=options
        )


class MemberAudit(_AuditBase[SyncCursorPaginator[CheckpointHead]]):
    _pages = SyncCursorPaginator[CheckpointHead]


class AsyncMemberAudit(_AuditBase[AsyncCursorPaginator[CheckpointHead]]):
    _pages = AsyncCursorPaginator[CheckpointHead]
