"""Identity tokens, spec `brs1`: validate and normalize a borrower identity, then hash it.

No raw identity ever leaves the member. What the registry receives is
`hex(HMAC-SHA256(K_assoc, "brs1|" + kind + "|" + normalized))`, so two members
holding the same borrower produce the same token only if they normalize the
same way; docs/identity-hashing.md is the language-neutral specification.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from datetime import date
from enum import StrEnum

from registry_client._countries import ISO3166_ALPHA3

__all__ = [
    "SPEC",
    "TOKEN_PATTERN",
    "IdentityKind",
    "InvalidIdentity",
    "is_token",
    "normalize",
    "parse_key",
    "token",
]

SPEC = "brs1"

# What the registry accepts as a subject; anything else may be a raw identity and must not be sent.
TOKEN_PATTERN = r"^[0-9a-fA-F]{64}$"
_TOKEN = re.compile(TOKEN_PATTERN)


class IdentityKind(StrEnum):
    CN_RESIDENT_ID = "cn_resident_id"
    CN_USCC = "cn_uscc"
    PASSPORT = "passport"
    VIN = "vin"


class InvalidIdentity(ValueError):
    """An identity that cannot be normalized; the message says what is wrong with it."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason


_DIGITS = frozenset("0123456789")

# GB 11643-1999: 17 weighted digits, sum mod 11 indexes this string.
_RESIDENT_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_CHECK = "10X98765432"

