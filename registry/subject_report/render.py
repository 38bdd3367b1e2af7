"""The subject report as a printable HTML page for handing to the borrower, in Chinese or
English (registry/core/labels.py), with words for every code. Every value is escaped; the page
loads nothing and runs no script."""

# Chinese sentences use Chinese punctuation.
# ruff: noqa: RUF001

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

from registry.core import labels
from registry.core.labels import Language, word, yes_no
from registry.subject_report.schemas import SubjectReport

CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'"

_STYLE = """
body { font-family: serif; margin: 2em; color: #000; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.5em; }
table { border-collapse: collapse; width: 100%; font-size: 0.85em; }
th, td { border: 1px solid #999; padding: 0.25em 0.4em; text-align: left; vertical-align: top; }
.muted { color: #555; } @media print { body { margin: 0; } }
"""

# The page's own sentences, by language (the codes' words are in registry/core/labels.py).
TEXT: dict[Language, dict[str, str]] = {
    "zh": {
        "html_lang": "zh-CN",
        "title": "借款人登记系统所存您的信息",
        "heading": "借款人登记系统所存您的信息",
        "token": "借款人标识",
        "prepared": "生成时间",
        "records": "贷款机构报送的账户",
        "no_records": "没有贷款机构报送关于您的账户。",
        "parties": "您作为担保人或共同借款人的账户",
        "no_parties": "没有贷款机构将您列为担保人或共同借款人。",
        "Your role": "您的角色",
        "inquiries": "自{since}起查询过您的机构",
        "no_inquiries": "此期间没有机构查询过您。",
        "footer": "负面信息在逾期结束5年后删除。如对任何内容有异议，请联系协会；协会须在20天内答复。",
        "Institution": "机构",
        "Account": "账户",
        "Type": "主体类型",
        "Product": "业务种类",
        "Status": "账户状态",
        "Collection": "催收情况",
        "Arrangement": "困难还款安排",
        "Outstanding": "未偿余额",
        "Overdue": "逾期金额",
        "Delinquent since": "逾期起始日",
        "Notice sent": "告知日期",
        "As of": "数据日期",
        "Deleted after": "删除日期",
        "Disputed": "存在异议",
        "Shown to lenders": "向机构展示",
        "Your statements": "您的异议陈述",
        "When": "时间",
        "Purpose": "查询原因",
        "Authorization": "授权编号",
    },
    "en": {
        "html_lang": "en",
        "title": "What the registry holds about you",
        "heading": "What the borrower registry holds about you",
        "token": "Borrower token",
        "prepared": "Prepared",
        "records": "Accounts reported by lenders",
        "no_records": "No lender reports an account about you.",
        "parties": "Accounts you guarantee or share",
        "no_parties": "No lender names you as guarantor or co-borrower.",
        "inquiries": "Who looked you up since {since}",
        "no_inquiries": "No lender looked you up in this period.",
        "footer": "Negative information is deleted 5 years after the delinquency ends. To dispute an entry, contact "
        "the association; it must answer within 20 days.",
    },
}

Column = tuple[str, Callable[[dict[str, Any], Language], str | None]]


def _institution(row: dict[str, Any], _: Language) -> str:
    return f"{row['institution']['name']} ({row['institution']['code']})"


def _statement(dispute: dict[str, Any], language: Language) -> str:
    reason = word(labels.DISPUTE_REASON, dispute["reason"], language)
    if dispute["resolution"] is not None:
        state = word(labels.DISPUTE_RESOLUTION, dispute["resolution"], language)
    else:
        state = word(labels.DISPUTE_STATUS, dispute["status"], language)
    return f"{dispute['statement']} ({reason}, {state})"


def _statements(record: dict[str, Any], language: Language) -> str:
    return "; ".join(_statement(d, language) for d in record["disputes"])


