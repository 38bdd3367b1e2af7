"""Every table, imported in one place so Alembic sees the whole metadata."""

from registry.audit.models import AuditLog
from registry.auth.models import ClientAssertion
from registry.core.tables import metadata
from registry.disputes.models import Dispute, DisputeEvent, DisputeRecord
from registry.exposure.models import Inquiry
from registry.idempotency.models import IdempotencyKey
from registry.members.models import ApiClient, Member
from registry.ratelimit.models import RateCounter
from registry.monitoring.models import Alert, Watch, Webhook, WebhookDelivery
from registry.records.models import Record, RecordEvent
from registry.uploads.models import UploadError, UploadJob

__all__ = ["Dispute", "DisputeRecord", "DisputeEvent", "metadata", "Member", "ApiClient", "AuditLog", "Record", "RecordEvent", "Inquiry", "IdempotencyKey", "UploadJob", "UploadError",
           "Watch", "Alert", "Webhook", "WebhookDelivery"]
