"""The item rules as a function: the stored snapshot and content hash are exactly what they
were when written with pydantic's own serializer (so a re-report after an upgrade is still
`unchanged`), and amounts at the edges of the decimal range are refused, not crashed on."""

from datetime import date
from decimal import Decimal

import orjson
import pytest

from registry.records.schemas import RecordItem
from registry.records.validation import (
    MAX_MINOR,
    ValidItem,
    content_hash,
    format_minor,
    validate_item,
)
from tests.factories import item, token

TODAY = date(2026, 11, 30)
KEY = b"k" * 32


# Fields added after records were first reported: in the snapshot only when not their default,
# so a line reported before they existed keeps its content hash.
LATER_FIELDS = {
    "branch_code": None,
    "last_collection_action_on": None,
    "recovered_amount": "0",
    "arrangement": "none",
    # Parties and collateral are kept by key, not token (tests/records/test_parties.py).
    "parties": [],
    "collateral": None,
}


def _reference_snapshot(raw: dict) -> dict:
    """The snapshot as first defined: pydantic's JSON dump with currency and amounts normalized."""
    model = RecordItem.model_validate(raw)
    currency = model.currency.upper()
    snapshot = model.model_dump(mode="json", exclude={"subject"})
    for name in ("principal_amount", "outstanding_amount", "overdue_amount", "recovered_amount"):
        digits = {"JPY": 0, "KWD": 3}.get(currency, 2)
        snapshot[name] = format_minor(int(Decimal(str(getattr(model, name))).scaleb(digits)), currency)
    snapshot["currency"] = currency
    for name, default in LATER_FIELDS.items():
        if snapshot[name] in (default, format_minor(0, currency)):
            del snapshot[name]
    return snapshot


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"status": "dpd_31_60", "collection_stage": "legal_action", "product": "auto_loan"},
        {"currency": "jpy", "principal_amount": 5000, "outstanding_amount": "4000", "overdue_amount": 0},
        {"currency": "KWD", "principal_amount": "1.234", "outstanding_amount": "1.2340", "overdue_amount": "0.001"},
        {
            "principal_amount": "1.500",
            "outstanding_amount": "0.05",
            "overdue_amount": "0",
            "closed_on": "2026-10-30",
            "status": "settled",
        },
        {"opened_on": None, "subject_type": "enterprise", "account_ref": "a.b:c-d_e"},
        {
            "status": "dpd_61_90",
            "branch_code": "SH-01",
            "last_collection_action_on": "2026-10-01",
            "recovered_amount": "12.5",
            "arrangement": "payment_plan",
        },
        {
            "currency": "JPY",
            "principal_amount": 900,
            "outstanding_amount": 900,
            "recovered_amount": 0,
            "arrangement": "none",
            "branch_code": "B.2",
        },
    ],
)
def test_snapshot_and_hash_match_the_serializer(fields):
    fields = dict(fields)
    raw = item(token(), fields.pop("account_ref", "SNAP-1"), **fields)
    checked = validate_item(0, raw, KEY, TODAY)
    assert isinstance(checked, ValidItem), checked
    reference = _reference_snapshot(raw)
    assert checked.snapshot == reference
    assert list(checked.snapshot) == list(reference)  # every field, none extra
    assert checked.content_hash == content_hash(checked.subject_key, reference)
    assert orjson.dumps(checked.snapshot, option=orjson.OPT_SORT_KEYS) == orjson.dumps(
        reference, option=orjson.OPT_SORT_KEYS
    )


@pytest.mark.parametrize(
    "amount, digits_currency, message",
    [
        ("1E+999999", "CNY", "amount too large"),
        ("1E+17", "CNY", "amount too large"),
        ("92233720368547758.08", "CNY", "amount too large"),
        ("1E-999999", "CNY", "at most 2 decimal places for this currency"),
        ("1E-1000020", "CNY", "at most 2 decimal places for this currency"),  # below the context's Emin
        ("0.001", "CNY", "at most 2 decimal places for this currency"),
        ("0.5", "JPY", "at most 0 decimal places for this currency"),
    ],
)
def test_amounts_at_the_edges_are_refused(amount, digits_currency, message):
    raw = item(
        token(), "EDGE-1", currency=digits_currency, principal_amount=amount, outstanding_amount="0", overdue_amount="0"
    )
    checked = validate_item(0, raw, KEY, TODAY)
    assert isinstance(checked, list)
    assert {"field": "principal_amount", "message": message} in [e.model_dump() for e in checked]


@pytest.mark.parametrize("amount, minor", [("92233720368547758.07", MAX_MINOR), ("1E+2", 10000), ("0.0", 0), ("-0", 0)])
def test_amounts_at_the_edges_that_fit(amount, minor):
    checked = validate_item(
        0, item(token(), "EDGE-2", principal_amount=amount, outstanding_amount="0", overdue_amount="0"), KEY, TODAY
    )
    assert isinstance(checked, ValidItem), checked
    assert checked.principal_minor == minor
