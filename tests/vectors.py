"""The official docs' JSON examples, read in place from ``../shared/vectors``.

That folder sits beside the project root on the team's machines; a user's clone
has none, and every test that needs it skips with a reason.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest

VECTORS_DIR = Path(__file__).resolve().parents[2] / "shared" / "vectors"


def vector_names(suffix: str) -> list[str]:
    """File names in the vectors folder ending with ``suffix`` (empty if absent)."""
    if not VECTORS_DIR.is_dir():
        return []
    return sorted(p.name for p in VECTORS_DIR.glob(f"*{suffix}"))


def params(suffix: str) -> list[Any]:
    """Pytest params over :func:`vector_names`, or one skipped param if absent."""
    names = vector_names(suffix)
    if names:
        return names
    reason = f"no protocol vectors at {VECTORS_DIR} (not a team checkout)"
    return [pytest.param(None, marks=pytest.mark.skip(reason=reason))]


def load(name: str) -> Any:
    """The parsed JSON of one vector file."""
    return json.loads((VECTORS_DIR / name).read_text())


def normalize(doc: Any) -> Any:
    """A document with the differences that carry no meaning taken out.

    Keys whose value is null, ``[]`` or ``{}`` are dropped (we leave absent what
    the docs wrote empty), and RFC 3339 strings become ``datetime``s (we may write
    ``…:18Z`` where the docs wrote ``…:18.000000Z``).
    """
    if isinstance(doc, dict):
        out = {}
        for key, value in doc.items():
            value = normalize(value)
            if value is None or value == [] or value == {}:
                continue
            out[key] = value
        return out
    if isinstance(doc, list):
        return [normalize(item) for item in doc]
    if (
        isinstance(doc, str)
        and len(doc) >= 20
        and doc[4:5] == "-"
        and doc[10:11] == "T"
    ):
        try:
            return datetime.datetime.fromisoformat(doc)
        except ValueError:
            return doc
    return doc
