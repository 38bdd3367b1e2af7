"""`client.admin`: the association's administration (scope `admin`, the client that
`registry bootstrap` prints), one module per resource.

To add a resource: write its
module here with a sync class and its async twin on a shared base (as `disputes.py`), its
models in `registry_client/types/`, and assign it in `Admin` and `AsyncAdmin` below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from registry_client.resources.admin.audit import AsyncAudit, Audit
from registry_client.resources.admin.clients import AsyncClients, Clients
from registry_client.resources.admin.disputes import AdminDisputes, AsyncAdminDisputes
from registry_client.resources.admin.members import AsyncMembers, Members
from registry_client.resources.admin.retention import AsyncRetention, Retention
from registry_client.resources.admin.stats import AsyncStats, Stats
from registry_client.resources.admin.subject_report import AsyncSubjectReports, SubjectReports
from registry_client.resources.admin.thresholds import AsyncThresholdsResource, ThresholdsResource
from registry_client.resources.monitoring import AssociationAlerts, AsyncAssociationAlerts

if TYPE_CHECKING:
    from registry_client._base_client import AsyncAPIClient, SyncAPIClient

__all__ = ["Admin", "AsyncAdmin"]


class Admin:
    """`client.admin`: members, clients, disputes, stats (with the league table),
    subject_report, audit, retention, thresholds and alerts (the association's feed)."""

    def __init__(self, client: SyncAPIClient) -> None:
        self.members = Members(client)
        self.clients = Clients(client)
        self.disputes = AdminDisputes(client)
        self.stats = Stats(client)
        self.subject_report = SubjectReports(client)
        self.audit = Audit(client)
        self.retention = Retention(client)
        self.thresholds = ThresholdsResource(client)
        self.alerts = AssociationAlerts(client)


class AsyncAdmin:
    """`client.admin` of the async client."""

    def __init__(self, client: AsyncAPIClient) -> None:
        self.members = AsyncMembers(client)
        self.clients = AsyncClients(client)
        self.disputes = AsyncAdminDisputes(client)
        self.stats = AsyncStats(client)
        self.subject_report = AsyncSubjectReports(client)
        self.audit = AsyncAudit(client)
        self.retention = AsyncRetention(client)
        self.thresholds = AsyncThresholdsResource(client)
        self.alerts = AsyncAssociationAlerts(client)
