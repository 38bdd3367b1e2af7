"""The exposure answer, pinned figure by figure on hand-built data from three members,
with the purpose rules, the inquiries and audit rows it writes, and what it never reveals."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.factories import item, submit, token

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


async def query(http, member, subjects, purpose="loan_application", consent_ref="CONSENT-1"):
    body = {"subjects": subjects, "purpose": purpose}
    if consent_ref is not None:
        body["consent_ref"] = consent_ref
    return await http.post("/v1/exposure", json=body, headers=member.headers)


@pytest.fixture
async def world(http, registry, clock):
    """A (the caller) holds one current account; B and C report the rest; B and C also asked."""
    a, b, c = await registry.member(), await registry.member(), await registry.member()
    s = token()
    clock.set(NOW)
    r = await submit(http, a, item(s, "A-1", product="consumer_loan", outstanding_amount="5000.00"))
    assert r.json()["summary"]["created"] == 1
    clock.set(datetime(2026, 10, 20, 9, 0, tzinfo=UTC))
    # B: one current auto loan, one delinquent auto loan that was worse a month ago.
    await submit(
        http,
        b,
        item(
            s, "B-1", product="auto_loan", principal_amount="120000", outstanding_amount="100000.00", as_of="2026-10-20"
        ),
        item(
            s,
            "B-2",
            product="auto_loan",
            status="dpd_61_90",
            principal_amount="40000",
            outstanding_amount="30000",
            overdue_amount="7000",
            delinquent_since="2026-09-20",
            notice_sent_on="2026-09-25",
            as_of="2026-10-20",
        ),
        # Closed long ago, never delinquent: expired, in no answer.
        item(s, "B-OLD", product="mortgage", opened_on="2015-01-01", closed_on="2020-01-31", as_of="2020-01-31"),
    )
    clock.set(NOW)
    await submit(
        http,
        b,
        item(
            s,
            "B-2",
            product="auto_loan",
            status="dpd_31_60",
            principal_amount="40000",
            outstanding_amount="30000",
            overdue_amount="6200",
            delinquent_since="2026-09-20",
            notice_sent_on="2026-09-25",
            as_of="2026-10-31",
        ),
    )
    # C: one current consumer loan, and one written-off account it withdrew.
    r = await submit(
        http,
        c,
        item(s, "C-1", product="consumer_loan", outstanding_amount="20000.00"),
        item(
            s,
            "C-2",
            product="credit_card",
            status="written_off",
            outstanding_amount="9999",
            overdue_amount="9999",
            delinquent_since="2025-01-01",
            notice_sent_on="2025-01-10",
        ),
    )
    assert r.json()["summary"]["created"] == 2, r.text
    withdrawn_id = r.json()["results"][1]["record_id"]
    assert (await http.delete(f"/v1/records/{withdrawn_id}", headers=c.headers)).status_code == 200
    # Hard inquiries by others: B ten days ago, C sixty days ago; a soft one by B (not counted).
    clock.set(datetime(2026, 11, 18, 12, 0, tzinfo=UTC))
    assert (await query(http, b, [s])).status_code == 200
    assert (await query(http, b, [s], purpose="account_review", consent_ref=None)).status_code == 200
    clock.set(datetime(2026, 9, 29, 12, 0, tzinfo=UTC))
    assert (await query(http, c, [s])).status_code == 200
    clock.set(NOW)
    return {"a": a, "b": b, "c": c, "subject": s}


async def test_every_figure_of_the_contract(http, world):
    s = world["subject"]
    r = await query(http, world["a"], [s.upper()])
    assert r.status_code == 200, r.text
    assert r.json() == {
        "results": [
            {
                "subject": s,
                "found": True,
                "institutions_reporting": 2,
                "institutions_delinquent": 1,
                "accounts": {
                    "total": 3,
                    "delinquent": 1,
                    "by_status": {"current": 2, "dpd_31_60": 1},
                    "by_product": {"auto_loan": 2, "consumer_loan": 1},
                    "in_arrangement": 0,
                },
                "worst_status": "dpd_31_60",
                "worst_status_24m": "dpd_61_90",
                "overdue_amounts": {"CNY": "6200.00"},
                "outstanding_amounts": {"CNY": "150000.00"},
                "latest_delinquent_since": "2026-09-20",
                "uncollected_delinquent_accounts": 1,
                "disputed": False,
                "hard_inquiries": {"last_30d": 1, "last_90d": 2, "institutions_30d": 1, "institutions_90d": 2},
                "own": {"accounts": 1, "delinquent": 0, "worst_status": "current"},
                "contingent": {
                    "accounts": 0,
                    "delinquent": 0,
                    "worst_status": None,
                    "outstanding_amounts": {},
                    "overdue_amounts": {},
                    "by_role": {},
                },
            }
        ]
    }


async def test_the_same_subject_from_a_reporters_side(http, world):
    """B sees A and C as the others, and its own accounts apart."""
    body = (await query(http, world["b"], [world["subject"]])).json()["results"][0]
    assert body["institutions_reporting"] == 2 and body["institutions_delinquent"] == 0
    assert body["accounts"] == {
        "total": 2,
        "delinquent": 0,
        "by_status": {"current": 2},
        "by_product": {"consumer_loan": 2},
        "in_arrangement": 0,
    }
    assert body["own"] == {"accounts": 2, "delinquent": 1, "worst_status": "dpd_31_60"}
    assert body["worst_status_24m"] == "current" and body["uncollected_delinquent_accounts"] == 0
    # C's hard inquiry counts for B; B's own do not.
    assert body["hard_inquiries"] == {"last_30d": 0, "last_90d": 1, "institutions_30d": 0, "institutions_90d": 1}


async def test_collection_action_removes_an_account_from_uncollected(http, world, clock):
    s = world["subject"]
    await submit(
        http,
        world["b"],
        item(
            s,
            "B-2",
            product="auto_loan",
            status="dpd_31_60",
            collection_stage="reminder",
            principal_amount="40000",
            outstanding_amount="30000",
            overdue_amount="6200",
            delinquent_since="2026-09-20",
            notice_sent_on="2026-09-25",
            last_collection_action_on="2026-11-10",
            as_of="2026-11-20",
        ),
    )
    body = (await query(http, world["a"], [s])).json()["results"][0]
    assert body["uncollected_delinquent_accounts"] == 0 and body["worst_status"] == "dpd_31_60"


async def test_unknown_subjects_answer_found_false_with_zeros(http, world):
    unknown = token()
    body = (await query(http, world["a"], [unknown, world["subject"]])).json()["results"]
    assert [x["subject"] for x in body] == [unknown, world["subject"]]
    assert body[0] == {
        "subject": unknown,
        "found": False,
        "institutions_reporting": 0,
        "institutions_delinquent": 0,
        "accounts": {"total": 0, "delinquent": 0, "by_status": {}, "by_product": {}, "in_arrangement": 0},
        "worst_status": None,
        "worst_status_24m": None,
        "overdue_amounts": {},
        "outstanding_amounts": {},
        "latest_delinquent_since": None,
        "uncollected_delinquent_accounts": 0,
        "disputed": False,
        "hard_inquiries": {"last_30d": 0, "last_90d": 0, "institutions_30d": 0, "institutions_90d": 0},
        "own": {"accounts": 0, "delinquent": 0, "worst_status": None},
        "contingent": {
            "accounts": 0,
            "delinquent": 0,
            "worst_status": None,
            "outstanding_amounts": {},
            "overdue_amounts": {},
            "by_role": {},
        },
    }


async def test_a_subject_only_the_caller_reports_is_not_found(http, registry):
    a = await registry.member()
    s = token()
    await submit(http, a, item(s, status="dpd_1_30"))
    body = (await query(http, a, [s])).json()["results"][0]
    assert body["found"] is False and body["own"] == {"accounts": 1, "delinquent": 1, "worst_status": "dpd_1_30"}


async def test_amounts_are_summed_per_currency(http, registry):
    a, b = await registry.member(), await registry.member()
    s = token()
    await submit(
        http,
        b,
        item(s, "U-1", currency="USD", outstanding_amount="100.10", overdue_amount="0.05", status="dpd_1_30"),
        item(s, "U-2", currency="USD", outstanding_amount="1.90", overdue_amount="0.95", status="dpd_1_30"),
        item(s, "J-1", currency="JPY", principal_amount="100000", outstanding_amount="50000", overdue_amount="0"),
    )
    body = (await query(http, a, [s])).json()["results"][0]
    assert body["overdue_amounts"] == {"JPY": "0", "USD": "1.00"}
    assert body["outstanding_amounts"] == {"JPY": "50000", "USD": "102.00"}


async def test_inquiries_and_audit_are_written(http, world, registry):
    a, s = world["a"], world["subject"]
    other = token()
    r = await query(http, a, [s, other], consent_ref="CONSENT-XYZ")
    rows = await registry.pool.fetch(
        "SELECT purpose, hard, consent_ref, at FROM inquiries WHERE member_id = $1 ORDER BY id", a.id
    )
    assert [(x["purpose"], x["hard"], x["consent_ref"]) for x in rows] == [
        ("loan_application", True, "CONSENT-XYZ")
    ] * 2
    assert all(x["at"] == datetime(2026, 11, 28, 12, 0, tzinfo=UTC) for x in rows)
    audit = await registry.audit_rows(request_id=r.headers["x-request-id"])
    assert len(audit) == 1
    assert audit[0]["action"] == "exposure.query" and audit[0]["outcome"] == 200 and audit[0]["member_id"] == a.id
    assert audit[0]["details"] == {
        "purpose": "loan_application",
        "consent_ref": "CONSENT-XYZ",
        "subjects": 2,
        "refused_subjects": 0,
    }
    assert s not in str(dict(audit[0]))


async def test_soft_purposes_need_an_own_record_for_every_subject(http, world, registry):
    a, s = world["a"], world["subject"]
    stranger = token()
    for purpose in ("account_review", "collection", "dispute_investigation"):
        consent = "CONSENT-DISPUTE" if purpose == "dispute_investigation" else None
        before = await registry.pool.fetchval("SELECT count(*) FROM inquiries WHERE member_id = $1", a.id)
        r = await query(http, a, [s, stranger], purpose=purpose, consent_ref=consent)
        assert r.status_code == 403, r.text
        assert [e["message"] for e in r.json()["errors"]] == [f"no record of yours: {stranger}"]
        assert await registry.pool.fetchval("SELECT count(*) FROM inquiries WHERE member_id = $1", a.id) == before
        audit = await registry.audit_rows(request_id=r.headers["x-request-id"])
        assert [(x["action"], x["outcome"]) for x in audit] == [("exposure.query", 403)]
        ok = await query(http, a, [s], purpose=purpose, consent_ref=consent)
        assert ok.status_code == 200
    soft = await registry.pool.fetch(
        "SELECT hard FROM inquiries WHERE member_id = $1 AND purpose <> 'loan_application'", a.id
    )
    assert len(soft) == 3 and not any(x["hard"] for x in soft)


async def test_dispute_investigation_needs_the_borrowers_consent(http, world, registry):
    """An open dispute used to unlock this purpose without consent or relationship."""
    a, s = world["a"], world["subject"]
    before = await registry.pool.fetchval("SELECT count(*) FROM inquiries WHERE member_id = $1", a.id)
    r = await query(http, a, [s], purpose="dispute_investigation", consent_ref=None)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["consent_ref"]
    assert await registry.pool.fetchval("SELECT count(*) FROM inquiries WHERE member_id = $1", a.id) == before


async def test_soft_inquiries_do_not_count_as_hard(http, world):
    """B's account_review in the fixture is not among A's hard inquiries (pinned above);
    and A's own queries never count for A."""
    s = world["subject"]
    for _ in range(2):
        await query(http, world["a"], [s])
    body = (await query(http, world["a"], [s])).json()["results"][0]
    assert body["hard_inquiries"]["last_30d"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {"subjects": [], "purpose": "loan_application", "consent_ref": "c"},
        {"subjects": ["abc"], "purpose": "loan_application", "consent_ref": "c"},
        {"subjects": ["a" * 64, "A" * 64], "purpose": "loan_application", "consent_ref": "c"},
        {"subjects": ["a" * 64], "purpose": "curiosity", "consent_ref": "c"},
        {"subjects": ["a" * 64], "purpose": "loan_application"},
        {"subjects": ["a" * 64], "purpose": "loan_application", "consent_ref": ""},
        {"subjects": ["a" * 64], "purpose": "loan_application", "consent_ref": "x" * 129},
        {"subjects": [f"{i:064x}" for i in range(1001)], "purpose": "loan_application", "consent_ref": "c"},
        {"subjects": ["a" * 64], "purpose": "loan_application", "consent_ref": "c", "extra": True},
    ],
)
async def test_invalid_queries_are_422_record_nothing_and_are_audited(http, registry, body):
    a = await registry.member()
    r = await http.post("/v1/exposure", json=body, headers=a.headers)
    assert r.status_code == 422, r.text
    assert await registry.pool.fetchval("SELECT count(*) FROM inquiries WHERE member_id = $1", a.id) == 0
    audit = await registry.audit_rows(request_id=r.headers["x-request-id"])
    assert [(x["action"], x["outcome"]) for x in audit] == [("exposure.query", 422)]


