"""docs/quickstart.md, docs/sdk.md and docs/admin-guide.md run as written, in order, against
a fresh server, so the docs cannot drift from the code.

Every ```sh / ```bash and ```python block of the three documents becomes one step of one
bash session (a Python block runs as `python - <<EOF`, with the shell's exported
variables), in document order, from an empty working directory holding only `.venv` (as the
repository root does after `make run`). The only change made to the text is the server's
address: the documents say `http://127.0.0.1:8000`, the test's server listens on a free
port. A block preceded by `<!-- docs-test: skip -->` is not run (starting the server: the
test starts it; installing the SDK: it is installed).
"""

from __future__ import annotations

import asyncio
import re
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.databases import create_database, drop_database, with_database
from tests.servers import registry_env, serve

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = ("quickstart.md", "sdk.md", "admin-guide.md")
DOCUMENTED_URL = "http://127.0.0.1:8000"
SKIP = "<!-- docs-test: skip -->"
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
SHELL = {"sh", "bash", "shell"}
PYTHON_END = "__DOCS_TEST_PYTHON__"

pytestmark = pytest.mark.slow


@dataclass
class Block:
    document: str
    line: int
    language: str
    code: str

    @property
    def where(self) -> str:
        return f"docs/{self.document}:{self.line}"


def blocks(document: str) -> list[Block]:
    text = (ROOT / "docs" / document).read_text()
    found = []
    for match in FENCE.finditer(text):
        language = match.group(1).lower()
        if language not in SHELL and language != "python":
            continue
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
        if before == SKIP:
            continue
        line = text.count("\n", 0, match.start()) + 1
        found.append(Block(document, line, "python" if language == "python" else "sh", match.group(2)))
    return found


def script(steps: list[Block], url: str) -> str:
    lines = ["set -euo pipefail"]
    for block in steps:
        code = block.code.replace(DOCUMENTED_URL, url)
        assert PYTHON_END not in code
        lines.append(f"echo '>>> {block.where}' >&2")
        if block.language == "python":
            lines += [f"python - <<'{PYTHON_END}'", code.rstrip("\n"), PYTHON_END]
        else:
            lines.append(code.rstrip("\n"))
    return "\n".join(lines) + "\n"


def test_every_document_has_runnable_blocks():
    for document in DOCUMENTS:
        assert len(blocks(document)) >= 3, document


@pytest.fixture
def fresh_server(server_url, tmp_path):
    """A new database and a server that migrates it at start, as `make run` does."""
    name = f"registry_docs_{secrets.token_hex(4)}"
    asyncio.run(create_database(server_url, name))
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = registry_env(data_dir, with_database(server_url, name))
    try:
        with serve(env, tmp_path / "server.log") as server:
            yield server, env
    finally:
        asyncio.run(drop_database(server_url, name))


def test_the_documents_run_as_written_in_order(fresh_server, tmp_path):
    server, env = fresh_server
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / ".venv").symlink_to(Path(sys.prefix))
    steps = [block for document in DOCUMENTS for block in blocks(document)]
    (tmp_path / "docs.sh").write_text(script(steps, server.url))
    done = subprocess.run(
        ["bash", str(tmp_path / "docs.sh")],
        cwd=workdir,
        env={**env, "COLUMNS": "120"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    (tmp_path / "docs.out").write_text(done.stdout + "\n--- stderr\n" + done.stderr)  # to read after a failure
    ran = re.findall(r"^>>> (\S+)$", done.stderr, re.M)
    assert done.returncode == 0, (
        f"failed in {ran[-1] if ran else 'the first block'}:\n"
        f"--- stdout (end)\n{done.stdout[-4000:]}\n--- stderr (end)\n{done.stderr[-4000:]}"
    )
    assert ran == [block.where for block in steps]
    assert "Traceback" not in done.stderr
