"""A GET answered as CSV (`Accept: text/csv`): the scorecard's branches, the worklist, the
league table. The text is returned whole, as the registry wrote it (a header line first)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from registry_client._base_client import Flow, RequestOptions

if TYPE_CHECKING:
    from registry_client._base_client import BaseClient

CSV = "text/csv"


def csv_flow(
    client: BaseClient[Any], path: str, params: Mapping[str, Any] | None = None
) -> Flow[str]:
    response = yield from client._request_flow(
        RequestOptions("GET", path, params=params, headers={"Accept": CSV})
    )
    return response.text