RECORD_COLUMNS: tuple[Column, ...] = (
    ("Institution", _institution),
    ("Account", lambda r, _: r["account_ref"]),
    ("Type", lambda r, lang: word(labels.SUBJECT_TYPE, r["subject_type"], lang)),
    ("Product", lambda r, lang: word(labels.PRODUCT, r["product"], lang)),
    ("Status", lambda r, lang: word(labels.STATUS, r["status"], lang)),
    ("Collection", lambda r, lang: word(labels.COLLECTION_STAGE, r["collection_stage"], lang)),
    ("Arrangement", lambda r, lang: word(labels.ARRANGEMENT, r["arrangement"], lang)),
    ("Outstanding", lambda r, _: f"{r['outstanding_amount']} {r['currency']}"),
    ("Overdue", lambda r, _: f"{r['overdue_amount']} {r['currency']}"),
    ("Delinquent since", lambda r, _: r["delinquent_since"]),
    ("Notice sent", lambda r, _: r["notice_sent_on"]),
    ("As of", lambda r, _: r["as_of"]),
    ("Deleted after", lambda r, _: r["expires_on"]),
    ("Disputed", lambda r, lang: yes_no(r["disputed"], lang)),
    ("Shown to lenders", lambda r, lang: yes_no(not r["suppressed"], lang)),
    ("Your statements", _statements),
)

PARTY_COLUMNS: tuple[Column, ...] = (
    ("Institution", _institution),
    ("Account", lambda r, _: r["account_ref"]),
    ("Your role", lambda r, lang: word(labels.PARTY_ROLE, r["role"], lang)),
    ("Product", lambda r, lang: word(labels.PRODUCT, r["product"], lang)),
    ("Status", lambda r, lang: word(labels.STATUS, r["status"], lang)),
    ("Outstanding", lambda r, _: f"{r['outstanding_amount']} {r['currency']}"),
    ("Overdue", lambda r, _: f"{r['overdue_amount']} {r['currency']}"),
    ("As of", lambda r, _: r["as_of"]),
    ("Shown to lenders", lambda r, lang: yes_no(not r["link_removed"], lang)),
)

INQUIRY_COLUMNS: tuple[Column, ...] = (
    ("When", lambda i, _: i["at"]),
    ("Institution", _institution),
    ("Purpose", lambda i, lang: word(labels.PURPOSE, i["purpose"], lang)),
    ("Authorization", lambda i, _: i["consent_ref"]),
)


def _cell(value: Any) -> str:
    return escape("" if value is None else str(value))


def _table(columns: tuple[Column, ...], rows: list[dict[str, Any]], empty: str, language: Language) -> str:
    if not rows:
        return f'<p class="muted">{escape(empty)}</p>'
    text = TEXT[language]
    head = "".join(f"<th>{escape(text.get(name, name))}</th>" for name, _ in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(get(row, language))}</td>" for _, get in columns) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_page(report: SubjectReport, language: Language = labels.DEFAULT_LANGUAGE) -> str:
    data = report.model_dump(mode="json")
    text = TEXT[language]
    since = data["inquiries_since"][:10]
    return (
        f'<!DOCTYPE html><html lang="{text["html_lang"]}"><head><meta charset="utf-8">'
        f"<title>{escape(text['title'])}</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>{escape(text['heading'])}</h1>"
        f"<p>{escape(text['token'])}: <code>{_cell(data['subject'])}</code><br>"
        f"{escape(text['prepared'])}: {_cell(data['generated_at'])}</p>"
        f"<h2>{escape(text['records'])} ({len(report.records)})</h2>"
        + _table(RECORD_COLUMNS, data["records"], text["no_records"], language)
        + f"<h2>{escape(text['parties'])} ({len(report.party_records)})</h2>"
        + _table(PARTY_COLUMNS, data["party_records"], text["no_parties"], language)
        + f"<h2>{escape(text['inquiries'].format(since=since))} ({len(report.inquiries)})</h2>"
        + _table(INQUIRY_COLUMNS, data["inquiries"], text["no_inquiries"], language)
        + f'<p class="muted">{escape(text["footer"])}</p></body></html>'
    )


NDJSON = "application/x-ndjson"
HTML = "text/html"


def media_type_for(accept: str | None) -> str:
    """NDJSON or HTML when the client asks for it (NDJSON first: it is asked for only on
    purpose, while browsers list HTML among many); JSON otherwise."""
    accept = (accept or "").lower()
    if NDJSON in accept:
        return NDJSON
    if HTML in accept:
        return HTML
    return "application/json"
