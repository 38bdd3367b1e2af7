"""Helpers of the parties and collateral tests: vin tokens, items with parties or a vehicle."""

from __future__ import annotations

import secrets
from typing import Any

from tests.factories import item


def vehicle() -> str:
    """A fresh vin token (what a member's client computes with brs1 kind vin)."""
    return secrets.token_hex(32)


def guaranteed(subject: str, account_ref: str, guarantor: str, role: str = "guarantor", **fields: Any) -> dict:
    party = {"subject": guarantor, "subject_type": "enterprise", "role": role}
    return item(subject, account_ref, subject_type="enterprise", product="enterprise_loan", parties=[party], **fields)


def pledged(subject: str, account_ref: str, vin_token: str, **fields: Any) -> dict:
    return item(subject, account_ref, product="auto_loan", collateral={"kind": "vehicle", "token": vin_token}, **fields)