# GB 32100-2015: the 31-character alphabet (no I, O, S, V, Z) and its weights.
_USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {char: value for value, char in enumerate(_USCC_CHARSET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# ISO 3779 / GB 16735: 17 characters without I, O and Q; position 9 is the check digit.
_VIN_VALUE = {
    **{char: int(char) for char in "0123456789"},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_STRIP = str.maketrans("", "", " -")

_PASSPORT_NUMBER = re.compile(r"[A-Z0-9]{1,20}")
_PASSPORT_STRIP = str.maketrans("", "", " -")
_USCC_STRIP = str.maketrans("", "", " -")


def _resident_check_char(first17: str) -> str:
    total = sum(
        int(digit) * weight for digit, weight in zip(first17, _RESIDENT_WEIGHTS, strict=True)
    )
    return _RESIDENT_CHECK[total % 11]


def _check_character(kind: str, number: str, expected: str) -> None:
    if number[-1] != expected:
        raise InvalidIdentity(
            kind, f"checksum mismatch: check character is {number[-1]}, expected {expected}"
        )


def _normalize_resident_id(value: str) -> str:
    kind = IdentityKind.CN_RESIDENT_ID
    number = value.strip().upper()
    for position, char in enumerate(number, start=1):
        if char not in _DIGITS and char != "X":
            raise InvalidIdentity(
                kind, f"invalid character {char!r} at position {position}: digits only, X last"
            )
    if len(number) == 15:
        if "X" in number:
            raise InvalidIdentity(
                kind, "invalid character 'X': a 15-digit legacy number has digits only"
            )
        # Legacy numbers carry a two-digit year from the 1900s and no check character.
        number = number[:6] + "19" + number[6:]
        number += _resident_check_char(number)
    elif len(number) != 18:
        raise InvalidIdentity(
            kind, f"wrong length {len(number)}: expected 18 characters (or 15 for a legacy number)"
        )
    elif "X" in number[:17]:
        position = number.index("X") + 1
        raise InvalidIdentity(
            kind, f"invalid character 'X' at position {position}: only the last may be X"
        )
    birth = number[6:14]
    try:
        born_on = date(int(birth[:4]), int(birth[4:6]), int(birth[6:]))
    except ValueError:
        raise InvalidIdentity(kind, f"birth date {birth} is not a real date") from None
    if born_on > date.today():
        raise InvalidIdentity(kind, f"birth date {born_on.isoformat()} is in the future")
    _check_character(kind, number, _resident_check_char(number[:17]))
    return number


def _normalize_uscc(value: str) -> str:
    kind = IdentityKind.CN_USCC
    code = value.strip().translate(_USCC_STRIP).upper()
    for position, char in enumerate(code, start=1):
        if char not in _USCC_VALUE:
            raise InvalidIdentity(
                kind,
                f"invalid character {char!r} at position {position}: allowed are {_USCC_CHARSET}",
            )
    if len(code) != 18:
        raise InvalidIdentity(kind, f"wrong length {len(code)}: expected 18 characters")
    total = sum(
        _USCC_VALUE[char] * weight for char, weight in zip(code, _USCC_WEIGHTS, strict=False)
    )
    _check_character(kind, code, _USCC_CHARSET[(31 - total % 31) % 31])
    return code


def _normalize_passport(value: str) -> str:
    kind = IdentityKind.PASSPORT
    country, separator, number = value.partition(":")
    if not separator:
        raise InvalidIdentity(
            kind, "missing ':' separator: expected CCC:NUMBER (ISO 3166 alpha-3 country)"
        )
    country = country.strip().upper()
    number = number.strip().translate(_PASSPORT_STRIP).upper()
    if not country:
        raise InvalidIdentity(kind, "country is missing: expected CCC:NUMBER")
    if country not in ISO3166_ALPHA3:
        raise InvalidIdentity(kind, f"country {country!r} is not an ISO 3166 alpha-3 code")
    if not number:
        raise InvalidIdentity(kind, "passport number is missing: expected CCC:NUMBER")
    if not _PASSPORT_NUMBER.fullmatch(number):
        if len(number) > 20:
            raise InvalidIdentity(
                kind, f"wrong length {len(number)}: a passport number has at most 20 characters"
            )
        raise InvalidIdentity(
            kind, "invalid character in passport number: letters A-Z and digits only"
        )
    return f"{country}:{number}"


def _vin_check_digit(vin: str) -> str:
    total = sum(_VIN_VALUE[char] * weight for char, weight in zip(vin, _VIN_WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def _normalize_vin(value: str) -> str:
    kind = IdentityKind.VIN
    vin = value.strip().translate(_VIN_STRIP).upper()
    for position, char in enumerate(vin, start=1):
        if char not in _VIN_VALUE:
            raise InvalidIdentity(
                kind,
                f"invalid character {char!r} at position {position}: "
                "letters A-Z except I, O and Q, and digits",
            )
    if len(vin) != 17:
        raise InvalidIdentity(kind, f"wrong length {len(vin)}: expected 17 characters")
    expected = _vin_check_digit(vin)
    if vin[8] != expected:
        raise InvalidIdentity(
            kind, f"check digit mismatch: position 9 is {vin[8]}, expected {expected}"
        )
    return vin


_NORMALIZERS: dict[str, Callable[[str], str]] = {
    IdentityKind.CN_RESIDENT_ID: _normalize_resident_id,
    IdentityKind.CN_USCC: _normalize_uscc,
    IdentityKind.PASSPORT: _normalize_passport,
    IdentityKind.VIN: _normalize_vin,
}


def normalize(kind: str, value: str) -> str:
    """The canonical form of `value` as an identity of `kind`; raises `InvalidIdentity`."""
    normalizer = _NORMALIZERS.get(kind)
    if normalizer is None:
        known = ", ".join(_NORMALIZERS)
        raise InvalidIdentity(str(kind), f"unknown identity kind {kind!r}: expected one of {known}")
    if not isinstance(value, str):
        raise InvalidIdentity(str(kind), f"value must be a string, got {type(value).__name__}")
    return normalizer(value)


def parse_key(key: bytes | str) -> bytes:
    """`K_assoc` as 32 raw bytes, accepted as bytes or as 64 hex characters."""
    if isinstance(key, str):
        try:
            raw = bytes.fromhex(key.strip())
        except ValueError:
            raise ValueError("hashing key must be 64 hex characters (32 bytes)") from None
    else:
        raw = bytes(key)
    if len(raw) != 32:
        raise ValueError(f"hashing key must be 32 bytes (64 hex characters), got {len(raw)} bytes")
    return raw


def token(kind: str, value: str, key: bytes | str) -> str:
    """The 64-hex `brs1` token of an identity: what the registry knows the borrower by."""
    normalized = normalize(kind, value)
    message = f"{SPEC}|{kind}|{normalized}".encode()
    return hmac.new(parse_key(key), message, hashlib.sha256).hexdigest()


def is_token(value: object) -> bool:
    """Whether `value` has the shape of a token (64 hex), as opposed to, say, a raw identity."""
    return isinstance(value, str) and _TOKEN.fullmatch(value) is not None
