"""Every table, imported in one place so Alembic sees the whole metadata."""

from registry.audit.models import AuditCheckpoint, AuditLog
from registry.auth.models import ClientAssertion
from registry.console.models import Staff, StaffLoginFailure, StaffSession
from registry.core.models import ContextKey
from registry.core.tables import metadata
from registry.disputes.models import Dispute, DisputeEvent, DisputeRecord
from registry.exposure.models import Inquiry
from registry.idempotency.models import IdempotencyKey
from registry.members.models import ApiClient, Member
from registry.monitoring.models import Alert, Watch, Webhook, WebhookDelivery
from registry.ratelimit.models import RateCounter
from registry.records.models import Record, RecordEvent
from registry.stats.models import RecordTally
from registry.uploads.models import UploadError, UploadJob

__all__ = [
    "Alert",
    "ApiClient",
    "AuditCheckpoint",
    "AuditLog",
    "ClientAssertion",
    "ContextKey",
    "Dispute",
    "DisputeEvent",
    "DisputeRecord",
    "IdempotencyKey",
    "Inquiry",
    "Member",
    "RateCounter",
    "Record",
    "RecordEvent",
    "RecordTally",
    "Staff",
    "StaffLoginFailure",
    "StaffSession",
    "UploadError",
    "UploadJob",
    "Watch",
    "Webhook",
    "WebhookDelivery",
    "metadata",
]
