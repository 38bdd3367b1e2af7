"""The subject report as a page for the borrower: Chinese when Accept-Language prefers zh,
English otherwise, words for every code (statuses, products, purposes, dispute states), and
everything escaped; the word tables cover every code of the record contract."""

# The words hold en dashes on purpose, as ranges are written.
# ruff: noqa: RUF001

import re

import pytest

from registry.core import labels
from registry.core.labels import language_for
from registry.disputes.schemas import Reason, Resolution
from registry.exposure.schemas import Purpose
from registry.records.vocabulary import Arrangement, CollectionStage, Product, Status, SubjectType

HTML = "text/html"
CODES = re.compile(r"\b(dpd_\w+|consumer_loan|auto_loan|loan_application|account_review|wrong_amount|individual)\b")


async def page(http, registry, fixture, language):
    headers = {**registry.admin.headers, "Accept": HTML}
    if language is not None:
        headers["Accept-Language"] = language
    r = await http.post("/admin/subject-report", json={"subject": fixture["subject"]}, headers=headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), r.text
    return r


async def test_chinese_when_the_borrower_reads_chinese(http, registry, fixture):
    r = await page(http, registry, fixture, "zh-CN,zh;q=0.9,en;q=0.8")
    assert r.headers["content-language"] == "zh"
    text = r.text
    assert '<html lang="zh-CN">' in text and "借款人登记系统所存您的信息" in text
    for words in (
        "逾期31–60天",
        "消费贷款",
        "汽车贷款",
        "贷款审批",
        "贷后管理",
        "金额有误",
        "处理中",
        "个人",
        "未催收",
    ):
        assert words in text, words
    assert "<th>账户状态</th>" in text and "<th>Status</th>" not in text
    assert CODES.search(text) is None, CODES.search(text)
    rows = await registry.audit_rows(action="admin.subject_report", request_id=r.headers["x-request-id"])
    assert [(row["details"]["format"], row["details"]["language"]) for row in rows] == [(HTML, "zh")]


@pytest.mark.parametrize("language", [None, "en-GB,en;q=0.9", "fr-FR,fr;q=0.9", "en;q=0.9,zh;q=0.2"])
async def test_english_otherwise(http, registry, fixture, language):
    r = await page(http, registry, fixture, language)
    text = r.text
    assert r.headers["content-language"] == "en" and '<html lang="en">' in text
    for words in ("31–60 days past due", "Consumer loan", "Auto loan", "Loan application", "Account review"):
        assert words in text, words
    assert "Wrong amount" in text and "Being handled" in text
    assert CODES.search(text) is None, CODES.search(text)


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_both_languages_escape_everything(http, registry, fixture, language):
    text = (await page(http, registry, fixture, language)).text
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in text
    assert "<b>wrong</b>" not in text and "&lt;b&gt;wrong&lt;/b&gt;" in text
    assert text.count("<tr>") == 1 + 3 + 1 + 2


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh", "zh"),
        ("zh-TW", "zh"),
        ("ZH-cn;q=1", "zh"),
        ("en-US,zh;q=0.8", "en"),
        ("fr;q=1,zh;q=0.5", "zh"),
        ("zh;q=0,en", "en"),
        ("de", "en"),
        ("", "en"),
        (None, "en"),
        ("zh;q=abc", "en"),
    ],
)
def test_language_for(header, expected):
    assert language_for(header) == expected


@pytest.mark.parametrize(
    ("words", "codes"),
    [
        (labels.STATUS, Status),
        (labels.PRODUCT, Product),
        (labels.COLLECTION_STAGE, CollectionStage),
        (labels.ARRANGEMENT, Arrangement),
        (labels.SUBJECT_TYPE, SubjectType),
        (labels.PURPOSE, Purpose),
        (labels.DISPUTE_REASON, Reason),
        (labels.DISPUTE_RESOLUTION, Resolution),
    ],
)
def test_every_code_has_words_in_both_languages(words, codes):
    assert set(words) == {c.value for c in codes}
    for zh, en in words.values():
        assert zh and en and zh != en
