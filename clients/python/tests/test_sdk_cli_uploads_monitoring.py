"""`registry-client upload`, `uploads`, `alerts` and `watch`, run through typer's CliRunner
against a mocked registry."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import httpx
import respx

from sdk_helpers import TOKEN_A, TOKEN_B, assert_one_clear_line, problem, upload_job

JOB_ID = "0b5d5f7e-4b1e-4f43-9a53-3f1b0f7a8c11"


ERROR_LINE = {
    "line": 3,
    "account_ref": "ACC-2",
    "errors": [{"field": "status", "message": "unknown status"}],
}


def records_file(tmp_path: Path) -> Path:
    path = tmp_path / "november.csv"
    path.write_text("subject,account_ref\n" + f"{TOKEN_A},ACC-1\n{TOKEN_B},ACC-2\n")
    return path


def test_upload_prints_the_summary_and_where_the_errors_are(
    run: Any, api: respx.MockRouter, tmp_path: Path
) -> None:
    path = records_file(tmp_path)
    route = api.post("/v1/uploads").respond(202, json=upload_job())
    result = run("upload", str(path))
    assert_one_clear_line(result, 3, f"1 lines rejected: registry-client uploads errors {JOB_ID}")
    assert result.stdout.strip() == (
        f"upload {JOB_ID} completed: 3 lines, 2 accepted "
        "(created 2, updated 0, unchanged 0), 0 stale, 1 rejected"
    )
    assert gzip.decompress(route.calls.last.request.content) == path.read_bytes()


def test_upload_writes_the_error_report(run: Any, api: respx.MockRouter, tmp_path: Path) -> None:
    api.post("/v1/uploads").respond(202, json=upload_job())
    api.get(f"/v1/uploads/{JOB_ID}/errors").respond(200, content=json.dumps(ERROR_LINE) + "\n")
    report = tmp_path / "errors.ndjson"
    result = run("upload", str(records_file(tmp_path)), "--errors-out", str(report))
    assert_one_clear_line(result, 3, f"1 lines rejected: see {report}")
    assert [json.loads(line) for line in report.read_text().splitlines()] == [ERROR_LINE]


def test_upload_all_good_failed_and_not_waited_for(
    run: Any, api: respx.MockRouter, tmp_path: Path
) -> None:
    path = records_file(tmp_path)
    route = api.post("/v1/uploads")
    route.respond(202, json=upload_job(rejected=0, created=3))
    assert run("upload", str(path)).exit_code == 0

    route.respond(202, json=upload_job(status="failed", error="The upload was interrupted"))
    assert_one_clear_line(run("upload", str(path)), 1, "failed: The upload was interrupted")

    route.respond(202, json=upload_job(status="receiving", total_lines=None))
    polled = api.get(f"/v1/uploads/{JOB_ID}")
    result = run("upload", str(path), "--no-wait")
    assert result.exit_code == 0 and "receiving" in result.stdout
    assert f"registry-client uploads show {JOB_ID}" in result.stderr
    assert polled.call_count == 0


def test_upload_refused_and_bad_names_are_one_line(
    run: Any, api: respx.MockRouter, tmp_path: Path
) -> None:
    api.post("/v1/uploads").mock(
        return_value=problem(422, "The file holds no records", "The file holds no records")
    )
    assert_one_clear_line(run("upload", str(records_file(tmp_path))), 1, "holds no records")
    (tmp_path / "records.xlsx").write_bytes(b"PK")
    assert_one_clear_line(run("upload", str(tmp_path / "records.xlsx")), 1, "cannot tell")
    assert_one_clear_line(run("upload", str(tmp_path / "gone.csv")), 1, "gone.csv")


def test_uploads_list_show_and_errors(run: Any, api: respx.MockRouter, tmp_path: Path) -> None:
    api.get("/v1/uploads").respond(json={"data": [upload_job()], "next_cursor": None})
    api.get(f"/v1/uploads/{JOB_ID}").respond(
        json=upload_job(status="failed", error="gzip stream cut short")
    )
    api.get(f"/v1/uploads/{JOB_ID}/errors").respond(200, content=json.dumps(ERROR_LINE) + "\n")
    listed = run("uploads", "list", "--json")
    assert listed.exit_code == 0 and json.loads(listed.stdout)["id"] == JOB_ID
    shown = run("uploads", "show", JOB_ID)
    assert shown.exit_code == 0 and "error: gzip stream cut short" in shown.stdout
    errors = run("uploads", "errors", JOB_ID)
    assert errors.exit_code == 0 and json.loads(errors.stdout) == ERROR_LINE
    target = tmp_path / "e.ndjson"
    assert run("uploads", "errors", JOB_ID, "--out", str(target)).exit_code == 0
    assert json.loads(target.read_text()) == ERROR_LINE


def alert(n: int) -> dict[str, Any]:
    return {
        "id": n,
        "subject": TOKEN_A,
        "label": "retail",
        "kind": "worsened",
        "status": "dpd_61_90",
        "at": "2026-11-15T09:12:03Z",
    }


def test_alerts_print_every_page_and_the_cursor_to_resume_from(
    run: Any, api: respx.MockRouter
) -> None:
    route = api.get("/v1/alerts").mock(
        side_effect=[
            httpx.Response(200, json={"data": [alert(1)], "next_cursor": "c1"}),
            httpx.Response(200, json={"data": [alert(2)], "next_cursor": "c2"}),
            httpx.Response(200, json={"data": [], "next_cursor": "c2"}),
        ]
    )
    result = run("alerts", "--after", "c0", "--json")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["1", "2"]
    assert result.stderr.strip() == "cursor: c2"
    assert route.calls[0].request.url.params["after"] == "c0"


def test_an_audit_checkpoint_head_in_the_feed_is_printed(run: Any, api: respx.MockRouter) -> None:
    head = {
        "id": 981,
        "format": 2,
        "last_txid": 5,
        "last_id": 77,
        "rows": 3,
        "changed_rows": [],
        "previous_digest": "00" * 32,
        "digest": "ab" * 32,
        "kid": "k1",
        "signature": "cd" * 64,
        "sealed_at": "2026-11-29T01:59:41Z",
    }
    checkpoint = {
        "id": 8,
        "subject": None,
        "label": None,
        "kind": "audit_checkpoint",
        "status": None,
        "at": "2026-11-29T02:00:00Z",
        "checkpoint": head,
    }
    api.get("/v1/alerts").mock(
        side_effect=[
            httpx.Response(200, json={"data": [alert(7), checkpoint], "next_cursor": "c8"}),
            httpx.Response(200, json={"data": [], "next_cursor": "c8"}),
        ]
    )
    result = run("alerts")
    assert result.exit_code == 0, result.output
    assert "audit_checkpoint" in result.stdout and "checkpoint 981" in result.stdout
    assert "worsened" in result.stdout


def test_alerts_follow_until_interrupted(
    run: Any, api: respx.MockRouter, sleeps: list[float]
) -> None:
    def empty_then_interrupted(request: httpx.Request) -> httpx.Response:
        if len(sleeps) >= 2:
            raise KeyboardInterrupt
        return httpx.Response(200, json={"data": [], "next_cursor": "c9"})

    api.get("/v1/alerts").mock(
        side_effect=[httpx.Response(200, json={"data": [alert(7)], "next_cursor": "c7"})]
        + [empty_then_interrupted] * 3
    )
    result = run("alerts", "--follow", "--poll-interval", "5")
    assert result.exit_code == 0, result.output
    assert "worsened" in result.stdout and TOKEN_A in result.stdout and "retail" in result.stdout
    assert sleeps == [5, 5] and result.stderr.strip() == "cursor: c9"


def test_watch_add_list_remove(run: Any, api: respx.MockRouter) -> None:
    added = api.post("/v1/watches").respond(json={"created": 1, "existing": 1})
    api.get("/v1/watches").respond(
        json={
            "data": [{"subject": TOKEN_A, "label": "retail", "created_at": "2026-11-01T00:00:00Z"}],
            "next_cursor": None,
        }
    )
    removed = api.delete(f"/v1/watches/{TOKEN_A}").respond(204)
    result = run("watch", "add", "-", "--label", "retail", stdin=f"{TOKEN_A}\n\n{TOKEN_B}\n")
    assert result.exit_code == 0 and "watching 1 new, 1 already watched" in result.stdout
    assert json.loads(added.calls.last.request.content) == {
        "subjects": [TOKEN_A, TOKEN_B],
        "label": "retail",
    }
    listed = run("watch", "list", "--json")
    assert listed.exit_code == 0 and json.loads(listed.stdout)["label"] == "retail"
    assert run("watch", "remove", TOKEN_A).exit_code == 0 and removed.call_count == 1
    assert_one_clear_line(run("watch", "add", "11010519491231002X"), 1, "not a brs1 token")
    api.delete(f"/v1/watches/{TOKEN_B}").mock(
        return_value=problem(404, "Not found", "You do not watch that subject")
    )
    assert_one_clear_line(run("watch", "remove", TOKEN_B), 1, "You do not watch that subject")
