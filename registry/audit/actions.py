"""Every kind of audited event, by name."""

from enum import StrEnum


class AuditAction(StrEnum):
    AUTH_TOKEN = "auth.token"
    AUTH_FAILED = "auth.failed"
    ADMIN_MEMBER_CREATE = "admin.member.create"
    ADMIN_MEMBER_LIST = "admin.member.list"
    ADMIN_MEMBER_READ = "admin.member.read"
    ADMIN_MEMBER_UPDATE = "admin.member.update"
    ADMIN_CLIENT_CREATE = "admin.client.create"
    ADMIN_CLIENT_LIST = "admin.client.list"
    ADMIN_CLIENT_REVOKE = "admin.client.revoke"
    ADMIN_AUDIT_READ = "admin.audit.read"
    RECORDS_SUBMIT = "records.submit"
    RECORDS_LIST = "records.list"
    RECORDS_READ = "records.read"
    RECORDS_WITHDRAW = "records.withdraw"
    EXPOSURE_QUERY = "exposure.query"
