"""The `registry-client` command line, run through typer's CliRunner against a mocked registry."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import httpx
import pytest
import respx

from registry_client import identity

from sdk_helpers import (
    HASHING_KEY,
    REQUEST_ID,
    TOKEN_A,
    TOKEN_B,
    assert_one_clear_line,
    problem,
    record_id,
)

RESIDENT_TOKEN = "197809837417cea4f460dc78c1d99967e46957792b7365ff0056152f09ce83f3"


def test_token(run) -> None:
    result = run("token", "cn_resident_id", " 11010519491231002x ")
    assert result.exit_code == 0
    assert result.stdout.strip() == RESIDENT_TOKEN


def test_token_from_stdin_keeps_identities_out_of_shell_history(run) -> None:
    result = run("token", "passport", "-", stdin="chn:e12345678\n\nUSA: 123 456 789\n")
    assert result.exit_code == 0
    assert result.stdout.split() == [
        "e4e9aea886df4cb04bb33dfb303ec96a5aba83bc98f700305c712b51d620ef53",
        "2f17151ffc458599f4eac634c5871863731436e94fd6a7277f255757e81524e6",
    ]


def test_token_vin(run) -> None:
    result = run("token", "vin", " lsg-PC52UX CF000001 ")
    assert result.exit_code == 0
    assert (
        result.stdout.strip() == "4fab577edf88b4c4d6e6cb5fa6cbdc6ac142db0a0cca9639bd91b2294dee614b"
    )
    assert_one_clear_line(run("token", "vin", "LSGPC52U0CF000001"), 1, "check digit")


def test_token_invalid_identity(run) -> None:
    assert_one_clear_line(run("token", "cn_resident_id", "110105194912310021"), 1, "checksum")


def test_token_unknown_kind(run) -> None:
    assert_one_clear_line(run("token", "ssn", "123"), 1, "unknown identity kind")


def test_token_without_key(run) -> None:
    assert_one_clear_line(run("token", "passport", "CHN:E1", env={}), 1, "REGISTRY_HASHING_KEY")


def test_token_with_bad_key(run) -> None:
    assert_one_clear_line(
        run("token", "passport", "CHN:E1", env={"REGISTRY_HASHING_KEY": "abc"}), 1, "hashing key"
    )


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_token_csv_with_kind_column(run, tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "borrowers.csv",
        [
            {"account_ref": "A1", "kind": "cn_resident_id", "id_number": "11010519491231002X"},
            {"account_ref": "A2", "kind": "cn_uscc", "id_number": "91110108MA01ABCD1E"},
            {"account_ref": "A3", "kind": "cn_resident_id", "id_number": "110105194912310021"},
        ],
    )
    result = run(
        "token",
        "--csv",
        str(source),
        "--column",
        "id_number",
        "--out",
        str(tmp_path / "hashed.csv"),
    )
    assert result.exit_code == 3
    assert "hashed 2 rows" in result.stdout
    assert read_csv(tmp_path / "hashed.csv") == [
        {"account_ref": "A1", "subject": RESIDENT_TOKEN},
        {
            "account_ref": "A2",
            "subject": "bed830f49b8c5ca9d9e9d830830403b5e9708fdad710a191dd0d7e21beda78b6",
        },
    ]
    rejected = read_csv(tmp_path / "borrowers.rejected.csv")
    assert [(r["line"], r["account_ref"]) for r in rejected] == [("4", "A3")]
    assert "checksum" in rejected[0]["errors"]


def test_token_csv_with_one_kind(run, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", [{"passport": "chn:e12345678", "note": "x"}])
    result = run(
        "token",
        "--csv",
        str(source),
        "--column",
        "passport",
        "--kind",
        "passport",
        "--out",
        str(tmp_path / "o.csv"),
    )
    assert result.exit_code == 0, result.output
    assert read_csv(tmp_path / "o.csv") == [
        {"subject": "e4e9aea886df4cb04bb33dfb303ec96a5aba83bc98f700305c712b51d620ef53", "note": "x"}
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--column", "nope", "--kind", "passport"], "no column 'nope'"),
        (["--column", "passport"], "no 'kind' column"),
        (["--kind", "passport"], "--csv needs --column"),
    ],
)
def test_token_csv_bad_usage(run, tmp_path: Path, args: list[str], message: str) -> None:
    source = write_csv(tmp_path / "in.csv", [{"passport": "chn:e12345678"}])
    result = run("token", "--csv", str(source), "--out", str(tmp_path / "o.csv"), *args)
    assert_one_clear_line(result, 1, message)


def test_token_csv_missing_file(run, tmp_path: Path) -> None:
    result = run(
        "token",
        "--csv",
        str(tmp_path / "absent.csv"),
        "--column",
        "c",
        "--out",
        str(tmp_path / "o.csv"),
    )
    assert_one_clear_line(result, 1, "absent.csv")


RECORD_COLUMNS = {
    "subject": TOKEN_A,
    "subject_type": "individual",
    "product": "auto_loan",
    "status": "current",
    "as_of": "2026-01-31",
    "principal_amount": "1200.00",
    "outstanding_amount": "1000.00",
    "delinquent_since": "",
}


def echo_created(request: httpx.Request) -> httpx.Response:
    records = json.loads(request.content)["records"]
    results = [
        {"index": i, "account_ref": r["account_ref"], "outcome": "created", "record_id": f"id{i}"}
        for i, r in enumerate(records)
    ]
    summary = {"created": len(records), "updated": 0, "unchanged": 0, "stale": 0, "rejected": 0}
    return httpx.Response(200, json={"results": results, "summary": summary})


def test_submit_csv(run, api: respx.MockRouter, tmp_path: Path) -> None:
    route = api.post("/v1/records").mock(side_effect=echo_created)
    rows = [{**RECORD_COLUMNS, "account_ref": f"A{n}", "branch": "north"} for n in range(1200)]
    rows[5]["status"] = "late"
    source = write_csv(tmp_path / "january.csv", rows)
    result = run("submit", str(source))
    assert result.exit_code == 3, result.output
    assert "created 1199" in result.stdout and "rejected 1" in result.stdout
    assert "ignoring columns that are not record fields: branch" in result.stderr
    sent = [json.loads(call.request.content)["records"] for call in route.calls]
    assert [len(batch) for batch in sent] == [999, 200]  # the invalid row is not sent
    assert "delinquent_since" not in sent[0][0] and "branch" not in sent[0][0]
    rejected = read_csv(tmp_path / "january.rejected.csv")
    assert [(r["line"], r["account_ref"], r["status"]) for r in rejected] == [("7", "A5", "late")]
    assert rejected[0]["errors"].startswith("status: ")


def test_submit_gzipped_ndjson(run, api: respx.MockRouter, tmp_path: Path) -> None:
    api.post("/v1/records").mock(side_effect=echo_created)
    source = tmp_path / "january.ndjson.gz"
    lines = [
        json.dumps({**RECORD_COLUMNS, "account_ref": f"A{n}", "delinquent_since": None})
        for n in range(3)
    ]
    source.write_bytes(gzip.compress(("\n".join(lines) + "\n\n").encode()))
    result = run("submit", str(source))
    assert result.exit_code == 0, result.output
    assert "created 3, updated 0, unchanged 0, stale 0, rejected 0" in result.stdout


def test_submit_ndjson_rejects_keep_the_row(run, api: respx.MockRouter, tmp_path: Path) -> None:
    api.post("/v1/records").mock(side_effect=echo_created)
    source = tmp_path / "feb.jsonl"
    source.write_text(
        json.dumps({**RECORD_COLUMNS, "account_ref": "A1", "subject": "11010519491231002X"})
        + "\n"
        + json.dumps({**RECORD_COLUMNS, "account_ref": "A2", "subject": TOKEN_B})
        + "\n"
    )
    result = run("submit", str(source), "--rejects", str(tmp_path / "bad.ndjson"))
    assert result.exit_code == 3
    (rejected,) = [json.loads(line) for line in (tmp_path / "bad.ndjson").read_text().splitlines()]
    assert rejected["line"] == 1 and rejected["account_ref"] == "A1"
    assert rejected["errors"][0]["field"] == "subject"


def test_submit_broken_json_line(run, tmp_path: Path) -> None:
    source = tmp_path / "broken.ndjson"
    source.write_text('{"account_ref": "A1"}\n{"account_ref": \n')
    assert_one_clear_line(run("submit", str(source)), 1, "line 2: not valid JSON")


def test_submit_unknown_format(run, tmp_path: Path) -> None:
    source = tmp_path / "records.xlsx"
    source.write_text("x")
    assert_one_clear_line(run("submit", str(source)), 1, "cannot tell the format")


def test_submit_missing_file(run, tmp_path: Path) -> None:
    assert_one_clear_line(run("submit", str(tmp_path / "nope.csv")), 1, "nope.csv")


def test_submit_server_failure_says_how_far_it_got(
    run, api: respx.MockRouter, tmp_path: Path, sleeps
) -> None:
    api.post("/v1/records").mock(
        side_effect=[echo_created, problem(503, "Unavailable", "database restarting")]
        + [problem(503, "Unavailable", "database restarting")] * 2
    )
    source = write_csv(
        tmp_path / "m.csv", [{**RECORD_COLUMNS, "account_ref": f"A{n}"} for n in range(1500)]
    )
    result = run("submit", str(source))
    assert_one_clear_line(result, 1, "database restarting")
    assert "after 1000 of 1500 rows" in result.stderr


def test_submit_bad_credentials(run, api: respx.MockRouter, tmp_path: Path) -> None:
    api["token"].mock(return_value=httpx.Response(401, json={"error": "invalid_client"}))
    source = write_csv(tmp_path / "m.csv", [{**RECORD_COLUMNS, "account_ref": "A1"}])
    assert_one_clear_line(run("submit", str(source)), 1, "invalid_client")


EXPOSURE = {
    "subject": TOKEN_A,
    "found": True,
    "institutions_reporting": 2,
    "institutions_delinquent": 1,
    "worst_status": "dpd_31_60",
    "worst_status_24m": "dpd_61_90",
    "overdue_amounts": {"CNY": "6200.00"},
    "outstanding_amounts": {"CNY": "150000.00"},
    "uncollected_delinquent_accounts": 1,
    "hard_inquiries": {"last_30d": 1, "last_90d": 2, "institutions_30d": 1, "institutions_90d": 2},
}


def test_exposure_table(run, api: respx.MockRouter) -> None:
    route = api.post("/v1/exposure").mock(
        return_value=httpx.Response(
            200, json={"results": [EXPOSURE, {"subject": TOKEN_B, "found": False}]}
        )
    )
    result = run(
        "exposure", TOKEN_A, TOKEN_B, "--purpose", "loan_application", "--consent-ref", "AUTH-1"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(route.calls.last.request.content)["consent_ref"] == "AUTH-1"
    assert "dpd_31_60 (24 months: dpd_61_90)" in result.stdout and "CNY 6200.00" in result.stdout
    assert TOKEN_A in result.stdout and TOKEN_B in result.stdout


def test_exposure_json(run, api: respx.MockRouter) -> None:
    api.post("/v1/exposure").mock(return_value=httpx.Response(200, json={"results": [EXPOSURE]}))
    result = run(
        "exposure", TOKEN_A, "--purpose", "loan_application", "--consent-ref", "AUTH-1", "--json"
    )
    assert result.exit_code == 0
    answer = json.loads(result.stdout)
    assert answer["results"][0]["overdue_amounts"] == {"CNY": "6200.00"}


def test_vehicles_json(run, api: respx.MockRouter) -> None:
    vehicle = {"vehicle": TOKEN_A, "found": True, "live_accounts_elsewhere": 2}
    route = api.post("/v1/collateral/exposure").mock(
        return_value=httpx.Response(200, json={"results": [vehicle]})
    )
    result = run("vehicles", TOKEN_A, "--purpose", "loan_application", "--consent-ref", "AUTH-1")
    assert result.exit_code == 0, result.output
    assert json.loads(route.calls.last.request.content)["vehicles"] == [TOKEN_A]
    assert json.loads(result.stdout)["results"][0]["live_accounts_elsewhere"] == 2


def test_exposure_raw_identity_is_refused(run, api: respx.MockRouter) -> None:
    route = api.post("/v1/exposure")
    result = run(
        "exposure", "11010519491231002X", "--purpose", "loan_application", "--consent-ref", "AUTH-1"
    )
    assert_one_clear_line(result, 1, "not a brs1 token")
    assert route.call_count == 0


def test_exposure_forbidden(run, api: respx.MockRouter) -> None:
    api.post("/v1/exposure").mock(
        return_value=problem(403, "Forbidden", "no record of yours for 1 subject")
    )
    result = run("exposure", TOKEN_A, "--purpose", "account_review")
    assert_one_clear_line(
        result, 1, f"403 Forbidden: no record of yours for 1 subject [request_id {REQUEST_ID}]"
    )


def test_exposure_bad_purpose_is_a_usage_error(run) -> None:
    result = run("exposure", TOKEN_A, "--purpose", "curiosity")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_records_list(run, api: respx.MockRouter) -> None:
    route = api.get("/v1/records").mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "data": [
                        {
                            "id": record_id(1),
                            "account_ref": "A1",
                            "status": "current",
                            "currency": "CNY",
                            "overdue_amount": "0.00",
                        }
                    ],
                    "next_cursor": "c",
                },
            ),
            httpx.Response(
                200,
                json={
                    "data": [{"id": record_id(2), "account_ref": "A2", "status": "dpd_1_30"}],
                    "next_cursor": None,
                },
            ),
        ]
    )
    result = run("records", "list", "--status", "current")
    assert result.exit_code == 0, result.output
    assert "A1" in result.stdout and "A2" in result.stdout and "CNY 0.00" in result.stdout
    assert route.calls[0].request.url.params["status"] == "current"


def test_records_list_json_with_limit(run, api: respx.MockRouter) -> None:
    route = api.get("/v1/records").mock(
        return_value=httpx.Response(
            200,
            json={
                "data": [
                    {"id": record_id(1), "account_ref": "A1"},
                    {"id": record_id(2), "account_ref": "A2"},
                ],
                "next_cursor": "more",
            },
        )
    )
    result = run("records", "list", "--json", "--limit", "1")
    assert result.exit_code == 0
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [record_id(1)]
    assert route.call_count == 1


def test_records_list_without_url(run) -> None:
    assert_one_clear_line(run("records", "list", env={}), 1, "REGISTRY_URL")


def test_identity_module_and_cli_agree(run) -> None:
    result = run("token", "cn_uscc", "914403-00708461136t")
    assert result.stdout.strip() == identity.token("cn_uscc", "91440300708461136T", HASHING_KEY)
