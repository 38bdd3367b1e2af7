"""`client.records`: report delinquency records, list, read and withdraw the member's own."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from itertools import islice
from typing import TYPE_CHECKING, Any, Generic, TypeVar, Unpack

from pydantic import ValidationError

from registry_client._base_client import CallOptions, Flow, path_segment
from registry_client._exceptions import RegistryError
from registry_client.pagination import AsyncCursorPaginator, SyncCursorPaginator
from registry_client.resources._csv import csv_flow
from registry_client.types.records import (
    Outcome,
    Product,
    Record,
    RecordItem,
    RecordResult,
    RecordStatus,
    SubmitResult,
    SubmitSummary,
)
from registry_client.types.shared import FieldError

if TYPE_CHECKING:
    from registry_client._base_client import AsyncAPIClient, BaseClient, SyncAPIClient

BATCH_SIZE = 1000

RecordPages = TypeVar("RecordPages", SyncCursorPaginator[Record], AsyncCursorPaginator[Record])

ItemInput = RecordItem | Mapping[str, Any]
OnBatch = Callable[[int], None]


def _validation_errors(exc: ValidationError) -> list[FieldError]:
    return [
        FieldError(
            field=".".join(str(part) for part in error["loc"]) or "item", message=error["msg"]
        )
        for error in exc.errors(include_url=False)
    ]


def _rejected(index: int, account_ref: Any, errors: list[FieldError]) -> RecordResult:
    return RecordResult(
        index=index,
        account_ref=account_ref if isinstance(account_ref, str) else None,
        outcome=Outcome.REJECTED,
        errors=errors,
    )


def _add(total: SubmitSummary, part: SubmitSummary) -> SubmitSummary:
    # Sums every count, including any a newer registry adds to the summary.
    counts = total.model_dump()
    for name, count in part.model_dump().items():
        if isinstance(count, int):
            counts[name] = counts.get(name, 0) + count
    return SubmitSummary.model_validate(counts)


def _check_batch(
    batch: list[ItemInput], start: int, first_index_of: dict[str, int]
) -> tuple[list[RecordResult | None], list[tuple[int, dict[str, Any]]]]:
    """Split a batch into local rejections (by position) and the (position, body) pairs to send.

    Items are checked before anything is sent: a malformed row may hold a raw identity
    where the token belongs, and that must never reach the registry.
    """
    merged: list[RecordResult | None] = [None] * len(batch)
    to_send: list[tuple[int, dict[str, Any]]] = []
    for position, item in enumerate(batch):
        index = start + position
        try:
            record = item if isinstance(item, RecordItem) else RecordItem.model_validate(item)
        except ValidationError as exc:
            ref = item.get("account_ref") if isinstance(item, Mapping) else None
            merged[position] = _rejected(index, ref, _validation_errors(exc))
            continue
        first = first_index_of.setdefault(record.account_ref, index)
        if first != index:
            # The registry refuses a whole batch that repeats an account; one lost item is cheaper.
            message = f"account_ref repeats item {first}; report each account once per submission"
            merged[position] = _rejected(
                index, record.account_ref, [FieldError(field="account_ref", message=message)]
            )
            continue
        to_send.append((position, record.model_dump(mode="json", exclude_none=True)))
    return merged, to_send


def _list_params(
    subject: str | None,
    status: RecordStatus | str | None,
    product: Product | str | None,
    uncollected: bool | None,
    branch_code: str | None,
    min_days: int | None,
) -> dict[str, Any]:
    return {
        "subject": subject,
        "status": status,
        "product": product,
        "uncollected": uncollected,
        "branch_code": branch_code,
        "min_days": min_days,
    }


class _RecordsBase(Generic[RecordPages]):
    _pages: type[RecordPages]

    def __init__(self, client: BaseClient[Any]) -> None:
        self._client = client

    def _submit_flow(
        self, items: Iterable[ItemInput], on_batch: OnBatch | None
    ) -> Flow[SubmitResult]:
        results: list[RecordResult] = []
        summary = SubmitSummary()
        first_index_of: dict[str, int] = {}
        iterator = iter(items)
        while batch := list(islice(iterator, BATCH_SIZE)):
            start = len(results)
            merged, to_send = _check_batch(batch, start, first_index_of)
            summary = _add(summary, SubmitSummary(rejected=len(batch) - len(to_send)))
            if to_send:
                answer = yield from self._client._model_flow(
                    SubmitResult,
                    "POST",
                    "/v1/records",
                    json={"records": [item for _, item in to_send]},
                )
                if len(answer.results) != len(to_send):
                    raise RegistryError(
                        f"The registry answered {len(answer.results)} results "
                        f"for {len(to_send)} records"
                    )
                for (position, _), result in zip(to_send, answer.results, strict=True):
                    merged[position] = result.model_copy(update={"index": start + position})
                summary = _add(summary, answer.summary)
            results.extend(result for result in merged if result is not None)
            if on_batch is not None:
                on_batch(len(batch))
        return SubmitResult(results=results, summary=summary)

    def list(
        self,
        *,
        subject: str | None = None,
        status: RecordStatus | str | None = None,
        product: Product | str | None = None,
        uncollected: bool | None = None,
        branch_code: str | None = None,
        min_days: int | None = None,
        page_size: int | None = None,
        **options: Unpack[CallOptions],
    ) -> RecordPages:
        """The member's own live records, newest first; iterating (`for`, or `async for` on the
        async client) fetches page after page as needed.

        `uncollected=True` makes it the collection worklist: the accounts that count as
        uncollected, most days past due first (`Record.days_past_due`); `branch_code` keeps one
        branch's accounts and `min_days` those at least that many days past due."""
        params = _list_params(subject, status, product, uncollected, branch_code, min_days)
        return self._pages(
            self._client, "/v1/records", Record, {**params, "limit": page_size}, options=options
        )

    def _csv_flow(self, params: dict[str, Any]) -> Flow[str]:
        return csv_flow(self._client, "/v1/records", params)

    def _get_flow(self, record_id: str) -> Flow[Record]:
        return self._client._model_flow(Record, "GET", f"/v1/records/{path_segment(record_id)}")

    def _withdraw_flow(self, record_id: str) -> Flow[None]:
        return self._client._no_content_flow("DELETE", f"/v1/records/{path_segment(record_id)}")


