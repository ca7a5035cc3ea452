"""Generated files (stubs, overloads) are checked in as ``ruff`` writes them.

A generator renders its text; :func:`formatted` passes it through ruff's import
sorting and formatter, so the drift tests compare like with like. Where ruff is
not installed (the nox sessions of each Python version install only what the
core tests need), the drift test skips: the main test run checks it.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

__all__ = ["formatted"]


def formatted(text: str, path: Path, *, sort_imports: bool = True) -> str:
    """``text`` as ruff writes the file at ``path`` (skips the test without ruff)."""
    if importlib.util.find_spec("ruff") is None:
        pytest.skip(
            "ruff is not installed here (the main test run checks the generated files)"
        )
    steps = [["format"]]
    if sort_imports:
        steps.insert(0, ["check", "--fix", "--select", "I", "--quiet"])
    for step in steps:
        text = subprocess.run(
            [sys.executable, "-m", "ruff", *step, "--stdin-filename", str(path), "-"],
            input=text,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return text
