"""Signing-key rotation: a new key signs from then on, old tokens verify until their key is
retired, the JWKS publishes exactly the live keys, and running workers notice by themselves."""

import json
import os
import subprocess
import sys

import httpx
import jwt

from registry.app import create_app
from registry.config import Environment, Settings


def run_cli(env, *args):
    done = subprocess.run([sys.executable, "-m", "registry", *args], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def test_rotate_and_retire(database_url, registry, tmp_path):
    settings = Settings(
        env=Environment.test,
        database_url=database_url,
        data_dir=tmp_path,
        key_refresh_seconds=0,
        stats_rollup_seconds=0,  # the shared database's inquiries are written at clock times set back and forth
        _env_file=None,
    )  # type: ignore[call-arg]
    app = create_app(settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    env.update(REGISTRY_DATA_DIR=str(tmp_path), REGISTRY_DATABASE_URL=database_url)
    member = await registry.member()
    c = member.client
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r.test") as h,
    ):

        async def fresh_token():
            r = await h.post(
                "/oauth/token", data={"grant_type": "client_credentials"}, auth=(c.client_id, c.client_secret)
            )
            return r.json()["access_token"]

        async def works(token):
            return (await h.get("/v1/records", headers={"Authorization": f"Bearer {token}"})).status_code == 200

        old_token = await fresh_token()
        old_kid = jwt.get_unverified_header(old_token)["kid"]
        rotated = run_cli(env, "keys", "rotate")
        new_kid = rotated["kid"]
        assert new_kid != old_kid and sorted(rotated["keys"]) == sorted([old_kid, new_kid])

        new_token = await fresh_token()
        assert jwt.get_unverified_header(new_token)["kid"] == new_kid
        published = {k["kid"] for k in (await h.get("/.well-known/jwks.json")).json()["keys"]}
        assert published == {old_kid, new_kid}
        assert await works(old_token) and await works(new_token)

        # `--`: a key id is a base64url thumbprint and may begin with "-" (one in 64 does).
        refused = subprocess.run(  # noqa: ASYNC221 - the CLI runs while the app waits, as an operator would
            [sys.executable, "-m", "registry", "keys", "retire", "--", new_kid],
            env=env,
            capture_output=True,
            text=True,
        )
        assert refused.returncode == 1 and "current" in refused.stderr

        run_cli(env, "keys", "retire", "--", old_kid)
        assert not await works(old_token)
        assert await works(new_token)
        published = {k["kid"] for k in (await h.get("/.well-known/jwks.json")).json()["keys"]}
        assert published == {new_kid}
