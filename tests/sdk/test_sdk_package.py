"""The SDK as it is shipped: `python -m build clients/python` makes a wheel and an sdist of
the version in `_version.py`, the wheel installs and imports on its own, the sdist carries
the changelog, and `registry-client --version` prints that version."""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from registry_client import __version__
from tests.sdk.support import cli

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_the_build_makes_a_wheel_and_an_sdist_of_the_version(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(tmp_path / "dist"), str(ROOT / "clients" / "python")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    wheel = tmp_path / "dist" / f"registry_client-{__version__}-py3-none-any.whl"
    sdist = tmp_path / "dist" / f"registry_client-{__version__}.tar.gz"
    assert wheel.exists() and sdist.exists(), sorted(p.name for p in (tmp_path / "dist").iterdir())

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(f"registry_client-{__version__}.dist-info/METADATA").decode()
        entry_points = archive.read(f"registry_client-{__version__}.dist-info/entry_points.txt").decode()
    assert {"registry_client/py.typed", "registry_client/resources/admin/disputes.py"} <= names
    assert not [n for n in names if n.startswith("tests/") or "__pycache__" in n]
    assert re.search(rf"^Version: {re.escape(__version__)}$", metadata, re.M)
    assert "registry-client = registry_client.cli:main" in entry_points
    with tarfile.open(sdist) as archive:
        assert f"registry_client-{__version__}/CHANGELOG.md" in archive.getnames()

    # The wheel alone, on a path of its own, is the package (its dependencies come from this environment).
    target = tmp_path / "installed"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    probe = (
        f"import sys; sys.path.insert(0, {str(target)!r}); import registry_client; "
        "print(registry_client.__version__, registry_client.__file__)"
    )
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    version, location = shown.stdout.split()
    assert version == __version__ and location.startswith(str(target))


def test_the_command_prints_its_version():
    done = cli({"PATH": "/usr/bin:/bin"}, "--version")
    assert done.returncode == 0 and done.stdout.strip() == f"registry-client {__version__}"


def test_the_changelog_names_the_version():
    changelog = (ROOT / "clients" / "python" / "CHANGELOG.md").read_text()
    assert re.search(rf"^## {re.escape(__version__)}\b", changelog, re.M)
