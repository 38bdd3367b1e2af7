"""What every resource holds: the client it calls through."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from registry_client._base_client import BaseClient


class Resource:
    def __init__(self, client: BaseClient[Any]) -> None:
        self._client = client
