"""The core of the test suite on every supported Python: ``nox`` (``make versions``).

One session per Python of the classifiers. Each installs rxlivechat and the test
tools (pinned once, in pyproject.toml's ``dev`` extra) into its own virtualenv
under ``.nox/``, kept between runs, and runs the core tests: the protocol, the
engine, the methods, the stores, the platform simulation and the lifecycle
scenarios. The whole suite runs on the Python of ``.venv`` (``make pytest``).

Interpreters are taken from PATH, and first from pyenv's versions where pyenv
keeps them (``$PYENV_ROOT/versions/3.X.Y/bin``: its shims answer only for the
versions made global). A Python the machine lacks is skipped, with the reason.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nox

PYTHONS = ["3.11", "3.12", "3.13"]

CORE = [
    "tests/protocol",
    "tests/engine",
    "tests/methods",
    "tests/stores",
    "tests/test_platform.py",
    "tests/scenarios/test_lifecycle.py",
    # Left to `make pytest`, to keep this short: the property tests of every
    # model (over a minute per Python) and the backoff's arithmetic.
    "--ignore=tests/protocol/test_roundtrip.py",
    "--ignore=tests/engine/test_backoff.py",
]

# What the core tests import beyond rxlivechat, by name; the versions come from
# the dev extra. (The full dev extra would add docs, notebooks and a browser.)
TEST_TOOLS = {"pytest", "pytest-asyncio", "pytest-timeout", "hypothesis", "redis"}

nox.options.sessions = ["core"]
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = False  # skipped, and said so


def _pyenv_first() -> None:
    """Put each wanted pyenv version (the newest patch) at the front of PATH."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found: list[str] = []
    for version in PYTHONS:
        patches = [
            (int(match[1]), path)
            for path in root.glob(f"{version}.*")
            if (match := re.fullmatch(rf"{re.escape(version)}\.(\d+)", path.name))
            and (path / "bin" / f"python{version}").exists()
        ]
        if patches:
            found.append(str(max(patches)[1] / "bin"))
    os.environ["PATH"] = os.pathsep.join([*found, os.environ.get("PATH", "")])


def _test_tools() -> list[str]:
    dev = nox.project.load_toml("pyproject.toml")["project"]["optional-dependencies"]
    return [
        spec
        for spec in dev["dev"]
        if re.split(r"[<>=!~\[ ;]", spec, maxsplit=1)[0] in TEST_TOOLS
    ]


_pyenv_first()


@nox.session(python=PYTHONS)
def core(session: nox.Session) -> None:
    """The core tests on one Python (``-x``: the first failure ends it)."""
    session.install("-e", ".", *_test_tools())
    session.run(
        "python",
        "-X",
        "dev",
        "-m",
        "pytest",
        # pyproject's addopts, without nbmake (the notebooks run in `make pytest`).
        "-o",
        "addopts=-ra -p no:cacheprovider",
        "-x",
        "-q",
        *(session.posargs or CORE),
    )
