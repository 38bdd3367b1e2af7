"""The branch ledger (`branch_tallies`, kept by triggers on `records`) equals a count of the
records themselves after every kind of write (created, moved between branches, cured,
withdrawn, suppressed) and after folding: the scorecards are never stale after a commit."""

from __future__ import annotations

from datetime import date

from registry.scorecards import repository
from tests.factories import item, submit, token

TODAY = date(2026, 11, 28)

RECOUNT = """
SELECT member_id, branch_code, currency, count(*) AS live,
       count(*) FILTER (WHERE severity >= 3) AS delinquent, count(*) FILTER (WHERE uncollected) AS uncollected,
       coalesce(sum(overdue_minor) FILTER (WHERE severity >= 3), 0) AS overdue_minor,
       coalesce(sum(recovered_minor) FILTER (WHERE severity >= 3), 0) AS recovered_minor
FROM records
WHERE member_id = $1 AND withdrawn_at IS NULL AND NOT suppressed AND (expires_on IS NULL OR expires_on > $2)
GROUP BY 1, 2, 3
"""


def late(subject, ref, branch, **fields):
    return item(
        subject,
        ref,
        status="dpd_61_90",
        overdue_amount="400",
        delinquent_since="2026-08-01",
        notice_sent_on="2026-08-05",
        branch_code=branch,
        **fields,
    )


async def _ledger(pool, member_id):
    async with pool.acquire() as conn:
        groups = await repository.branch_groups(conn, TODAY, member_id)
    return sorted(
        (g.branch_code or "", g.currency, g.live, g.delinquent, g.uncollected, g.overdue_minor, g.recovered_minor)
        for g in groups
    )


async def _recount(pool, member_id):
    found = await pool.fetch(RECOUNT, member_id, TODAY)
    return sorted(
        (
            r["branch_code"] or "",
            r["currency"].strip(),
            r["live"],
            r["delinquent"],
            r["uncollected"],
            r["overdue_minor"],
            r["recovered_minor"],
        )
        for r in found
    )


async def test_the_ledger_equals_the_records_after_every_write(http, registry, pool):
    lender, s = await registry.member(), token()

    async def check():
        assert await _ledger(pool, lender.id) == await _recount(pool, lender.id)

    r = await submit(
        http,
        lender,
        late(s, "T-1", "N"),
        late(s, "T-2", "N", recovered_amount="100"),
        late(s, "T-3", None, arrangement="extension"),
        item(s, "T-4", branch_code="S"),
        item(s, "T-5", currency="USD", branch_code="S"),
    )
    assert r.json()["summary"]["created"] == 5, r.text
    await check()
    # T-1 moves to branch S and is acted on; T-2 is cured; T-4 falls behind.
    r = await submit(
        http,
        lender,
        late(s, "T-1", "S", as_of="2026-11-01", last_collection_action_on="2026-10-25"),
        item(s, "T-2", branch_code="N", as_of="2026-11-01", delinquent_since="2026-08-01", notice_sent_on="2026-08-05"),
        late(s, "T-4", "S", as_of="2026-11-01"),
    )
    assert r.json()["summary"]["updated"] == 3, r.text
    await check()
    listed = (await http.get("/v1/records", params={"limit": 500}, headers=lender.headers)).json()["data"]
    ids = {r["account_ref"]: r["id"] for r in listed}
    assert (await http.delete(f"/v1/records/{ids['T-3']}", headers=lender.headers)).status_code == 200
    await check()
    await pool.execute("UPDATE records SET suppressed = true WHERE id = $1", ids["T-4"])  # an upheld dispute
    await check()
    async with pool.acquire() as conn, conn.transaction():
        await repository.fold(conn)
    await check()
    assert len(await _ledger(pool, lender.id)) == 3  # N/CNY, S/CNY, S/USD
