"""Packaging: ``python -m build`` makes a wheel and an sdist; the wheel installs in
a fresh virtual environment (runtime dependencies only) and runs the quickstart.

This is the slowest test (a build, a venv, an install from the package index or
pip's cache): about 15 to 40 seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import rxlivechat

from .test_docs import quickstart

ROOT = Path(__file__).parent.parent


def run(*command: str | Path, cwd: Path, timeout: float = 240) -> str:
    env = {
        k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}
    }
    result = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
        check=False,
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_wheel_installs_in_a_fresh_venv_and_runs_the_quickstart(
    tmp_path: Path,
) -> None:
    # Build: the sdist first, then the wheel from the sdist (so the sdist builds).
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "build", "--outdir", dist, ROOT, cwd=tmp_path)
    version = rxlivechat.__version__
    (wheel,) = dist.glob(f"rxlivechat-{version}-py3-none-any.whl")
    (sdist,) = dist.glob(f"rxlivechat-{version}.tar.gz")

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "rxlivechat/py.typed" in names
    assert "rxlivechat/sandbox/server.py" in names
    for name in ("index.html", "console.js", "console.css"):  # the agent console
        assert f"rxlivechat/sandbox/console/{name}" in names
    with zipfile.ZipFile(wheel) as archive:
        entry_points = archive.read(f"rxlivechat-{version}.dist-info/entry_points.txt")
    assert b"rxlivechat = rxlivechat.testing.pytest_plugin" in entry_points
    assert f"rxlivechat-{version}.dist-info/licenses/LICENSE" in names
    assert not any(name.startswith("tests/") for name in names)
    with tarfile.open(sdist) as archive:
        members = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for expected in ("pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md"):
        assert expected in members
    assert "docs/index.md" in members

    # Install the wheel alone in a new venv: pip brings the runtime dependencies.
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        wheel, cwd=tmp_path)  # fmt: skip

    # It imports, from the venv (not from this checkout), with the right version,
    # without the optional extras.
    probe = (
        "import importlib.metadata as md, importlib.util as u, rxlivechat\n"
        "print(rxlivechat.__file__)\n"
        "print(rxlivechat.__version__, md.version('rxlivechat'))\n"
        "print(u.find_spec('pandas') is None, u.find_spec('tqdm') is None)\n"
        "print(sorted(r.split(';')[0].split('>')[0] for r in md.requires('rxlivechat')"
        " if 'extra' not in r))"
    )
    where, versions, no_extras, requires = run(
        python, "-c", probe, cwd=tmp_path
    ).splitlines()
    assert where.startswith(str(venv))
    assert versions == f"{version} {version}"
    assert no_extras == "True True"
    assert requires == "['aiohttp', 'msgspec', 'reactivex']"

    # The quickstart runs as the docs print it, and the script is installed.
    script = tmp_path / "quickstart.py"
    script.write_text(quickstart())
    out = run(python, script, cwd=tmp_path, timeout=60)
    assert out.splitlines()[-1] == "history: 3 events"
    assert run(venv / "bin" / "rxlivechat", "--version", cwd=tmp_path).strip() == (
        f"rxlivechat {version}"
    )
