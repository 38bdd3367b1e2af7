"""Collection outcomes on the record (issue 14): branch, last collection action, recovered
amount, arrangement; and the one rule of "uncollected", at each of its boundaries, in the
record, the exposure answer, the statistics and uploads."""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from registry.records import rules
from tests.factories import item, submit, token

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
AS_OF = date(2026, 10, 31)


def delinquent(subject: str, ref: str, *, days: int, **fields):
    """A dpd_31_60 account delinquent `days` days on its as_of (2026-10-31)."""
    since = AS_OF - timedelta(days=days)
    return item(
        subject,
        ref,
        status="dpd_31_60",
        overdue_amount="500",
        delinquent_since=since.isoformat(),
        notice_sent_on=since.isoformat(),
        opened_on="2024-01-10",
        as_of=AS_OF.isoformat(),
        **fields,
    )


async def stored(http, member, ref):
    listed = (await http.get("/v1/records", params={"limit": 500}, headers=member.headers)).json()["data"]
    return next(r for r in listed if r["account_ref"] == ref)


@pytest.fixture
async def lender(registry, clock):
    clock.set(NOW)
    return await registry.member()


async def test_the_rule_at_each_of_its_boundaries(http, lender):
    s = token()
    cases = {
        # 30 days delinquent on its as_of is not yet "more than 30 days"; 31 is.
        "D30": (delinquent(s, "D30", days=30), False),
        "D31": (delinquent(s, "D31", days=31), True),
        # A collection action on as_of - 30 falls in the window; one a day earlier does not.
        "ACT30": (
            delinquent(s, "ACT30", days=60, last_collection_action_on=(AS_OF - timedelta(days=30)).isoformat()),
            False,
        ),
        "ACT31": (
            delinquent(s, "ACT31", days=60, last_collection_action_on=(AS_OF - timedelta(days=31)).isoformat()),
            True,
        ),
        "ACT0": (delinquent(s, "ACT0", days=60, last_collection_action_on=AS_OF.isoformat()), False),
        # Each hardship arrangement takes the account out; none leaves it in.
        "NONE": (delinquent(s, "NONE", days=60, arrangement="none"), True),
        "PLAN": (delinquent(s, "PLAN", days=60, arrangement="payment_plan"), False),
        "EXT": (delinquent(s, "EXT", days=60, arrangement="extension"), False),
        "RESTR": (delinquent(s, "RESTR", days=60, arrangement="restructure"), False),
        # collection_stage describes the method; it no longer decides by itself.
        "STAGE": (delinquent(s, "STAGE", days=60, collection_stage="legal_action"), True),
        # Only delinquencies can be uncollected.
        "CURRENT": (item(s, "CURRENT", as_of=AS_OF.isoformat()), False),
        "WOFF": (
            item(
                s,
                "WOFF",
                status="written_off",
                overdue_amount="10",
                delinquent_since="2025-01-01",
                notice_sent_on="2025-01-05",
                as_of=AS_OF.isoformat(),
            ),
            True,
        ),
    }
    r = await submit(http, lender, *[c[0] for c in cases.values()])
    assert r.status_code == 200 and r.json()["summary"]["created"] == len(cases), r.text
    for ref, (_, expected) in cases.items():
        assert (await stored(http, lender, ref))["uncollected"] is expected, ref


async def test_the_fields_are_stored_and_read_back(http, lender):
    s = token()
    r = await submit(
        http,
        lender,
        delinquent(
            s,
            "F-1",
            days=45,
            branch_code="SH-PUDONG.03",
            last_collection_action_on="2026-10-01",
            recovered_amount="1234.5",
            arrangement="extension",
        ),
    )
    assert r.json()["summary"]["created"] == 1, r.text
    record = await stored(http, lender, "F-1")
    assert (
        record["branch_code"],
        record["last_collection_action_on"],
        record["recovered_amount"],
        record["arrangement"],
        record["uncollected"],
    ) == ("SH-PUDONG.03", "2026-10-01", "1234.50", "extension", False)
    detail = (await http.get(f"/v1/records/{record['id']}", headers=lender.headers)).json()
    assert detail["recovered_amount"] == "1234.50"
    # Without them: no branch, no action, nothing recovered, no arrangement.
    await submit(http, lender, item(s, "F-2"))
    plain = await stored(http, lender, "F-2")
    assert (
        plain["branch_code"],
        plain["last_collection_action_on"],
        plain["recovered_amount"],
        plain["arrangement"],
    ) == (None, None, "0.00", "none")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"branch_code": ""}, "branch_code"),
        ({"branch_code": "x" * 33}, "branch_code"),
        ({"branch_code": "SH PUDONG"}, "branch_code"),
        ({"branch_code": "支行"}, "branch_code"),
        ({"last_collection_action_on": "2026-08-01"}, "last_collection_action_on"),  # before the delinquency began
        ({"last_collection_action_on": "2026-11-01"}, "last_collection_action_on"),  # after as_of
        ({"recovered_amount": "-1"}, "recovered_amount"),
        ({"recovered_amount": "1.234"}, "recovered_amount"),
        ({"recovered_amount": "1E+40"}, "recovered_amount"),
        ({"arrangement": "forgiven"}, "arrangement"),
        ({"last_collection_action_on": "1899-12-31"}, "last_collection_action_on"),
    ],
)
async def test_each_broken_rule_rejects_the_item_alone_naming_the_field(http, lender, fields, field):
    s = token()
    r = await submit(http, lender, delinquent(s, "BAD", days=45, **fields), item(s, "GOOD"))
    assert r.status_code == 200, r.text
    bad, good = r.json()["results"]
    assert bad["outcome"] == "rejected" and good["outcome"] == "created"
    assert field in [e["field"] for e in bad["errors"]], bad


