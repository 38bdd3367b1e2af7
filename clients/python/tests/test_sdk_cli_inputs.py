"""What the command line reads: subjects for `exposure` from arguments, a file or stdin, raw
identities hashed here with `--kind`; `token` over a file with line numbers and
`--keep-going`; `upload` with columns that are not record fields; `--version`."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import respx

from registry_client import __version__, identity

from sdk_helpers import HASHING_KEY, TOKEN_A, TOKEN_B, assert_one_clear_line, upload_job

RESIDENT_ID = "11010519491231002X"
BAD_RESIDENT_ID = "110105194912310021"
ANSWER = {"results": [{"subject": TOKEN_A, "found": False}, {"subject": TOKEN_B, "found": False}]}


def sent_subjects(route: respx.Route) -> list[str]:
    return json.loads(route.calls.last.request.content)["subjects"]


def test_exposure_reads_tokens_from_a_file_and_from_stdin(
    run: Any, api: respx.MockRouter, tmp_path: Path
) -> None:
    route = api.post("/v1/exposure").respond(json=ANSWER)
    listing = tmp_path / "applicants.txt"
    listing.write_text(f"{TOKEN_A}\n\n{TOKEN_B}\n")
    args = ["--purpose", "loan_application", "--consent-ref", "C-1", "--json"]
    assert run("exposure", "--file", str(listing), *args).exit_code == 0
    assert sent_subjects(route) == [TOKEN_A, TOKEN_B]
    assert run("exposure", "-", *args, stdin=f"{TOKEN_B}\n{TOKEN_A}\n").exit_code == 0
    assert sent_subjects(route) == [TOKEN_B, TOKEN_A]


def test_exposure_with_kind_hashes_raw_identities_here(
    run: Any, api: respx.MockRouter, tmp_path: Path
) -> None:
    route = api.post("/v1/exposure").respond(json=ANSWER)
    result = run(
        "exposure", RESIDENT_ID, "--kind", "cn_resident_id", "--purpose", "loan_application",
        "--consent-ref", "C-1", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sent_subjects(route) == [identity.token("cn_resident_id", RESIDENT_ID, HASHING_KEY)]
    assert RESIDENT_ID.encode() not in route.calls.last.request.content


def test_exposure_with_kind_names_the_bad_line_and_sends_nothing(
    run: Any, api: respx.MockRouter, tmp_path: Path
) -> None:
    route = api.post("/v1/exposure")
    listing = tmp_path / "ids.txt"
    listing.write_text(f"{RESIDENT_ID}\n{BAD_RESIDENT_ID}\n")
    result = run(
        "exposure", "--file", str(listing), "--kind", "cn_resident_id", "--purpose", "collection"
    )
    assert_one_clear_line(result, 1, "line 2: cn_resident_id")
    assert route.call_count == 0


def test_token_on_a_file_names_the_bad_line(run: Any, tmp_path: Path) -> None:
    listing = tmp_path / "ids.txt"
    listing.write_text(f"{RESIDENT_ID}\n{BAD_RESIDENT_ID}\n{RESIDENT_ID}\n")
    stopped = run("token", "cn_resident_id", "--file", str(listing))
    assert_one_clear_line(stopped, 1, "line 2: cn_resident_id")
    assert stopped.stdout.splitlines() == [
        identity.token("cn_resident_id", RESIDENT_ID, HASHING_KEY)
    ]

    kept = run("token", "cn_resident_id", "--keep-going", "-", stdin=listing.read_text())
    good = identity.token("cn_resident_id", RESIDENT_ID, HASHING_KEY)
    rows = kept.stdout.splitlines()
    assert rows[0] == rows[2] == good and rows[1].startswith("error: line 2: cn_resident_id")
    assert_one_clear_line(kept, 3, "1 lines have invalid identities")


def test_upload_leaves_out_columns_that_are_not_record_fields(
    run: Any, api: respx.MockRouter, tmp_path: Path
) -> None:
    route = api.post("/v1/uploads").respond(202, json=upload_job(rejected=0, created=3))
    path = tmp_path / "export.csv"
    path.write_text(
        "branch_name,subject,account_ref,customer_note\n"
        f'Main,{TOKEN_A},ACC-1,"said, ""later"""\nEast,{TOKEN_B},ACC-2,\n'
    )
    result = run("upload", str(path))
    assert result.exit_code == 0, result.output
    assert (
        "ignoring columns that are not record fields: branch_name, customer_note" in result.stderr
    )
    sent = gzip.decompress(route.calls.last.request.content).decode()
    assert sent == f"subject,account_ref\n{TOKEN_A},ACC-1\n{TOKEN_B},ACC-2\n"


def test_upload_of_gzipped_ndjson_with_extra_keys(
    run: Any, api: respx.MockRouter, tmp_path: Path
) -> None:
    route = api.post("/v1/uploads").respond(202, json=upload_job(rejected=0, created=2))
    path = tmp_path / "export.ndjson.gz"
    lines = [{"subject": TOKEN_A, "crm_id": 7}, {"subject": TOKEN_B}]
    path.write_bytes(gzip.compress(b"".join(json.dumps(x).encode() + b"\n" for x in lines)))
    result = run("upload", str(path))
    assert result.exit_code == 0 and "crm_id" in result.stderr
    sent = gzip.decompress(route.calls.last.request.content).decode().splitlines()
    assert [json.loads(line) for line in sent] == [{"subject": TOKEN_A}, {"subject": TOKEN_B}]


def test_version(run: Any) -> None:
    result = run("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"registry-client {__version__}"


def test_an_upload_without_extra_columns_is_sent_byte_for_byte(
    run: Any, api: respx.MockRouter, tmp_path: Path
) -> None:
    route = api.post("/v1/uploads").respond(202, json=upload_job(rejected=0, created=1))
    path = tmp_path / "plain.csv"
    path.write_bytes(b"subject,account_ref\r\n" + TOKEN_A.encode() + b",ACC-1\r\n")
    result = run("upload", str(path))
    assert result.exit_code == 0 and "ignoring" not in result.stderr
    assert gzip.decompress(route.calls.last.request.content) == path.read_bytes()
