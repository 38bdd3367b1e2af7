"""Uploads survive the service dying mid-file: a real `registry serve` process is SIGKILLed
while it loads a big file; the next start fails the job with how far it got, and the same
file uploaded again finishes the work with the earlier lines `unchanged`. A job still running
elsewhere is left alone by a starting process."""

from __future__ import annotations

import asyncio
import secrets
import signal
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from registry.uploads import service as upload_service
from tests.factories import item, token
from tests.servers import registry_env, serve

LINES = 60_000
PER_CHUNK = 1_000


def big_file(prefix: str) -> list[bytes]:
    """The file as slices of PER_CHUNK lines; items differ in account_ref and subject."""
    template = orjson.dumps(item("0" * 64, "REF"))
    slices = []
    for start in range(0, LINES, PER_CHUNK):
        slices.append(
            b"".join(
                template.replace(b"0" * 64, f"{n:064x}".encode()).replace(b'"REF"', f'"{prefix}-{n}"'.encode()) + b"\n"
                for n in range(start, start + PER_CHUNK)
            )
        )
    return slices


async def stream(slices: list[bytes]) -> AsyncIterator[bytes]:
    for piece in slices:
        yield piece


def _headers(access: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access}", "Content-Type": "application/x-ndjson"}


@pytest.mark.slow
async def test_killed_mid_file_then_failed_with_progress_and_reupload_finishes(registry, database_url, tmp_path):
    member = await registry.member()
    env = registry_env(tmp_path / "data", database_url)
    prefix = f"KILL{secrets.token_hex(3)}"
    slices = big_file(prefix)
    with serve(env, tmp_path / "first.log", "--no-migrate") as first:
        async with httpx.AsyncClient(base_url=first.url, timeout=60) as client:
            access = (
                await client.post(
                    "/oauth/token",
                    data={"grant_type": "client_credentials"},
                    auth=(member.client.client_id, member.client.client_secret),
                )
            ).json()["access_token"]
            sending = asyncio.create_task(client.post("/v1/uploads", content=stream(slices), headers=_headers(access)))
            job = None
            for _ in range(600):
                job = await registry.pool.fetchrow(
                    "SELECT id, status, processed_lines FROM upload_jobs WHERE member_id = $1", member.id
                )
                if job is not None and job["processed_lines"] >= 2 * upload_service.CHUNK_LINES:
                    break
                await asyncio.sleep(0.05)
            assert job is not None and job["status"] == "receiving", "the upload did not get going"
            first.proc.send_signal(signal.SIGKILL)
            first.proc.wait(timeout=30)
            with pytest.raises(httpx.TransportError):
                await sending

    # The next process to start fails the job it finds with nobody running it.
    with serve(env, tmp_path / "second.log", "--no-migrate") as second:
        async with httpx.AsyncClient(base_url=second.url, timeout=60) as client:
            headers = _headers(access)  # the token is still valid: the keys are the data dir's
            failed = (await client.get(f"/v1/uploads/{job['id']}", headers=headers)).json()
            assert failed["status"] == "failed" and "stopped" in failed["error"]
            applied = failed["processed_lines"]
            assert 2 * upload_service.CHUNK_LINES <= applied < LINES
            assert applied % upload_service.CHUNK_LINES == 0  # whole chunks only
            assert failed["created"] == applied and f"{applied} of the" in failed["error"]
            stored = await registry.pool.fetchval(
                "SELECT count(*) FROM records WHERE member_id = $1 AND account_ref LIKE $2", member.id, prefix + "-%"
            )
            assert stored == applied
            audit = await registry.audit_rows(action="records.upload", member_id=member.id)
            assert [(r["outcome"], r["details"]["status"], r["details"].get("recovered")) for r in audit] == [
                (500, "failed", True)
            ]

            again = await client.post("/v1/uploads", content=stream(slices), headers=headers)
            assert again.status_code == 202, again.text
            done = again.json()
            assert done["status"] == "completed" and done["total_lines"] == LINES
            assert (done["unchanged"], done["created"], done["rejected"]) == (applied, LINES - applied, 0)
            events = await registry.pool.fetchval("SELECT count(*) FROM record_events WHERE member_id = $1", member.id)
            assert events == LINES  # nothing doubled


async def test_a_job_running_elsewhere_is_left_alone(http, registry):
    member = await registry.member()
    release = asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        yield orjson.dumps(item(token())) + b"\n"
        await release.wait()
        yield orjson.dumps(item(token())) + b"\n"

    sending = asyncio.create_task(
        http.post(
            "/v1/uploads", content=slow_body(), headers={**member.headers, "Content-Type": "application/x-ndjson"}
        )
    )
    for _ in range(200):
        job = await registry.pool.fetchrow("SELECT id, status FROM upload_jobs WHERE member_id = $1", member.id)
        if job is not None:
            break
        await asyncio.sleep(0.02)
    assert job is not None and job["status"] == "receiving"
    # What another worker does when it starts: the running job holds its lock, so it stays.
    await upload_service.recover_abandoned(registry.pool)
    assert await registry.pool.fetchval("SELECT status FROM upload_jobs WHERE id = $1", job["id"]) == "receiving"
    release.set()
    done = (await sending).json()
    assert done["status"] == "completed" and done["created"] == 2
