"""The docs' code works: the quickstart and every runnable example run as written.

A block marked ``<!-- quickstart ... -->`` or ``<!-- runnable -->`` is a complete
script and runs in a subprocess; ``<!-- runnable: pytest -->`` is a test file and
runs under pytest. Every other Python block of the docs and the README must at least
compile (top-level ``await`` allowed, as in a notebook).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PAGES = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]

_MARKED = re.compile(
    r"<!-- (?P<mark>quickstart|runnable(?:: pytest)?)\b[^>]*-->\n"
    r"```python\n(?P<code>.*?)\n```",
    re.S,
)
_BLOCK = re.compile(r"^```python\n(?P<code>.*?)\n```", re.S | re.M)


def marked_blocks() -> list[tuple[str, str, str]]:
    """``(id, mark, code)`` of every marked block of the docs."""
    found = []
    for page in PAGES:
        for n, match in enumerate(_MARKED.finditer(page.read_text())):
            name = f"{page.relative_to(ROOT)}#{n}"
            found.append((name, match.group("mark"), match.group("code")))
    return found


def quickstart() -> str:
    """The quickstart block of the docs' home page (the README has the same)."""
    (code,) = {code for _, mark, code in marked_blocks() if mark == "quickstart"}
    return code


def test_the_readme_example_is_the_quickstart() -> None:
    readme = (ROOT / "README.md").read_text()
    assert quickstart() in readme


def test_the_quickstart_runs_as_written(tmp_path: Path) -> None:
    script = tmp_path / "quickstart.py"
    script.write_text(quickstart())
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=50,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "history: 3 events"
    assert any(
        line.startswith("live: ")
        and line.endswith("Hello! Yes, we ship to all of Europe.")
        for line in lines
    )


RUNNABLE = [block for block in marked_blocks() if block[1] != "quickstart"]


@pytest.mark.parametrize(
    ("name", "mark", "code"), RUNNABLE, ids=[name for name, _, _ in RUNNABLE]
)
def test_every_runnable_example_runs(
    name: str, mark: str, code: str, tmp_path: Path
) -> None:
    if mark == "runnable: pytest":
        script = tmp_path / "test_example.py"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        command += [
            "-p",
            "no:nbmake",
            "-o",
            "asyncio_default_fixture_loop_scope=function",
        ]
        command.append(str(script))
    else:
        script = tmp_path / "example.py"
        command = [sys.executable, str(script)]
    script.write_text(code)
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=50,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, f"{name}\n{result.stdout}\n{result.stderr}"


def test_there_are_runnable_examples() -> None:
    marks = [mark for _, mark, _ in marked_blocks()]
    assert marks.count("quickstart") == 2  # the docs' home page and the README
    assert marks.count("runnable") >= 4
    assert "runnable: pytest" in marks


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_python_block_compiles(page: Path) -> None:
    for match in _BLOCK.finditer(page.read_text()):
        code = match.group("code")
        line = page.read_text()[: match.start()].count("\n") + 2
        try:
            compile(
                code,
                f"{page}:{line}",
                "exec",
                flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
                dont_inherit=True,
            )
        except SyntaxError as exc:
            pytest.fail(f"{page.relative_to(ROOT)}:{line}: {exc}")
