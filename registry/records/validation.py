"""The rules one reported item must satisfy, and what the service derives from it.
Every rejection names the field and says what is wrong, in the member's terms."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from pydantic import ValidationError

from registry.core.subjects import subject_key
from registry.records.currencies import MINOR_UNITS
from registry.records.schemas import ItemError, RecordItem
from registry.records.vocabulary import is_delinquent

MAX_MINOR = 2**63 - 1


@dataclass(frozen=True, slots=True)
class ValidItem:
    index: int
    item: RecordItem
    subject_key: bytes
    principal_minor: int
    outstanding_minor: int
    overdue_minor: int
    snapshot: dict[str, Any]
    content_hash: bytes


def _field_of(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "item"


def _minor_units(field: str, value: Decimal, digits: int, errors: list[ItemError]) -> int:
    try:
        exponent = value.as_tuple().exponent
        # Normalizing only raises the exponent: skip it (it is slow) when the value as written fits.
        if isinstance(exponent, int) and -exponent > digits:
            exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > digits:
            errors.append(ItemError(field=field, message=f"at most {digits} decimal places for this currency"))
            return 0
        minor = int(value.scaleb(digits))
    except (InvalidOperation, ValueError, OverflowError):
        errors.append(ItemError(field=field, message="not a valid amount"))
        return 0
    if minor > MAX_MINOR:
        errors.append(ItemError(field=field, message="amount too large"))
        return 0
    return minor


def format_minor(minor: int, currency: str) -> str:
    minor = int(minor)  # sums from SQL may arrive as Decimal
    digits = MINOR_UNITS.get(currency.strip(), 2)
    if minor < 0 or digits == 0:
        return str(Decimal(minor).scaleb(-digits).quantize(Decimal(1).scaleb(-digits)))
    # The same digits as the Decimal form above, without Decimal (it runs for every item).
    unit = 10**digits
    return f"{minor // unit}.{minor % unit:0{digits}d}"


def _date_rules(item: RecordItem, today: date, errors: list[ItemError]) -> None:
    for field in ("opened_on", "delinquent_since", "notice_sent_on", "closed_on", "as_of"):
        value = getattr(item, field)
        if value is not None and value > today:
            errors.append(ItemError(field=field, message="must not be in the future"))
    if is_delinquent(item.status):
        for field in ("delinquent_since", "notice_sent_on"):
            if getattr(item, field) is None:
                errors.append(
                    ItemError(field=field, message=f"required when status is {item.status.value}: "
                              "the borrower must have been notified before a delinquency is shared")
                )
    ordered = [
        ("opened_on", "delinquent_since"),
        ("delinquent_since", "as_of"),
        ("opened_on", "as_of"),
        ("notice_sent_on", "as_of"),
        ("opened_on", "closed_on"),
    ]
    for earlier, later in ordered:
        a, b = getattr(item, earlier), getattr(item, later)
        if a is not None and b is not None and a > b:
            errors.append(ItemError(field=earlier, message=f"must not be after {later}"))


def validate_item(index: int, raw: Any, server_key: bytes, today: date) -> ValidItem | list[ItemError]:
    if not isinstance(raw, dict):
        return [ItemError(field="item", message="each record must be a JSON object")]
    try:
        item = RecordItem.model_validate(raw)
    except ValidationError as exc:
        return [ItemError(field=_field_of(tuple(e["loc"])), message=e["msg"]) for e in exc.errors()]
    errors: list[ItemError] = []
    currency = item.currency.upper()
    digits = MINOR_UNITS.get(currency)
    if digits is None:
        errors.append(ItemError(field="currency", message="not an ISO 4217 currency code"))
        digits = 2
    principal = _minor_units("principal_amount", item.principal_amount, digits, errors)
    outstanding = _minor_units("outstanding_amount", item.outstanding_amount, digits, errors)
    overdue = _minor_units("overdue_amount", item.overdue_amount, digits, errors)
    if not errors and overdue > outstanding:
        errors.append(ItemError(field="overdue_amount", message="must not exceed outstanding_amount"))
    _date_rules(item, today, errors)
    if errors:
        return errors
    snapshot = item.model_dump(mode="json", exclude={"subject"})
    snapshot.update(
        currency=currency,
        principal_amount=format_minor(principal, currency),
        outstanding_amount=format_minor(outstanding, currency),
        overdue_amount=format_minor(overdue, currency),
    )
    key = subject_key(server_key, item.subject)
    return ValidItem(index, item, key, principal, outstanding, overdue, snapshot, content_hash(key, snapshot))


def content_hash(key: bytes, snapshot: dict[str, Any]) -> bytes:
    """What tells an identical re-report from a change: the subject and every reported field."""
    return hashlib.sha256(key + orjson.dumps(snapshot, option=orjson.OPT_SORT_KEYS)).digest()