class Records(_RecordsBase[SyncCursorPaginator[Record]]):
    _client: SyncAPIClient
    _pages = SyncCursorPaginator[Record]

    def submit(
        self,
        items: Iterable[ItemInput],
        *,
        on_batch: OnBatch | None = None,
        **options: Unpack[CallOptions],
    ) -> SubmitResult:
        """Report any number of records, sent 1000 at a time; results come back in input order.

        Items that fail local validation (or repeat an `account_ref`) are not sent and come
        back `rejected` with reasons, as the registry's own rejections do. `on_batch` is
        called with the number of items handled after each batch (for a progress bar).
        """
        return self._client._run(self._submit_flow(items, on_batch), options)

    def list_csv(
        self,
        *,
        subject: str | None = None,
        status: RecordStatus | str | None = None,
        product: Product | str | None = None,
        uncollected: bool | None = None,
        branch_code: str | None = None,
        min_days: int | None = None,
        **options: Unpack[CallOptions],
    ) -> str:
        """What `list` iterates, every matching record at once as CSV text (header first):
        with `uncollected=True` and a `branch_code`, the worklist for a branch's team."""
        params = _list_params(subject, status, product, uncollected, branch_code, min_days)
        return self._client._run(self._csv_flow(params), options)

    def get(self, record_id: str, **options: Unpack[CallOptions]) -> Record:
        """One of the member's records, with its event history."""
        return self._client._run(self._get_flow(record_id), options)

    def withdraw(self, record_id: str, **options: Unpack[CallOptions]) -> None:
        """Withdraw a record: it leaves every exposure answer; its history is kept."""
        self._client._run(self._withdraw_flow(record_id), options)


class AsyncRecords(_RecordsBase[AsyncCursorPaginator[Record]]):
    _client: AsyncAPIClient
    _pages = AsyncCursorPaginator[Record]

    async def submit(
        self,
        items: Iterable[ItemInput],
        *,
        on_batch: OnBatch | None = None,
        **options: Unpack[CallOptions],
    ) -> SubmitResult:
        """See `Records.submit`."""
        return await self._client._run(self._submit_flow(items, on_batch), options)

    async def list_csv(
        self,
        *,
        subject: str | None = None,
        status: RecordStatus | str | None = None,
        product: Product | str | None = None,
        uncollected: bool | None = None,
        branch_code: str | None = None,
        min_days: int | None = None,
        **options: Unpack[CallOptions],
    ) -> str:
        """See `Records.list_csv`."""
        params = _list_params(subject, status, product, uncollected, branch_code, min_days)
        return await self._client._run(self._csv_flow(params), options)

    async def get(self, record_id: str, **options: Unpack[CallOptions]) -> Record:
        """See `Records.get`."""
        return await self._client._run(self._get_flow(record_id), options)

    async def withdraw(self, record_id: str, **options: Unpack[CallOptions]) -> None:
        """See `Records.withdraw`."""
        await self._client._run(self._withdraw_flow(record_id), options)
