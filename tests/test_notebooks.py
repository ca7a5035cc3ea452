"""The notebooks: stored clean, and executed by the test suite.

pytest runs each notebook in ``notebooks/`` with nbmake (``pyproject.toml`` adds the
folder to ``testpaths`` and ``--nbmake`` to the options); this file checks what
executing them cannot: that they are stored without outputs, and that the
configuration really runs them.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_the_three_notebooks() -> None:
    assert [path.name for path in NOTEBOOKS] == [
        "01_quickstart.ipynb",
        "02_pipelines.ipynb",
        "03_history_pandas.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_a_notebook_is_stored_without_outputs(path: Path) -> None:
    notebook: dict[str, Any] = json.loads(path.read_text())
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"{path.name}: clear the outputs"
            assert cell["execution_count"] is None, f"{path.name}: clear the counts"


def test_the_test_command_executes_the_notebooks() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    options = config["tool"]["pytest"]["ini_options"]
    assert "notebooks" in options["testpaths"]
    assert "--nbmake" in options["addopts"].split()
