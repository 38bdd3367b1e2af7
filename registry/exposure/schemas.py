"""API shapes of the exposure query and its answer."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from registry.core.schemas import FieldValueError, RequestModel
from registry.records.schemas import MAX_BATCH, Token
from registry.records.vocabulary import Status


class Purpose(StrEnum):
    loan_application = "loan_application"
    account_review = "account_review"
    collection = "collection"
    dispute_investigation = "dispute_investigation"


HARD_PURPOSES = frozenset({Purpose.loan_application})
# Purposes that act on the borrower's own authorization, which the request must name.
CONSENTED_PURPOSES = frozenset({Purpose.loan_application, Purpose.dispute_investigation})

EXAMPLE_SUBJECT = "9f2c4e0b8a7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b"


class ExposureRequest(RequestModel):
    subjects: list[Token] = Field(min_length=1, max_length=MAX_BATCH)
    purpose: Purpose
    consent_ref: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="The borrower's authorization (required for loan_application and dispute_investigation)",
        examples=["CONSENT-2026-11-0042"],
    )

    model_config = ConfigDict(
        **{
            "extra": "forbid",
            "json_schema_extra": {
                "examples": [
                    {
                        "subjects": [EXAMPLE_SUBJECT],
                        "purpose": "loan_application",
                        "consent_ref": "CONSENT-2026-11-0042",
                    }
                ]
            },
        }
    )

    @field_validator("subjects")
    @classmethod
    def _distinct(cls, subjects: list[str]) -> list[str]:
        lowered = [s.lower() for s in subjects]
        if len(set(lowered)) != len(lowered):
            raise ValueError("subjects must not repeat")
        return lowered

    @model_validator(mode="after")
    def _consent(self) -> ExposureRequest:
        if self.purpose in CONSENTED_PURPOSES and self.consent_ref is None:
            raise FieldValueError(
                "consent_ref", f"consent_ref is required for {self.purpose.value}: the borrower's authorization"
            )
        return self


class Accounts(BaseModel):
    total: int = Field(examples=[3])
    delinquent: int = Field(examples=[1])
    by_status: dict[str, int] = Field(examples=[{"current": 2, "dpd_31_60": 1}])
    by_product: dict[str, int] = Field(examples=[{"auto_loan": 2, "consumer_loan": 1}])
    in_arrangement: int = Field(
        description="Accounts under a hardship arrangement agreed with the borrower (payment plan, extension, "
        "restructure)",
        examples=[0],
    )


class HardInquiries(BaseModel):
    last_30d: int
    last_90d: int
    institutions_30d: int
    institutions_90d: int


class OwnAccounts(BaseModel):
    accounts: int
    delinquent: int
    worst_status: Status | None


class RoleCounts(BaseModel):
    accounts: int = Field(examples=[2])
    delinquent: int = Field(examples=[2])


class ContingentExposure(BaseModel):
    """Other institutions' live accounts where the subject is a guarantor or co-borrower
    (never which institutions); the caller's own accounts are not counted here."""

    accounts: int = Field(examples=[2])
    delinquent: int = Field(examples=[2])
    worst_status: Status | None = Field(examples=["dpd_61_90"])
    outstanding_amounts: dict[str, str] = Field(examples=[{"CNY": "2400000.00"}])
    overdue_amounts: dict[str, str] = Field(examples=[{"CNY": "310000.00"}])
    by_role: dict[str, RoleCounts] = Field(
        description="The same accounts by the subject's role: guarantor, co_borrower",
        examples=[{"guarantor": {"accounts": 2, "delinquent": 2}}],
    )


class SubjectExposure(BaseModel):
    """What other institutions report about one borrower; `own` is the caller's own share."""

    subject: str = Field(examples=[EXAMPLE_SUBJECT])
    found: bool
    institutions_reporting: int
    institutions_delinquent: int
    accounts: Accounts
    worst_status: Status | None
    worst_status_24m: Status | None
    overdue_amounts: dict[str, str] = Field(examples=[{"CNY": "6200.00"}])
    outstanding_amounts: dict[str, str] = Field(examples=[{"CNY": "150000.00"}])
    latest_delinquent_since: date | None
    uncollected_delinquent_accounts: int = Field(
        description="Accounts delinquent more than 30 days on their as_of, under no hardship arrangement, with no "
        "collection action in the 30 days up to their as_of (docs/api.md)",
        examples=[1],
    )
    disputed: bool
    hard_inquiries: HardInquiries
    own: OwnAccounts
    contingent: ContingentExposure


class ExposureResponse(BaseModel):
    results: list[SubjectExposure]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "results": [
                        {
                            "subject": EXAMPLE_SUBJECT,
                            "found": True,
                            "institutions_reporting": 2,
                            "institutions_delinquent": 1,
                            "accounts": {
                                "total": 3,
                                "delinquent": 1,
                                "by_status": {"current": 2, "dpd_31_60": 1},
                                "by_product": {"auto_loan": 2, "consumer_loan": 1},
                                "in_arrangement": 0,
                            },
                            "worst_status": "dpd_31_60",
                            "worst_status_24m": "dpd_61_90",
                            "overdue_amounts": {"CNY": "6200.00"},
                            "outstanding_amounts": {"CNY": "150000.00"},
                            "latest_delinquent_since": "2026-09-20",
                            "uncollected_delinquent_accounts": 1,
                            "disputed": False,
                            "hard_inquiries": {
                                "last_30d": 3,
                                "last_90d": 5,
                                "institutions_30d": 2,
                                "institutions_90d": 3,
                            },
                            "own": {"accounts": 1, "delinquent": 0, "worst_status": "current"},
                            "contingent": {
                                "accounts": 2,
                                "delinquent": 2,
                                "worst_status": "dpd_61_90",
                                "outstanding_amounts": {"CNY": "2400000.00"},
                                "overdue_amounts": {"CNY": "310000.00"},
                                "by_role": {"guarantor": {"accounts": 2, "delinquent": 2}},
                            },
                        }
                    ]
                }
            ]
        }
    )
