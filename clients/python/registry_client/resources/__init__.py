"""The API's resources, each as a sync class and its async twin over shared flows."""

from registry_client.resources.admin import Admin, AsyncAdmin
from registry_client.resources.audit import AsyncMemberAudit, MemberAudit
from registry_client.resources.collateral import AsyncCollateral, Collateral
from registry_client.resources.disputes import AsyncDisputes, Disputes
from registry_client.resources.exposure import AsyncExposure, Exposure
from registry_client.resources.monitoring import (
    Alerts,
    AlertStream,
    AsyncAlerts,
    AsyncAlertStream,
    AsyncWatches,
    AsyncWebhookEndpoint,
    Watches,
    WebhookEndpoint,
)
from registry_client.resources.records import AsyncRecords, Records
from registry_client.resources.scorecard import AsyncScorecardResource, ScorecardResource
from registry_client.resources.uploads import AsyncUploads, Uploads

__all__ = [
    "Admin",
    "AlertStream",
    "Alerts",
    "AsyncAdmin",
    "AsyncAlertStream",
    "AsyncAlerts",
    "AsyncCollateral",
    "AsyncDisputes",
    "AsyncExposure",
    "AsyncMemberAudit",
    "AsyncRecords",
    "AsyncScorecardResource",
    "AsyncUploads",
    "AsyncWatches",
    "AsyncWebhookEndpoint",
    "Collateral",
    "Disputes",
    "Exposure",
    "MemberAudit",
    "Records",
    "ScorecardResource",
    "Uploads",
    "Watches",
    "WebhookEndpoint",
]
