"""Every table, imported in one place so Alembic sees the whole metadata."""

from registry.audit.models import AuditLog
from registry.core.tables import metadata
from registry.members.models import ApiClient, Member

__all__ = ["metadata", "Member", "ApiClient", "AuditLog"]
