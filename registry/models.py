"""Every table, imported in one place so Alembic sees the whole metadata."""

from registry.audit.models import AuditCheckpoint, AuditLog
from registry.auth.models import ClientAssertion
from registry.collateral.models import VehicleWatch
from registry.console.models import Staff, StaffLoginFailure, StaffSession
from registry.core.models import ContextKey
from registry.core.tables import metadata
from registry.disputes.models import Dispute, DisputeEvent, DisputeRecord
from registry.exposure.models import Inquiry
from registry.idempotency.models import IdempotencyKey
from registry.members.models import ApiClient, Member
from registry.monitoring.models import Alert, Watch, Webhook, WebhookDelivery
from registry.ratelimit.models import RateCounter
from registry.records.link_models import RecordCollateral, RecordParty
from registry.records.models import Record, RecordEvent
from registry.scorecards.models import BranchTally, ScorecardMonth, Threshold, ThresholdState
from registry.stats.models import RecordTally
from registry.uploads.models import UploadError, UploadJob

__all__ = [
    "Alert",
    "ApiClient",
    "AuditCheckpoint",
    "AuditLog",
    "BranchTally",
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
    "RecordCollateral",
    "RecordEvent",
    "RecordParty",
    "RecordTally",
    "ScorecardMonth",
    "Staff",
    "StaffLoginFailure",
    "StaffSession",
    "Threshold",
    "ThresholdState",
    "UploadError",
    "UploadJob",
    "VehicleWatch",
    "Watch",
    "Webhook",
    "WebhookDelivery",
    "metadata",
]
