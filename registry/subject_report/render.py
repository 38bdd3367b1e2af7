"""The subject report as a printable HTML page for handing to the borrower. Every value is
escaped; the page loads nothing and runs no script."""

from __future__ import annotations

from html import escape
from typing import Any

from registry.subject_report.schemas import SubjectReport

CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'"

_STYLE = """
body { font-family: serif; margin: 2em; color: #000; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.5em; }
table { border-collapse: collapse; width: 100%; font-size: 0.85em; }
th, td { border: 1px solid #999; padding: 0.25em 0.4em; text-align: left; vertical-align: top; }
.muted { color: #555; } @media print { body { margin: 0; } }
"""

RECORD_COLUMNS = (
    ("Institution", lambda r: f"{r['institution']['name']} ({r['institution']['code']})"),
    ("Account", lambda r: r["account_ref"]),
    ("Product", lambda r: r["product"]),
    ("Status", lambda r: r["status"]),
    ("Collection", lambda r: r["collection_stage"]),
    ("Outstanding", lambda r: f"{r['outstanding_amount']} {r['currency']}"),
    ("Overdue", lambda r: f"{r['overdue_amount']} {r['currency']}"),
    ("Delinquent since", lambda r: r["delinquent_since"]),
    ("Notice sent", lambda r: r["notice_sent_on"]),
    ("As of", lambda r: r["as_of"]),
    ("Deleted after", lambda r: r["expires_on"]),
    ("Disputed", lambda r: "yes" if r["disputed"] else "no"),
    ("Shown to lenders", lambda r: "no" if r["suppressed"] else "yes"),
    (
        "Your statements",
        lambda r: "; ".join(f"{d['statement']} ({d['resolution'] or d['status']})" for d in r["disputes"]),
    ),
)

PARTY_COLUMNS = (
    ("Institution", lambda r: f"{r['institution']['name']} ({r['institution']['code']})"),
    ("Account", lambda r: r["account_ref"]),
    ("Your role", lambda r: r["role"].replace("_", "-")),
    ("Product", lambda r: r["product"]),
    ("Status", lambda r: r["status"]),
    ("Outstanding", lambda r: f"{r['outstanding_amount']} {r['currency']}"),
    ("Overdue", lambda r: f"{r['overdue_amount']} {r['currency']}"),
    ("As of", lambda r: r["as_of"]),
    ("Shown to lenders", lambda r: "no" if r["link_removed"] else "yes"),
)

INQUIRY_COLUMNS = (
    ("When", lambda i: i["at"]),
    ("Institution", lambda i: f"{i['institution']['name']} ({i['institution']['code']})"),
    ("Purpose", lambda i: i["purpose"]),
    ("Authorization", lambda i: i["consent_ref"]),
)


def _cell(value: Any) -> str:
    return escape("" if value is None else str(value))


def _table(columns: tuple, rows: list[dict[str, Any]], empty: str) -> str:
    if not rows:
        return f'<p class="muted">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(name)}</th>" for name, _ in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(get(row))}</td>" for _, get in columns) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_page(report: SubjectReport) -> str:
    data = report.model_dump(mode="json")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>What the registry holds about you</title>"
        f"<style>{_STYLE}</style></head><body>"
        "<h1>What the borrower registry holds about you</h1>"
        f"<p>Borrower token: <code>{_cell(data['subject'])}</code><br>Prepared: {_cell(data['generated_at'])}</p>"
        f"<h2>Accounts reported by lenders ({len(report.records)})</h2>"
        + _table(RECORD_COLUMNS, data["records"], "No lender reports an account about you.")
        + f"<h2>Accounts you guarantee or share ({len(report.party_records)})</h2>"
        + _table(PARTY_COLUMNS, data["party_records"], "No lender names you as guarantor or co-borrower.")
        + f"<h2>Who looked you up since {_cell(data['inquiries_since'][:10])} ({len(report.inquiries)})</h2>"
        + _table(INQUIRY_COLUMNS, data["inquiries"], "No lender looked you up in this period.")
        + '<p class="muted">Negative information is deleted 5 years after the delinquency ends. To dispute an '
        "entry, contact the association; it must answer within 20 days.</p></body></html>"
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
