"""`client.watches`, `client.alerts`, `client.webhook`: portfolio monitoring (scope `monitor`).

Watch the borrowers you lend to; read the alert feed (another institution's new or worse
delinquency, or hard inquiry, on one of them) by cursor, or have it pushed to a webhook.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar, Unpack

from registry_client._base_client import CallOptions, Flow, Sleep, path_segment
from registry_client.identity import is_token
from registry_client.pagination import AsyncCursorPaginator, SyncCursorPaginator
from registry_client.resources._subjects import checked_subjects, in_chunks
from registry_client.types.monitoring import (
    Alert,
    AlertFeed,
    AssociationAlertFeed,
    Delivery,
    DeliveryStatus,
    Watch,
    WatchBatchResult,
    WatchCreate,
    Webhook,
    WebhookPut,
)

if TYPE_CHECKING:
    from registry_client._base_client import AsyncAPIClient, BaseClient, SyncAPIClient

DEFAULT_POLL_INTERVAL = 30.0

WatchPages = TypeVar("WatchPages", SyncCursorPaginator[Watch], AsyncCursorPaginator[Watch])
DeliveryPages = TypeVar(
    "DeliveryPages", SyncCursorPaginator[Delivery], AsyncCursorPaginator[Delivery]
)
StreamT = TypeVar("StreamT", "AlertStream", "AsyncAlertStream")


class _Resource:
    def __init__(self, client: BaseClient[Any]) -> None:
        self._client = client


# --- watches -------------------------------------------------------------------------------


class _WatchesBase(_Resource, Generic[WatchPages]):
    _pages: type[WatchPages]

    def _add_flow(
        self, subjects: Iterable[str], label: str | None, kind: str | None = None
    ) -> Flow[WatchBatchResult]:
        bodies = [
            WatchCreate(subjects=chunk, label=label, kind=kind).model_dump(
                mode="json", exclude_none=True
            )
            for chunk in in_chunks(checked_subjects(subjects))
        ]
        if not bodies:
            raise ValueError("no subjects to watch")
        created = existing = 0
        for body in bodies:
            part = yield from self._client._model_flow(
                WatchBatchResult, "POST", "/v1/watches", json=body
            )
            created, existing = created + part.created, existing + part.existing
        return WatchBatchResult(created=created, existing=existing)

    def _remove_flow(self, subject: str) -> Flow[None]:
        if not is_token(subject):
            raise ValueError("subject is not a brs1 token (64 hex)")
        return self._client._no_content_flow(
            "DELETE", f"/v1/watches/{path_segment(subject.lower())}"
        )

    def list(self, *, page_size: int | None = None, **options: Unpack[CallOptions]) -> WatchPages:
        """Your watches in force, page after page as the iteration needs them."""
        return self._pages(
            self._client, "/v1/watches", Watch, {"limit": page_size}, options=options
        )


class Watches(_WatchesBase[SyncCursorPaginator[Watch]]):
    _client: SyncAPIClient
    _pages = SyncCursorPaginator[Watch]

    def add(
        self,
        subjects: Iterable[str],
        label: str | None = None,
        *,
        kind: str | None = None,
        **options: Unpack[CallOptions],
    ) -> WatchBatchResult:
        """Watch borrowers (brs1 tokens) you hold a live record on; sent 1000 per request.

        A subject without a live record of yours raises `PermissionDenied` naming it, and
        nothing of that request is watched (earlier requests of a long list stay watched;
        adding again is harmless). `label` is repeated in every alert of these watches.
        With `kind="vehicle"` the subjects are vin tokens of your own live accounts' cars.
        """
        return self._client._run(self._add_flow(subjects, label, kind), options)

    def remove(self, subject: str, **options: Unpack[CallOptions]) -> None:
        """Stop watching a borrower; `NotFound` when you do not watch it."""
        self._client._run(self._remove_flow(subject), options)


class AsyncWatches(_WatchesBase[AsyncCursorPaginator[Watch]]):
    _client: AsyncAPIClient
    _pages = AsyncCursorPaginator[Watch]

    async def add(
        self,
        subjects: Iterable[str],
        label: str | None = None,
        *,
        kind: str | None = None,
        **options: Unpack[CallOptions],
    ) -> WatchBatchResult:
        """See `Watches.add`."""
        return await self._client._run(self._add_flow(subjects, label, kind), options)

    async def remove(self, subject: str, **options: Unpack[CallOptions]) -> None:
        """See `Watches.remove`."""
        await self._client._run(self._remove_flow(subject), options)


# --- alerts --------------------------------------------------------------------------------


class _AlertStream(_Resource):
    """The feed read from a cursor. `cursor` is where to resume: it moves past a page once
    the iteration has asked for what follows its last alert, so a consumer that stops (or
    fails) while handling an alert sees that page again; de-duplicate by `id`."""

    # The association's feed (`client.admin.alerts`) is read the same way from its own path.
    _path = "/v1/alerts"
    _feed: type[AlertFeed] | type[AssociationAlertFeed] = AlertFeed

    def __init__(
        self,
        client: BaseClient[Any],
        after: str | None,
        follow: bool,
        poll_interval: float,
        page_size: int | None,
    ) -> None:
        super().__init__(client)
        self.cursor = after
        self._follow = follow
        self._poll_interval = poll_interval
        self._page_size = page_size

    def _read_flow(self, pause: bool) -> Flow[Any]:
        if pause:
            yield Sleep(self._poll_interval)
        params = {"after": self.cursor, "limit": self._page_size}
        feed = yield from self._client._model_flow(self._feed, "GET", self._path, params=params)
        return feed

    def _done(self, page: AlertFeed | AssociationAlertFeed) -> bool:
        """Move past `page`; True when the reading should stop."""
        self.cursor = page.next_cursor
        return not page.data and not self._follow


class AlertStream(_AlertStream):
    _client: SyncAPIClient

    def pages(self) -> Iterator[AlertFeed]:
        """The answers themselves, each with its `next_cursor` (checkpoint after each one)."""
        page: AlertFeed | None = None
        while True:
            page = self._client._run(self._read_flow(pause=page is not None and not page.data))
            yield page
            if self._done(page):
                return

    def __iter__(self) -> Iterator[Alert]:
        for page in self.pages():
            yield from page.data


class AsyncAlertStream(_AlertStream):
    _client: AsyncAPIClient

    async def pages(self) -> AsyncIterator[AlertFeed]:
        """See `AlertStream.pages`."""
        page: AlertFeed | None = None
        while True:
            page = await self._client._run(
                self._read_flow(pause=page is not None and not page.data)
            )
            yield page
            if self._done(page):
                return

    async def __aiter__(self) -> AsyncIterator[Alert]:
        async for page in self.pages():
            for alert in page.data:
                yield alert


class AssociationAlertStream(AlertStream):
    """The association's feed (`client.admin.alerts.iter`); its items are `AssociationAlert`."""

    _path = "/admin/alerts"
    _feed = AssociationAlertFeed


