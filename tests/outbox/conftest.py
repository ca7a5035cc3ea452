"""The outbox on each store kind, on fresh, real storage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rxlivechat.stores import MemoryStore, RedisStore, SQLiteStore, Store

from ..redis_server import redis_server, redis_url  # noqa: F401

KINDS = ["memory", "sqlite", "redis"]


def make_store(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A factory of stores of ``kind`` on one storage (each call: a "restart")."""
    if kind == "sqlite":
        path = tmp_path / "store.db"
        return lambda: SQLiteStore(path)
    if kind == "redis":
        url: str = request.getfixturevalue("redis_url")
        return lambda: RedisStore(url)
    memory = MemoryStore()
    return lambda: memory


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """``() -> Store`` of each kind; every call opens the same storage."""
    factory = make_store(request.param, request, tmp_path)
    return factory


__all__ = ["KINDS", "Store", "make_store", "store"]
