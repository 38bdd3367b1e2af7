"""Every code the console shows has words in both languages: statuses, products, kinds,
stages, scopes, dispute vocabulary, roles and audit actions."""

from __future__ import annotations

from enum import StrEnum

import pytest

from registry.audit.actions import AuditAction
from registry.auth.principal import Scope
from registry.console.labels import CODES, choose
from registry.console.staff import Role
from registry.disputes.schemas import DisputeOutcome, DisputeStatus, Reason, Resolution, ResponseAction
from registry.members.schemas import MemberKind, MemberStatus
from registry.records.vocabulary import CollectionStage, Product, Status

GROUPS: list[tuple[str, type[StrEnum]]] = [
    ("status", Status),
    ("product", Product),
    ("collection", CollectionStage),
    ("kind", MemberKind),
    ("member_status", MemberStatus),
    ("scope", Scope),
    ("dispute_status", DisputeStatus),
    ("reason", Reason),
    ("resolution", Resolution),
    ("response", ResponseAction),
    ("outcome", DisputeOutcome),
    ("role", Role),
    ("action", AuditAction),
]


@pytest.mark.parametrize(("group", "codes"), GROUPS)
def test_every_code_has_english_and_chinese_words(group, codes):
    for code in codes:
        english, chinese = CODES[f"{group}.{code.value}"]
        assert english.strip() and chinese.strip() and chinese != english, code


def test_the_language_follows_accept_language_unless_switched():
    assert choose("zh-CN,zh;q=0.9,en;q=0.8", None) == "zh"
    assert choose("en-GB,en;q=0.9", None) == "en"
    assert choose("fr-FR", None) == "en"
    assert choose("en-US", "zh") == "zh"
