"""The two clients a member uses: `RegistryClient` (blocking) and `AsyncRegistryClient` (asyncio).

Both take the same arguments (see `BaseClient.__init__`) and expose the same
resources; everything they do is defined once in `_base_client` and `resources`.
"""

from __future__ import annotations

from functools import cached_property

from registry_client._base_client import AsyncAPIClient, SyncAPIClient
from registry_client._raw_response import RawResponses
from registry_client.resources import (
    Admin,
    Alerts,
    AsyncAdmin,
    AsyncAlerts,
    AsyncCollateral,
    AsyncDisputes,
    AsyncExposure,
    AsyncMemberAudit,
    AsyncRecords,
    AsyncScorecardResource,
    AsyncUploads,
    AsyncWatches,
    AsyncWebhookEndpoint,
    Collateral,
    Disputes,
    Exposure,
    MemberAudit,
    Records,
    ScorecardResource,
    Uploads,
    Watches,
    WebhookEndpoint,
)

__all__ = ["AsyncRegistryClient", "RegistryClient"]


class RegistryClient(SyncAPIClient):
    """A blocking client: `records`, `uploads`, `exposure`, `collateral`, `watches`, `alerts`,
    `webhook`, `disputes`, `audit`, `scorecard`, `admin` and `subject()`; `with_options(...)`
    and `with_raw_response` give the same resources with other options or raw answers.

    To add a member resource: a module in `resources/` with a sync class and its async
    twin, and a cached property in each client.
    """

    @cached_property
    def with_raw_response(self) -> RawResponses:
        """Every resource method, answering `APIResponse` (status, headers, parsed body)."""
        return RawResponses(self, is_async=False)

    @cached_property
    def records(self) -> Records:
        return Records(self)

    @cached_property
    def uploads(self) -> Uploads:
        return Uploads(self)

    @cached_property
    def watches(self) -> Watches:
        return Watches(self)

    @cached_property
    def alerts(self) -> Alerts:
        return Alerts(self)

    @cached_property
    def webhook(self) -> WebhookEndpoint:
        return WebhookEndpoint(self)

    @cached_property
    def exposure(self) -> Exposure:
        return Exposure(self)

    @cached_property
    def collateral(self) -> Collateral:
        return Collateral(self)

    @cached_property
    def disputes(self) -> Disputes:
        return Disputes(self)

    @cached_property
    def audit(self) -> MemberAudit:
        return MemberAudit(self)

    @cached_property
    def scorecard(self) -> ScorecardResource:
        return ScorecardResource(self)

    @cached_property
    def admin(self) -> Admin:
        return Admin(self)


class AsyncRegistryClient(AsyncAPIClient):
    """An asyncio client with the same resources as `RegistryClient`, each method awaitable."""

    @cached_property
    def with_raw_response(self) -> RawResponses:
        """See `RegistryClient.with_raw_response` (each method awaitable)."""
        return RawResponses(self, is_async=True)

    @cached_property
    def records(self) -> AsyncRecords:
        return AsyncRecords(self)

    @cached_property
    def uploads(self) -> AsyncUploads:
        return AsyncUploads(self)

    @cached_property
    def watches(self) -> AsyncWatches:
        return AsyncWatches(self)

    @cached_property
    def alerts(self) -> AsyncAlerts:
        return AsyncAlerts(self)

    @cached_property
    def webhook(self) -> AsyncWebhookEndpoint:
        return AsyncWebhookEndpoint(self)

    @cached_property
    def exposure(self) -> AsyncExposure:
        return AsyncExposure(self)

    @cached_property
    def collateral(self) -> AsyncCollateral:
        return AsyncCollateral(self)

    @cached_property
    def disputes(self) -> AsyncDisputes:
        return AsyncDisputes(self)

    @cached_property
    def audit(self) -> AsyncMemberAudit:
        return AsyncMemberAudit(self)

    @cached_property
    def scorecard(self) -> AsyncScorecardResource:
        return AsyncScorecardResource(self)

    @cached_property
    def admin(self) -> AsyncAdmin:
        return AsyncAdmin(self)