async def test_the_answer_reveals_no_other_institution(http, world):
    """Nothing in B's view names A or C or their accounts: only counts and sums."""
    r = await query(http, world["b"], [world["subject"]])
    text = r.text
    for member in (world["a"], world["c"]):
        for secret in (str(member.id), member.code, member.name, member.client.client_id):
            assert secret not in text
    for ref in ("A-1", "C-1", "C-2"):
        assert ref not in text
    assert set(r.json()["results"][0]) == {
        "subject",
        "found",
        "institutions_reporting",
        "institutions_delinquent",
        "accounts",
        "worst_status",
        "worst_status_24m",
        "overdue_amounts",
        "outstanding_amounts",
        "latest_delinquent_since",
        "uncollected_delinquent_accounts",
        "disputed",
        "hard_inquiries",
        "own",
        "contingent",
    }


async def test_other_member_cannot_read_the_records_behind_the_aggregate(http, world):
    b_records = (await http.get("/v1/records", params={"subject": world["subject"]}, headers=world["b"].headers)).json()
    assert sorted(x["account_ref"] for x in b_records["data"]) == ["B-1", "B-2"]
    a_records = (await http.get("/v1/records", params={"subject": world["subject"]}, headers=world["a"].headers)).json()
    assert [x["account_ref"] for x in a_records["data"]] == ["A-1"]


