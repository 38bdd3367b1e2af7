"""Every table, imported in one place so Alembic sees the whole metadata."""

from registry.audit.models import AuditLog
from registry.core.tables import metadata
from registry.exposure.models import Inquiry
from registry.idempotency.models import IdempotencyKey
from registry.members.models import ApiClient, Member
from registry.records.models import Record, RecordEvent

__all__ = ["metadata", "Member", "ApiClient", "AuditLog", "Record", "RecordEvent", "Inquiry", "IdempotencyKey"]
