"""brs1 identity tokens: every published vector, and the messages that say what is wrong."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from registry_client import identity
from registry_client.identity import IdentityKind, InvalidIdentity, normalize, token

VECTORS = json.loads((Path(__file__).parent / "identity-vectors.json").read_text())
KEY = VECTORS["key_hex"]

# What each invalid vector's message must name, so a member knows what to fix.
EXPECTED_REASON = {
    "bad checksum": "checksum",
    "month 13": "date",
    "birth date in the future": "future",
    "too short": "length",
    "bad character": "character",
    "letter I is not in the charset": "character",
    "missing country separator": "separator",
    "country is not ISO 3166 alpha-3": "ISO 3166",
    "unknown kind": "kind",
    "bad check digit": "check digit",
    "16 characters": "length 16",
    "18 characters": "length 18",
    "letter O is not allowed": "character 'O'",
}


def test_vectors_are_the_brs1_spec() -> None:
    assert VECTORS["spec"] == identity.SPEC == "brs1"


@pytest.mark.parametrize("vector", VECTORS["valid"], ids=lambda v: f"{v['kind']}:{v['input']!r}")
def test_valid_vector(vector: dict[str, str]) -> None:
    assert normalize(vector["kind"], vector["input"]) == vector["normalized"]
    assert token(vector["kind"], vector["input"], KEY) == vector["token"]
    assert token(vector["kind"], vector["input"], bytes.fromhex(KEY)) == vector["token"]


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["why"])
def test_invalid_vector(vector: dict[str, str]) -> None:
    with pytest.raises(InvalidIdentity) as raised:
        token(vector["kind"], vector["input"], KEY)
    assert EXPECTED_REASON[vector["why"]] in str(raised.value)
    assert raised.value.kind == vector["kind"]


def test_legacy_fifteen_digit_number_gains_century_and_check_character() -> None:
    assert normalize("cn_resident_id", "110105491231002") == "11010519491231002X"


def test_legacy_number_with_impossible_date_is_refused() -> None:
    with pytest.raises(InvalidIdentity, match="not a real date"):
        normalize("cn_resident_id", "110105490231002")


def test_birth_date_tomorrow_is_in_the_future() -> None:
    tomorrow = date.today() + timedelta(days=1)
    first17 = "110105" + tomorrow.strftime("%Y%m%d") + "002"
    number = first17 + identity._resident_check_char(first17)
    with pytest.raises(InvalidIdentity, match="future"):
        normalize("cn_resident_id", number)


@pytest.mark.parametrize(
    ("kind", "value", "reason"),
    [
        ("cn_resident_id", "1101051949X231002X", "character 'X' at position 11"),
        ("cn_resident_id", "11010519491231 002X", "character ' '"),
        ("cn_uscc", "91440300708461136", "length 17"),
        ("cn_uscc", "9144030070846113O6", "character 'O'"),
        ("passport", ":E12345678", "country is missing"),
        ("passport", "CHN:", "number is missing"),
        ("passport", "CHN:E1234/5678", "character"),
        ("passport", "CHN:" + "1" * 21, "length 21"),
        ("passport", "D:C01X00T47", "ISO 3166"),
        ("vin", "LSGPC52UXCF00000Q", "character 'Q' at position 17"),
        ("vin", "LSGPC52I0CF000001", "character 'I' at position 8"),
        ("vin", "LSGPC52U0CF000001", "position 9 is 0, expected X"),
    ],
)
def test_messages_name_the_problem(kind: str, value: str, reason: str) -> None:
    with pytest.raises(InvalidIdentity, match=reason.replace("(", r"\(")):
        normalize(kind, value)


def test_kind_may_be_the_enum() -> None:
    assert normalize(IdentityKind.PASSPORT, "chn:e12345678") == "CHN:E12345678"
    assert token(IdentityKind.PASSPORT, "chn:e12345678", KEY) == token(
        "passport", "CHN:E12345678", KEY
    )


def test_kinds_hash_apart() -> None:
    # The kind is part of the message, so one string under two kinds is two borrowers.
    assert token("cn_uscc", "91110108MA01ABCD1E", KEY) != identity.token(
        "passport", "CHN:91110108MA01ABCD1E", KEY
    )


@pytest.mark.parametrize("key", ["00" * 31, "zz" * 32, b"\x00" * 16, b"\x00" * 33])
def test_bad_keys_are_refused(key: str | bytes) -> None:
    with pytest.raises(ValueError, match="hashing key"):
        token("passport", "CHN:E1", key)


def test_is_token() -> None:
    assert identity.is_token("A" * 64)
    assert not identity.is_token("11010519491231002X")
    assert not identity.is_token("g" * 64)


def test_vin_check_digit_ten_is_written_x() -> None:
    # The published vector LSGPC52UXCF000001 sums to 10 mod 11; every other digit there is wrong.
    for digit in "0123456789":
        with pytest.raises(InvalidIdentity, match="check digit"):
            normalize("vin", f"LSGPC52U{digit}CF000001")
    assert normalize("vin", "lsgpc52uxcf000001") == "LSGPC52UXCF000001"