async def test_an_old_report_without_the_fields_stays_unchanged(http, lender):
    """Lines reported before the fields existed keep their content hash: a monthly file that
    does not carry them comes back `unchanged`, not `updated`."""
    s = token()
    line = delinquent(s, "OLD-1", days=40)
    assert (await submit(http, lender, line)).json()["summary"]["created"] == 1
    assert (await submit(http, lender, line)).json()["summary"]["unchanged"] == 1
    again = {**line, "recovered_amount": "0", "arrangement": "none"}  # the defaults, said aloud
    assert (await submit(http, lender, again)).json()["summary"]["unchanged"] == 1
    changed = {**line, "last_collection_action_on": "2026-10-15"}
    assert (await submit(http, lender, changed)).json()["summary"]["updated"] == 1
    assert (await stored(http, lender, "OLD-1"))["uncollected"] is False


async def test_exposure_counts_uncollected_and_in_arrangement_accounts_of_others(http, registry, lender):
    asker = await registry.member()
    s = token()
    await submit(
        http,
        lender,
        delinquent(s, "E-1", days=60),
        delinquent(s, "E-2", days=60, arrangement="payment_plan"),
        delinquent(s, "E-3", days=60, last_collection_action_on="2026-10-20"),
        item(s, "E-4"),
    )
    await submit(http, asker, delinquent(s, "MINE", days=60, arrangement="restructure"))  # own: not counted
    r = await http.post(
        "/v1/exposure",
        headers=asker.headers,
        json={"subjects": [s], "purpose": "loan_application", "consent_ref": "C-1"},
    )
    answer = r.json()["results"][0]
    assert answer["uncollected_delinquent_accounts"] == 1
    assert answer["accounts"]["in_arrangement"] == 1
    assert answer["accounts"]["delinquent"] == 3


async def test_statistics_count_by_the_same_rule(http, registry, lender):
    s = token()
    await submit(
        http,
        lender,
        delinquent(s, "S-1", days=60),
        delinquent(s, "S-2", days=10),
        delinquent(s, "S-3", days=60, arrangement="extension"),
    )
    stats = (await http.get(f"/admin/stats/members/{lender.id}", headers=registry.admin.headers)).json()
    figures = stats["member"]["records"]
    assert (figures["delinquent"], figures["uncollected"]) == (3, 1)


async def test_uploads_carry_the_new_columns(http, lender, tmp_path: Path):
    s = token()
    header = (
        "subject,subject_type,account_ref,product,status,principal_amount,outstanding_amount,overdue_amount,"
        "delinquent_since,notice_sent_on,as_of,branch_code,last_collection_action_on,recovered_amount,arrangement"
    )
    rows = [
        f"{s},individual,U-1,auto_loan,dpd_61_90,100,80,20,2026-08-01,2026-08-05,2026-10-31,BJ-01,2026-10-30,15.5,",
        f"{s},individual,U-2,auto_loan,dpd_61_90,100,80,20,2026-08-01,2026-08-05,2026-10-31,BJ-01,,,payment_plan",
        f"{s},individual,U-3,auto_loan,dpd_61_90,100,80,20,2026-08-01,2026-08-05,2026-10-31,,,,",
        f"{s},individual,U-4,auto_loan,dpd_61_90,100,80,20,2026-08-01,2026-08-05,2026-10-31,bad branch,,,",
    ]
    body = gzip.compress(("\n".join([header, *rows]) + "\n").encode())
    r = await http.post(
        "/v1/uploads", content=body, headers={**lender.headers, "content-type": "text/csv", "content-encoding": "gzip"}
    )
    assert r.status_code == 202 and r.json()["created"] == 3 and r.json()["rejected"] == 1, r.text
    u1, u2, u3 = [await stored(http, lender, ref) for ref in ("U-1", "U-2", "U-3")]
    assert (u1["branch_code"], u1["recovered_amount"], u1["uncollected"]) == ("BJ-01", "15.50", False)
    assert (u2["arrangement"], u2["uncollected"]) == ("payment_plan", False)
    assert (u3["branch_code"], u3["uncollected"]) == (None, True)
    errors = (await http.get(f"/v1/uploads/{r.json()['id']}/errors", headers=lender.headers)).text
    assert '"branch_code"' in errors
    ndjson = (
        f'{{"subject":"{s}","subject_type":"individual","account_ref":"U-5","product":"other",'
        '"status":"current","principal_amount":"1","outstanding_amount":"1","as_of":"2026-10-31",'
        '"branch_code":"GZ-9","recovered_amount":"0"}\n'
    )
    r = await http.post(
        "/v1/uploads", content=ndjson.encode(), headers={**lender.headers, "content-type": "application/x-ndjson"}
    )
    assert r.status_code == 202 and r.json()["created"] == 1, r.text
    assert (await stored(http, lender, "U-5"))["branch_code"] == "GZ-9"


async def test_the_stored_rule_is_the_one_in_the_code(registry):
    """`records.uncollected` is generated from registry/records/rules.UNCOLLECTED: the frozen
    copy in migration 0013 is the same text, and PostgreSQL holds that expression."""
    source = (Path(__file__).parents[2] / "migrations" / "versions" / "0013_collection_outcomes.py").read_text()
    frozen = source.split("UNCOLLECTED = (", 1)[1].split(")\n", 1)[0]
    frozen_text = "".join(part.strip().strip('"') for part in frozen.strip().splitlines())
    assert frozen_text == rules.UNCOLLECTED
    generated = await registry.pool.fetchval(
        "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a "
        "ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
        "WHERE d.adrelid = 'records'::regclass AND a.attname = 'uncollected'"
    )
    for word in ("delinquent_since", "as_of - 30", "'none'", "last_collection_action_on", "written_off"):
        assert word in generated, word
