"""The rules one reported item must satisfy, and what the service derives from it.
Every rejection names the field and says what is wrong, in the member's terms."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import orjson
from pydantic import ValidationError

from registry.core.errors import located_message
from registry.core.subjects import subject_key
from registry.records import parties
from registry.records.currencies import MINOR_UNITS
from registry.records.schemas import ItemError, RecordItem
from registry.records.vocabulary import Arrangement, is_delinquent

MAX_MINOR = 2**63 - 1
MAX_MINOR_DIGITS = len(str(MAX_MINOR)) - 1  # the exponent of MAX_MINOR's leading digit
# An object with more keys than this is refused with one reason rather than one per unknown
# key: a 64 KiB upload line of 6 500 keys took 40 ms to report key by key.
MAX_ITEM_KEYS = 64
# The edition of these rules and of the snapshot they make. An upload line's digest stands
# for what these rules made of it (registry/uploads/line_digests.py), so raise the edition whenever
# the same line would validate or snapshot differently: every stored digest then stops
# matching, and each line is read in full once more. tests/uploads/test_line_digests.py pins
# what this edition makes of a few lines.
RULES_EDITION = 1


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
    recovered_minor: int = 0


def _field_of(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "item"


def _minor_units(field: str, value: Decimal, digits: int, errors: list[ItemError]) -> int:
    # Compared in magnitude first: a finite decimal as large as 1E+999999 would overflow the
    # decimal context when scaled, and a merely huge one would build a huge integer.
    if value and value.adjusted() + digits > MAX_MINOR_DIGITS:
        errors.append(ItemError(field=field, message="amount too large"))
        return 0
    try:
        scaled = value.scaleb(digits)
        minor = int(scaled)
    except (ArithmeticError, ValueError):
        errors.append(ItemError(field=field, message="not a valid amount"))
        return 0
    if minor != scaled:  # digits below the currency's minor unit (trailing zeros are fine)
        errors.append(ItemError(field=field, message=f"at most {digits} decimal places for this currency"))
        return 0
    if minor > MAX_MINOR:
        errors.append(ItemError(field=field, message="amount too large"))
        return 0
    return minor


def format_minor(minor: int, currency: str) -> str:
    return amount_text(int(minor), MINOR_UNITS.get(currency.strip(), 2))  # sums from SQL may be Decimal


def amount_text(minor: int, digits: int) -> str:
    """An amount in minor units as the decimal text members read, with exactly `digits` places."""
    if minor < 0 or digits == 0:
        return str(Decimal(minor).scaleb(-digits).quantize(Decimal(1).scaleb(-digits)))
    # The same digits as the Decimal form above, without Decimal (it runs for every amount).
    text = str(minor).rjust(digits + 1, "0")
    return f"{text[:-digits]}.{text[-digits:]}"


# Every date an item carries, so that a date field added to RecordItem gets the same rules.
_DATE_FIELDS = tuple(name for name, f in RecordItem.model_fields.items() if f.annotation in (date, date | None))
# No account in the registry predates it; a year like 0001 is a file's placeholder or a typo.
EARLIEST_DATE = date(1900, 1, 1)
# (earlier, later, the field a breach is reported on): when both are given, the first must not
# be after the second.
_DATE_ORDER = (
    ("opened_on", "delinquent_since", "opened_on"),
    ("delinquent_since", "as_of", "delinquent_since"),
    ("opened_on", "as_of", "opened_on"),
    ("notice_sent_on", "as_of", "notice_sent_on"),
    ("opened_on", "closed_on", "opened_on"),
    ("delinquent_since", "last_collection_action_on", "last_collection_action_on"),
    ("last_collection_action_on", "as_of", "last_collection_action_on"),
)


def _date_rules(item: RecordItem, today: date, errors: list[ItemError]) -> None:
    days = vars(item)  # the validated fields by name
    for field in _DATE_FIELDS:
        value = days[field]
        if value is not None and value > today:
            errors.append(ItemError(field=field, message="must not be in the future"))
        elif value is not None and value < EARLIEST_DATE:
            errors.append(ItemError(field=field, message=f"must not be before {EARLIEST_DATE.isoformat()}"))
    if is_delinquent(item.status):
        for field in ("delinquent_since", "notice_sent_on"):
            if days[field] is None:
                errors.append(
                    ItemError(
                        field=field,
                        message=f"required when status is {item.status.value}: "
                        "the borrower must have been notified before a delinquency is shared",
                    )
                )
    for earlier, later, blamed in _DATE_ORDER:
        a, b = days[earlier], days[later]
        if a is not None and b is not None and a > b:
            other, relation = (later, "after") if blamed == earlier else (earlier, "before")
            errors.append(ItemError(field=blamed, message=f"must not be {relation} {other}"))


def validate_item(index: int, raw: Any, server_key: bytes, today: date) -> ValidItem | list[ItemError]:
    if not isinstance(raw, dict):
        return [ItemError(field="item", message="each record must be a JSON object")]
    if len(raw) > MAX_ITEM_KEYS:
        return [
            ItemError(
                field="item",
                message=f"{len(raw)} fields: a record item has at most "
                f"{len(RecordItem.model_fields)}, and one with more than {MAX_ITEM_KEYS} is not read",
            )
        ]
    try:
        item = RecordItem.model_validate(raw)
    except ValidationError as exc:
        return [ItemError(field=_field_of(loc), message=message) for loc, message in map(located_message, exc.errors())]
    errors: list[ItemError] = []
    currency = item.currency.upper()
    digits = MINOR_UNITS.get(currency)
    if digits is None:
        errors.append(ItemError(field="currency", message="not an ISO 4217 currency code"))
        digits = 2
    principal = _minor_units("principal_amount", item.principal_amount, digits, errors)
    outstanding = _minor_units("outstanding_amount", item.outstanding_amount, digits, errors)
    overdue = _minor_units("overdue_amount", item.overdue_amount, digits, errors)
    recovered = _minor_units("recovered_amount", item.recovered_amount, digits, errors)
    if not errors and overdue > outstanding:
        errors.append(ItemError(field="overdue_amount", message="must not exceed outstanding_amount"))
    _date_rules(item, today, errors)
    errors += [ItemError(field=f, message=m) for f, m in parties.link_errors(item.subject, item.parties)]
    if errors:
        return errors
    key = subject_key(server_key, item.subject)
    snapshot = _snapshot(item, currency, digits, principal, outstanding, overdue, recovered)
    parties.add_links(snapshot, server_key, item.parties, item.collateral)
    return ValidItem(
        index, item, key, principal, outstanding, overdue, snapshot, content_hash(key, snapshot), recovered
    )


def _snapshot(
    item: RecordItem, currency: str, digits: int, principal: int, outstanding: int, overdue: int, recovered: int
) -> dict[str, Any]:
    """The item as stored in its events and hashed: every field but the borrower token, as
    JSON values, the currency upper-cased and the amounts in the currency's own digits.
    Written out rather than model_dump'ed: it runs for every item (a test pins it to
    model_dump's output). The collection fields added later appear only when they are not
    their default, so a line reported before they existed keeps its hash and stays
    `unchanged` when it comes again."""
    opened, since, notice, closed = item.opened_on, item.delinquent_since, item.notice_sent_on, item.closed_on
    snapshot = {
        "subject_type": item.subject_type.value,
        "account_ref": item.account_ref,
        "product": item.product.value,
        "status": item.status.value,
        "collection_stage": item.collection_stage.value,
        "currency": currency,
        "principal_amount": amount_text(principal, digits),
        "outstanding_amount": amount_text(outstanding, digits),
        "overdue_amount": amount_text(overdue, digits),
        "opened_on": opened.isoformat() if opened is not None else None,
        "delinquent_since": since.isoformat() if since is not None else None,
        "notice_sent_on": notice.isoformat() if notice is not None else None,
        "closed_on": closed.isoformat() if closed is not None else None,
        "as_of": item.as_of.isoformat(),
    }
    if item.branch_code is not None:
        snapshot["branch_code"] = item.branch_code
    if item.last_collection_action_on is not None:
        snapshot["last_collection_action_on"] = item.last_collection_action_on.isoformat()
    if recovered:
        snapshot["recovered_amount"] = amount_text(recovered, digits)
    if item.arrangement is not Arrangement.none:
        snapshot["arrangement"] = item.arrangement.value
    return snapshot


def content_hash(key: bytes, snapshot: dict[str, Any]) -> bytes:
    """What tells an identical re-report from a change: the subject and every reported field."""
    return hashlib.sha256(key + orjson.dumps(snapshot, option=orjson.OPT_SORT_KEYS)).digest()
