"""API shapes of records: the item a member reports, batch results, and records as read back."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from registry.core.schemas import RequestModel, ResponseModel
from registry.records.parties import MAX_PARTIES, Collateral, CollateralOut, Party, PartyOut
from registry.records.vocabulary import Arrangement, CollectionStage, Product, Status, SubjectType

MAX_BATCH = 1000

BranchCode = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="The member's own branch or office that holds the account",
        examples=["SH-PUDONG-03"],
    ),
]
AccountRef = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$", examples=["LN-2024-000187"])
]
Token = Annotated[
    str,
    Field(
        pattern=r"^[0-9a-fA-F]{64}$",
        description="Borrower token: hex(HMAC-SHA256(K_assoc, 'brs1|kind|normalized')), see docs/identity-hashing.md",
        examples=["9f2c4e0b8a7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b"],
    ),
]
Amount = Annotated[
    Decimal,
    Field(
        ge=0,
        allow_inf_nan=False,
        description="Non-negative decimal, as a string or a number, at most the currency's minor digits",
        examples=["6200.00"],
    ),
]

RECORD_EXAMPLE = {
    "subject": "9f2c4e0b8a7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b",
    "subject_type": "individual",
    "account_ref": "LN-2024-000187",
    "product": "auto_loan",
    "status": "dpd_31_60",
    "collection_stage": "reminder",
    "currency": "CNY",
    "principal_amount": "180000.00",
    "outstanding_amount": "150000.00",
    "overdue_amount": "6200.00",
    "opened_on": "2024-03-15",
    "delinquent_since": "2026-09-20",
    "notice_sent_on": "2026-10-05",
    "as_of": "2026-10-31",
    "branch_code": "SH-PUDONG-03",
    "last_collection_action_on": "2026-10-20",
    "recovered_amount": "800.00",
    "arrangement": "none",
    "parties": [
        {
            "subject": "5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592",
            "subject_type": "individual",
            "role": "guarantor",
        }
    ],
    "collateral": {"kind": "vehicle", "token": "4fab577edf88b4c4d6e6cb5fa6cbdc6ac142db0a0cca9639bd91b2294dee614b"},
}


class RecordItem(RequestModel):
    """One account as a member reports it."""

    subject: Token
    subject_type: SubjectType
    account_ref: AccountRef
    product: Product
    status: Status
    collection_stage: CollectionStage = CollectionStage.none
    currency: str = Field(default="CNY", min_length=3, max_length=3, description="ISO 4217 code", examples=["CNY"])
    principal_amount: Amount
    outstanding_amount: Amount
    overdue_amount: Amount = Decimal(0)
    opened_on: date | None = None
    delinquent_since: date | None = None
    notice_sent_on: date | None = None
    closed_on: date | None = None
    as_of: date
    branch_code: BranchCode | None = None
    last_collection_action_on: date | None = Field(
        default=None,
        description="The latest collection action (call, letter, visit, legal step); not before delinquent_since, "
        "not after as_of. Without one in the 30 days up to as_of, a delinquency over 30 days old is uncollected",
    )
    recovered_amount: Amount = Field(
        default=Decimal(0), description="Recovered since the delinquency began, in the account's currency"
    )
    arrangement: Arrangement = Field(
        default=Arrangement.none, description="A hardship arrangement agreed with the borrower (not uncollected)"
    )
    parties: list[Party] = Field(
        default_factory=list,
        max_length=MAX_PARTIES,
        description="Guarantors and co-borrowers (not the borrower itself), each named once",
    )
    collateral: Collateral | None = Field(
        default=None, description="The vehicle pledged, by its vin token; expected for auto_loan and financial_lease"
    )

    model_config = ConfigDict(**{"extra": "forbid", "json_schema_extra": {"examples": [RECORD_EXAMPLE]}})


class RecordBatch(RequestModel):
    # Items are validated one by one by the service, so one bad item is rejected alone;
    # the schema still documents them as RecordItem.
    records: list[Any] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        json_schema_extra={"items": {"$ref": "#/components/schemas/RecordItem"}},
    )

    model_config = ConfigDict(**{"extra": "forbid", "json_schema_extra": {"examples": [{"records": [RECORD_EXAMPLE]}]}})


class RecordOutcome(StrEnum):
    created = "created"
    updated = "updated"
    unchanged = "unchanged"
    stale = "stale"
    rejected = "rejected"


class ItemError(BaseModel):
    field: str = Field(examples=["delinquent_since"])
    message: str = Field(examples=["required when status is dpd_31_60"])


class ItemResult(BaseModel):
    index: int = Field(examples=[0])
    account_ref: str | None = Field(examples=["LN-2024-000187"])
    outcome: RecordOutcome
    record_id: uuid.UUID | None
    errors: list[ItemError] = Field(default_factory=list)


class BatchSummary(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    rejected: int = 0


class BatchResult(BaseModel):
    results: list[ItemResult]
    summary: BatchSummary

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "results": [
                        {
                            "index": 0,
                            "account_ref": "LN-2024-000187",
                            "outcome": "created",
                            "record_id": "5a1f0c3e-8d2b-4e6f-9a7c-1b3d5e7f9a0c",
                            "errors": [],
                        },
                        {
                            "index": 1,
                            "account_ref": "LN-2024-000188",
                            "outcome": "rejected",
                            "record_id": None,
                            "errors": [{"field": "delinquent_since", "message": "required when status is dpd_31_60"}],
                        },
                    ],
                    "summary": {"created": 1, "updated": 0, "unchanged": 0, "stale": 0, "rejected": 1},
                }
            ]
        }
    )


class RecordEventOut(ResponseModel):
    kind: str = Field(examples=["updated"])
    version: int
    status: Status
    as_of: date
    at: datetime


RECORD_OUT_EXAMPLE = {
    "id": "5a1f0c3e-8d2b-4e6f-9a7c-1b3d5e7f9a0c",
    **{k: v for k, v in RECORD_EXAMPLE.items() if k != "subject"},
    "closed_on": None,
    "days_past_due": 41,
    "uncollected": False,
    "disputed": False,
    "suppressed": False,
    "expires_on": None,
    "withdrawn_at": None,
    "version": 2,
    "created_at": "2026-10-01T02:10:00Z",
    "updated_at": "2026-11-01T02:10:00Z",
}


class RecordOut(ResponseModel):
    """A member's own record as stored (the borrower token itself is never stored)."""

    id: uuid.UUID
    account_ref: str
    subject_type: SubjectType
    product: Product
    status: Status
    collection_stage: CollectionStage
    currency: str
    principal_amount: str = Field(examples=["180000.00"])
    outstanding_amount: str = Field(examples=["150000.00"])
    overdue_amount: str = Field(examples=["6200.00"])
    opened_on: date | None
    delinquent_since: date | None
    notice_sent_on: date | None
    closed_on: date | None
    as_of: date
    branch_code: str | None
    last_collection_action_on: date | None
    recovered_amount: str = Field(examples=["800.00"])
    arrangement: Arrangement
    days_past_due: int | None = Field(
        description="as_of - delinquent_since for a delinquent account (null otherwise): the worklist's order",
        examples=[41],
    )
    parties: list[PartyOut] = Field(default_factory=list, description="Guarantors and co-borrowers (no tokens)")
    collateral: CollateralOut | None = Field(default=None, description="The kind of collateral reported, if any")
    uncollected: bool = Field(
        description="Delinquent more than 30 days on its as_of, under no arrangement, and no collection action in "
        "the 30 days up to as_of (docs/api.md)"
    )
    disputed: bool = Field(description="An open dispute covers the record (or one was resolved as unverifiable)")
    suppressed: bool = Field(description="Left out of every exposure answer: a dispute about it was upheld")
    expires_on: date | None = Field(
        description="When the record leaves every answer (5 years after a delinquency ends)"
    )
    withdrawn_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [RECORD_OUT_EXAMPLE]})


class RecordDetail(RecordOut):
    events: list[RecordEventOut]

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    **RECORD_OUT_EXAMPLE,
                    "events": [
                        {
                            "kind": "created",
                            "version": 1,
                            "status": "dpd_1_30",
                            "as_of": "2026-09-30",
                            "at": "2026-10-01T02:10:00Z",
                        },
                        {
                            "kind": "updated",
                            "version": 2,
                            "status": "dpd_31_60",
                            "as_of": "2026-10-31",
                            "at": "2026-11-01T02:10:00Z",
                        },
                    ],
                }
            ]
        },
    )
