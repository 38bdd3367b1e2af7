"""Vehicle checks (POST /v1/collateral/exposure): counts of other institutions' live accounts
on a vehicle, the caller's own apart, never which institution; the purpose rules, quota and
audit of borrower exposure; one call of a function whose body is the composed statement."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.collateral.support import pledged, vehicle
from tests.factories import submit, token


async def check(http, member, vehicles, purpose="loan_application", consent_ref="CONSENT-V"):
    body = {"vehicles": vehicles, "purpose": purpose}
    if consent_ref is not None:
        body["consent_ref"] = consent_ref
    return await http.post("/v1/collateral/exposure", json=body, headers=member.headers)


async def test_a_vehicle_pledged_at_two_other_members(http, registry):
    asker, b, c = await registry.member(), await registry.member(), await registry.member()
    car, clean, paid_off = vehicle(), vehicle(), vehicle()
    await submit(http, b, pledged(token(), "B-CAR", car, opened_on="2025-03-01", status="dpd_31_60"))
    await submit(http, c, pledged(token(), "C-CAR", car, opened_on="2025-06-01"))
    await submit(http, asker, pledged(token(), "MINE", car))
    closed = {"status": "settled", "closed_on": "2026-09-30", "outstanding_amount": "0"}
    await submit(http, b, pledged(token(), "B-PAID", paid_off, **closed))

    r = await check(http, asker, [car.upper(), clean, paid_off])
    assert r.status_code == 200, r.text
    assert r.json() == {
        "results": [
            {
                "vehicle": car,
                "found": True,
                "live_accounts_elsewhere": 2,
                "institutions_elsewhere": 2,
                "delinquent_elsewhere": 1,
                "latest_opened_on": "2025-06-01",
                "own": {"accounts": 1},
            },
            {
                "vehicle": clean,
                "found": False,
                "live_accounts_elsewhere": 0,
                "institutions_elsewhere": 0,
                "delinquent_elsewhere": 0,
                "latest_opened_on": None,
                "own": {"accounts": 0},
            },
            {
                "vehicle": paid_off,
                "found": True,
                "live_accounts_elsewhere": 0,
                "institutions_elsewhere": 0,
                "delinquent_elsewhere": 0,
                "latest_opened_on": None,
                "own": {"accounts": 0},
            },
        ]
    }
    for member in (b, c):
        for secret in (str(member.id), member.code, member.name, "B-CAR", "C-CAR"):
            assert secret not in r.text

    audit = await registry.audit_rows(request_id=r.headers["x-request-id"])
    assert [(x["action"], x["outcome"], x["member_id"]) for x in audit] == [
        ("collateral.exposure.query", 200, asker.id)
    ]
    assert audit[0]["details"] == {
        "purpose": "loan_application",
        "consent_ref": "CONSENT-V",
        "vehicles": 3,
        "refused_vehicles": 0,
    }
    # A vehicle check is no borrower inquiry.
    assert await registry.pool.fetchval("SELECT count(*) FROM inquiries WHERE member_id = $1", asker.id) == 0


async def test_other_purposes_need_an_own_account_on_every_vehicle(http, registry):
    member, other = await registry.member(), await registry.member()
    mine, theirs = vehicle(), vehicle()
    await submit(http, member, pledged(token(), "OWN-CAR", mine))
    await submit(http, other, pledged(token(), "THEIR-CAR", theirs))
    r = await check(http, member, [mine, theirs], purpose="collection", consent_ref=None)
    assert r.status_code == 403, r.text
    assert [e["message"] for e in r.json()["errors"]] == [f"no account of yours: {theirs}"]
    audit = await registry.audit_rows(request_id=r.headers["x-request-id"])
    assert [(x["action"], x["outcome"]) for x in audit] == [("collateral.exposure.query", 403)]
    assert (await check(http, member, [mine], purpose="account_review", consent_ref=None)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"vehicles": [], "purpose": "loan_application", "consent_ref": "c"},
        {"vehicles": ["LSGPC52UXCF000001"], "purpose": "loan_application", "consent_ref": "c"},
        {"vehicles": ["a" * 64, "A" * 64], "purpose": "loan_application", "consent_ref": "c"},
        {"vehicles": ["a" * 64], "purpose": "loan_application"},
        {"vehicles": [f"{i:064x}" for i in range(1001)], "purpose": "loan_application", "consent_ref": "c"},
    ],
)
async def test_invalid_checks_are_422_and_audited(http, registry, body):
    member = await registry.member()
    r = await http.post("/v1/collateral/exposure", json=body, headers=member.headers)
    assert r.status_code == 422, r.text
    audit = await registry.audit_rows(request_id=r.headers["x-request-id"])
    assert [(x["action"], x["outcome"]) for x in audit] == [("collateral.exposure.query", 422)]


async def test_vehicles_count_against_the_exposure_quota(http, registry, clock):
    clock.set(datetime(2026, 11, 28, 10, 0, 0, tzinfo=UTC))
    bank = await registry.member()
    await http.patch(f"/admin/members/{bank.id}", json={"quota_exposure_per_minute": 3}, headers=registry.admin.headers)
    assert (await check(http, bank, [vehicle(), vehicle()])).status_code == 200
    over = await check(http, bank, [vehicle(), vehicle()])
    assert over.status_code == 429, over.text
    audit = await registry.audit_rows(request_id=over.headers["x-request-id"])
    assert [(x["action"], x["outcome"]) for x in audit] == [("collateral.exposure.query", 429)]


async def test_the_check_needs_the_exposure_scope(http, registry):
    member = await registry.member(scopes=["records:write"])
    assert (await check(http, member, [vehicle()])).status_code == 403


FROZEN = Path(__file__).parents[2] / "migrations" / "sql" / "registry_collateral_exposure_v1.sql"


def test_the_frozen_statement_is_the_composed_one():
    from registry.collateral.statement import STATEMENT

    frozen = "\n".join(line for line in FROZEN.read_text().splitlines() if not line.startswith("-- "))
    assert frozen.strip() == STATEMENT.strip()


async def test_the_installed_function_runs_the_frozen_statement(registry):
    function = await registry.pool.fetchrow(
        "SELECT l.lanname, p.proconfig, p.prosrc, p.prosecdef FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
        "WHERE p.proname = 'registry_collateral_exposure'"
    )
    assert function["lanname"] == "plpgsql" and function["prosecdef"]
    assert "plan_cache_mode=force_generic_plan" in function["proconfig"]
    assert FROZEN.read_text().rstrip().rstrip(";") in function["prosrc"]