class AsyncAssociationAlertStream(AsyncAlertStream):
    _path = "/admin/alerts"
    _feed = AssociationAlertFeed


class _AlertsBase(_Resource, Generic[StreamT]):
    _stream: type[StreamT]

    def iter(
        self,
        after: str | None = None,
        *,
        follow: bool = False,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        page_size: int | None = None,
    ) -> StreamT:
        """Alerts in feed order after the cursor `after` (None: from the start); `for` over
        it, or `async for` on the async client.

        Without `follow` the iteration ends when the feed has nothing more; with it, it waits
        `poll_interval` seconds whenever the feed is empty and reads again, for ever. Keep
        the stream's `cursor` and pass it as `after` next time to see every alert once.
        """
        return self._stream(self._client, after, follow, poll_interval, page_size)


class Alerts(_AlertsBase[AlertStream]):
    _stream = AlertStream


class AsyncAlerts(_AlertsBase[AsyncAlertStream]):
    _stream = AsyncAlertStream


class AssociationAlerts(_AlertsBase[AlertStream]):
    """`client.admin.alerts`: `member.threshold_crossed` / `member.threshold_cleared` and
    `dispute.overdue`, read by cursor as the member feed is (`iter(after=...)`)."""

    _stream = AssociationAlertStream


class AsyncAssociationAlerts(_AlertsBase[AsyncAlertStream]):
    _stream = AsyncAssociationAlertStream


# --- the webhook endpoint ------------------------------------------------------------------


class _WebhookBase(_Resource, Generic[DeliveryPages]):
    _pages: type[DeliveryPages]

    def _set_flow(self, url: str, secret: str | None) -> Flow[Webhook]:
        body = WebhookPut(url=url, secret=secret).model_dump(mode="json", exclude_none=True)
        return self._client._model_flow(Webhook, "PUT", "/v1/webhook", json=body)

    def _get_flow(self) -> Flow[Webhook]:
        return self._client._model_flow(Webhook, "GET", "/v1/webhook")

    def _delete_flow(self) -> Flow[None]:
        return self._client._no_content_flow("DELETE", "/v1/webhook")

    def _test_flow(self) -> Flow[Delivery]:
        return self._client._model_flow(Delivery, "POST", "/v1/webhook/test")

    def deliveries(
        self,
        *,
        status: DeliveryStatus | str | None = None,
        page_size: int | None = None,
        **options: Unpack[CallOptions],
    ) -> DeliveryPages:
        """Deliveries to your endpoint, newest first, with their status and last error."""
        params = {"status": status, "limit": page_size}
        return self._pages(
            self._client, "/v1/webhook/deliveries", Delivery, params, options=options
        )


class WebhookEndpoint(_WebhookBase[SyncCursorPaginator[Delivery]]):
    _client: SyncAPIClient
    _pages = SyncCursorPaginator[Delivery]

    def set(self, url: str, secret: str | None = None, **options: Unpack[CallOptions]) -> Webhook:
        """Send your alerts to `url` (https), signed with `secret`; without one the registry
        generates it and returns it in this answer only (`Webhook.secret`): store it."""
        return self._client._run(self._set_flow(url, secret), options)

    def get(self, **options: Unpack[CallOptions]) -> Webhook:
        """Your endpoint (never its secret); `NotFound` when there is none."""
        return self._client._run(self._get_flow(), options)

    def delete(self, **options: Unpack[CallOptions]) -> None:
        """Remove your endpoint; pending deliveries are cancelled."""
        self._client._run(self._delete_flow(), options)

    def test(self, **options: Unpack[CallOptions]) -> Delivery:
        """Queue a signed `ping` delivery to your endpoint."""
        return self._client._run(self._test_flow(), options)


class AsyncWebhookEndpoint(_WebhookBase[AsyncCursorPaginator[Delivery]]):
    _client: AsyncAPIClient
    _pages = AsyncCursorPaginator[Delivery]

    async def set(
        self, url: str, secret: str | None = None, **options: Unpack[CallOptions]
    ) -> Webhook:
        """See `WebhookEndpoint.set`."""
        return await self._client._run(self._set_flow(url, secret), options)

    async def get(self, **options: Unpack[CallOptions]) -> Webhook:
        return await self._client._run(self._get_flow(), options)

    async def delete(self, **options: Unpack[CallOptions]) -> None:
        await self._client._run(self._delete_flow(), options)

    async def test(self, **options: Unpack[CallOptions]) -> Delivery:
        return await self._client._run(self._test_flow(), options)
