"""Every dispute and admin method of the SDK against a real server process: a member files,
lists, reads and answers a dispute; the association reviews and resolves it, reads the
statistics and the borrower's subject report, searches, verifies and exports the audit log,
and runs retention. Each answer is checked for what the call did, not only its shape."""

from __future__ import annotations

import json

import pytest

from registry_client import AsyncRegistryClient, Conflict, NotFound
from registry_client.types import Dispute, DisputeFiled
from tests.factories import item, token
from tests.sdk.support import admin_client, member_client, own_live_server


@pytest.fixture(scope="module")
def live_server(server_url, tmp_path_factory):
    """A server on a database of its own: these tests verify the whole audit log."""
    with own_live_server(server_url, tmp_path_factory) as server:
        yield server


@pytest.fixture(scope="module")
def dispute_case(live_server):
    """Two lenders with a delinquent record each about one borrower; the first files."""
    lender, lender_client = member_client(live_server)
    other, other_client = member_client(live_server)
    subject = token()
    mine = lender_client.records.submit([item(subject, "DSP-1", status="dpd_61_90", overdue_amount="900.00")])
    theirs = other_client.records.submit([item(subject, "DSP-2", status="dpd_31_60")])
    yield {
        "subject": subject,
        "lender": lender,
        "lender_client": lender_client,
        "other": other,
        "other_client": other_client,
        "my_record": mine.results[0].record_id,
        "their_record": theirs.results[0].record_id,
    }
    lender_client.close()
    other_client.close()


def test_a_member_files_lists_reads_and_answers_a_dispute(dispute_case):
    lender = dispute_case["lender_client"]
    filed = lender.disputes.file(
        dispute_case["subject"], reason="already_settled", statement="I repaid this in August."
    )
    assert isinstance(filed, DisputeFiled) and filed.status == "open"
    assert (filed.deadline - filed.received_at).days == 20

    listed = [d for d in lender.disputes.list(status="open") if d.id == filed.id]
    assert len(listed) == 1 and listed[0].filed_by_you and listed[0].records == 1  # its own record only

    seen = lender.disputes.get(filed.id)
    assert [c.record_id for c in seen.covered] == [dispute_case["my_record"]]
    assert all(c.institution is None for c in seen.covered)  # a member never learns who else holds

    answered = lender.disputes.answer(
        filed.id,
        record_id=dispute_case["my_record"],
        action="correct",
        note="Settled on 2026-08-20",
        correction=item(dispute_case["subject"], "DSP-1", status="settled", closed_on="2026-08-20"),
    )
    assert answered.covered[0].response == "correct"
    assert lender.records.get(dispute_case["my_record"]).disputed

    # The other lender sees the dispute covering its record, and not the filer's record.
    other = dispute_case["other_client"]
    theirs = other.disputes.get(filed.id)
    assert [c.record_id for c in theirs.covered] == [dispute_case["their_record"]]
    assert not next(d for d in other.disputes.list() if d.id == filed.id).filed_by_you
    dispute_case["filed"] = filed.id


def test_the_association_reviews_and_resolves_a_dispute(live_server, dispute_case):
    filed = dispute_case.get("filed") or pytest.skip("needs the member's dispute")
    with admin_client(live_server) as admin:
        assert filed in [d.id for d in admin.admin.disputes.list(status="open")]
        full = admin.admin.disputes.get(filed)
        codes = sorted(c.institution.code for c in full.covered)
        assert codes == sorted([dispute_case["lender"].code, dispute_case["other"].code])

        resolved = admin.admin.disputes.resolve(filed, resolution="upheld", note="Lender confirmed")
        assert isinstance(resolved, Dispute) and resolved.status == "resolved" and resolved.resolution == "upheld"
        outcomes = {c.record_id: c.outcome for c in resolved.covered}
        assert outcomes == {dispute_case["my_record"]: "corrected", dispute_case["their_record"]: "suppressed"}
        with pytest.raises(Conflict):
            admin.admin.disputes.resolve(filed, resolution="rejected", note="again")
    assert dispute_case["lender_client"].records.get(dispute_case["my_record"]).status == "settled"


def test_the_association_files_for_a_borrower_who_came_to_it(live_server):
    _, lender = member_client(live_server)
    subject = token()
    lender.records.submit([item(subject, "ADM-1", status="dpd_31_60")])
    with admin_client(live_server) as admin:
        dispute = admin.admin.disputes.file(subject, reason="not_mine", statement="Not my loan.")
        assert dispute.status == "open" and dispute.records == 1
        with pytest.raises(NotFound):
            admin.admin.disputes.get("0193a5b0-7c1e-7d2f-8a3b-5e4f3d2c1b0a")
        with pytest.raises(ValueError, match="not a brs1 token"):
            admin.admin.disputes.file("11010519491231002X", reason="not_mine", statement="raw id")
    lender.close()


def test_statistics_and_the_subject_report(live_server, dispute_case):
    with admin_client(live_server) as admin:
        stats = admin.admin.stats.industry()
        mine = [m for m in stats.members if m.code == dispute_case["lender"].code]
        assert mine and mine[0].records.live >= 1
        assert stats.industry.records.live >= sum(m.records.live for m in stats.members if m.code.startswith("LIVE"))
        one = admin.admin.stats.member(dispute_case["other"].id)
        assert one.member.code == dispute_case["other"].code and len(one.monthly) == 12

        report = admin.admin.subject_report.get(dispute_case["subject"])
        assert report.subject == dispute_case["subject"]
        assert sorted(r.account_ref for r in report.records) == ["DSP-1", "DSP-2"]
        assert {r.institution.code for r in report.records} == {dispute_case["lender"].code, dispute_case["other"].code}
        page = admin.admin.subject_report.html(dispute_case["subject"])
        assert page.lstrip().lower().startswith("<!doctype html") and "DSP-1" in page


def test_audit_search_verify_and_export(live_server, dispute_case, tmp_path):
    with admin_client(live_server) as admin:
        member_id = dispute_case["lender"].id
        filed = list(admin.admin.audit.search(member_id=member_id, action="disputes.file", page_size=2))
        assert len(filed) >= 1 and all(e.member_id == member_id for e in filed)

        verification = admin.admin.audit.verify()
        assert verification.ok and not verification.problems

        target = tmp_path / "audit.ndjson"
        written = admin.admin.audit.export(target, member_id=member_id)
        lines = [json.loads(line) for line in target.read_text().splitlines()]
        assert written == len(lines) > 3 and {e["member_id"] for e in lines} == {member_id}
        assert {"records.submit", "disputes.file", "disputes.respond"} <= {e["action"] for e in lines}


def test_retention_runs_and_says_what_it_deleted(live_server):
    with admin_client(live_server) as admin:
        result = admin.admin.retention.run()
        assert result.records >= 0 and result.day
        runs = list(admin.admin.audit.search(action="retention.run", page_size=1))
        assert runs and runs[0].details.get("via") == "api"


async def test_the_async_client_has_the_same_dispute_and_admin_calls(live_server, dispute_case):
    async with AsyncRegistryClient(live_server["url"], live_server["client_id"], live_server["client_secret"]) as admin:
        disputes = [d async for d in admin.admin.disputes.list(page_size=1)]
        assert disputes and disputes[0].id
        assert (await admin.admin.audit.verify()).ok
        assert (await admin.admin.stats.industry()).members
        lines = [line async for line in admin.admin.audit.export_lines(action="disputes.file")]
        assert lines and all(json.loads(line)["action"] == "disputes.file" for line in lines)
