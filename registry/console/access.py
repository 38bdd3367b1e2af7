"""Who may do what in the console: each role's reach, by permission."""

from __future__ import annotations

from registry.console.staff import Role

ADMIN, OFFICER, ANALYST, AUDITOR = Role.admin, Role.dispute_officer, Role.analyst, Role.auditor

# admin: everything; dispute_officer: disputes and borrower lookups; analyst: dashboard,
# statistics and exports, read-only; auditor: reads everything, the audit log included.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "any": frozenset(Role),
    "dashboard": frozenset({ADMIN, ANALYST, AUDITOR}),
    "members.read": frozenset({ADMIN, ANALYST, AUDITOR}),
    "members.write": frozenset({ADMIN}),
    "disputes.read": frozenset({ADMIN, OFFICER, AUDITOR}),
    "disputes.write": frozenset({ADMIN, OFFICER}),
    "subjects.read": frozenset({ADMIN, OFFICER, AUDITOR}),
    "audit.read": frozenset({ADMIN, AUDITOR}),
    "operations.read": frozenset({ADMIN, AUDITOR}),
    "operations.write": frozenset({ADMIN}),
    "staff.manage": frozenset({ADMIN}),
}

# The navigation, in order: (permission, path, label key).
NAVIGATION = (
    ("dashboard", "/console/", "nav.dashboard"),
    ("members.read", "/console/members", "nav.members"),
    ("disputes.read", "/console/disputes", "nav.disputes"),
    ("subjects.read", "/console/subjects", "nav.subjects"),
    ("audit.read", "/console/audit", "nav.audit"),
    ("operations.read", "/console/operations", "nav.operations"),
    ("staff.manage", "/console/staff", "nav.staff"),
)


def allowed(role: str, permission: str) -> bool:
    return role in PERMISSIONS[permission]


def home(role: str) -> str:
    """The first page the role may see."""
    return next(path for permission, path, _ in NAVIGATION if allowed(role, permission))
