"""The enumerations of the record contract and the severity order of statuses."""

from __future__ import annotations

from enum import StrEnum


class SubjectType(StrEnum):
    individual = "individual"
    enterprise = "enterprise"


class Product(StrEnum):
    auto_loan = "auto_loan"
    mortgage = "mortgage"
    consumer_loan = "consumer_loan"
    credit_card = "credit_card"
    enterprise_loan = "enterprise_loan"
    project_finance = "project_finance"
    financial_lease = "financial_lease"
    other = "other"


class Status(StrEnum):
    current = "current"
    settled = "settled"
    restructured = "restructured"
    dpd_1_30 = "dpd_1_30"
    dpd_31_60 = "dpd_31_60"
    dpd_61_90 = "dpd_61_90"
    dpd_91_180 = "dpd_91_180"
    dpd_over_180 = "dpd_over_180"
    written_off = "written_off"


class CollectionStage(StrEnum):
    none = "none"
    reminder = "reminder"
    negotiation = "negotiation"
    restructuring = "restructuring"
    legal_action = "legal_action"
    repossession = "repossession"
    agency = "agency"
    closed = "closed"


class Arrangement(StrEnum):
    """A hardship arrangement agreed with the borrower: an account under one is being dealt
    with, not left uncollected."""

    none = "none"
    payment_plan = "payment_plan"
    extension = "extension"
    restructure = "restructure"


# Severity: the order in which `worst_*` compares statuses (declaration order above).
SEVERITY: dict[str, int] = {status.value: rank for rank, status in enumerate(Status)}
STATUS_BY_SEVERITY: dict[int, str] = {rank: status for status, rank in SEVERITY.items()}
# A status at or above this severity is a delinquency (`dpd_*`, `written_off`).
DELINQUENT_SEVERITY = SEVERITY[Status.dpd_1_30]


DELINQUENT_STATUSES = tuple(s.value for s in Status if SEVERITY[s.value] >= DELINQUENT_SEVERITY)


def is_delinquent(status: str) -> bool:
    return SEVERITY[status] >= DELINQUENT_SEVERITY


def severity_sql(column: str = "status") -> str:
    """SQL CASE mapping a status column to its severity (kept in step with SEVERITY)."""
    arms = " ".join(f"WHEN '{s}' THEN {rank}" for s, rank in SEVERITY.items())
    return f"CASE {column} {arms} END"