async def test_exposure_needs_its_scope(http, registry):
    m = await registry.member(scopes=["records:write"])
    r = await query(http, m, [token()])
    assert r.status_code == 403
    audit = await registry.audit_rows(request_id=r.headers["x-request-id"])
    assert [(x["action"], x["outcome"]) for x in audit] == [("exposure.query", 403)]


async def test_the_exposure_statement_is_planned_once_per_connection(registry):
    """A SQL-language function is planned on every call (about 2 ms, against 0.3 ms of work
    for one subject); migration 0010 runs the same statement from PL/pgSQL on a generic
    plan each connection keeps. The figures above pin that the answers did not change."""
    function = await registry.pool.fetchrow(
        "SELECT l.lanname, p.proconfig, p.prosrc FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
        "WHERE p.proname = 'registry_exposure'"
    )
    assert function["lanname"] == "plpgsql"
    assert "plan_cache_mode=force_generic_plan" in function["proconfig"]
    assert FROZEN.read_text().rstrip().rstrip(";") in function["prosrc"]


FROZEN = Path(__file__).parents[2] / "migrations" / "sql" / "registry_exposure_v4.sql"


def test_the_frozen_statement_is_the_composed_one():
    """registry/exposure/statement.py composes the statement from the rules each domain owns;
    the copy migration 0011 installed must be exactly that composition."""
    from registry.exposure.statement import STATEMENT

    frozen = "\n".join(
        line
        for line in FROZEN.read_text().splitlines()
        if not line.startswith("-- registry_exposure") and not line.startswith("-- A change is")
    )
    assert frozen.strip() == STATEMENT.strip()


def test_the_statement_is_composed_from_the_domains_rules():
    """Each rule appears as its owner writes it, not as a copy."""
    from registry.audit import auditor as audit_sql
    from registry.audit.actions import AuditAction
    from registry.disputes import rules as dispute_rules
    from registry.exposure.statement import STATEMENT
    from registry.records import rules as record_rules

    for fragment in (
        record_rules.held("r", "$7"),
        record_rules.uncollected("o"),
        record_rules.delinquent("o"),
        dispute_rules.answered("h", "$6"),
        f"INSERT INTO audit_log ({audit_sql.COLUMNS})",
        f"'{AuditAction.EXPOSURE_QUERY.value}'",
    ):
        assert fragment in STATEMENT, fragment
    assert ">= 3" not in STATEMENT.replace(record_rules.delinquent("o"), "")
