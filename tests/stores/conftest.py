"""Stores under test: one factory per kind, each on fresh, real storage."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rxlivechat.stores import BatchingStore, MemoryStore, RedisStore, SQLiteStore

from ..redis_server import redis_server, redis_url  # noqa: F401

StoreFactory = Callable[..., BatchingStore]
"""``(**options) -> store``; every call gives a store on the same storage (a
"restart"); for memory, the same store."""

KINDS = ["memory", "sqlite", "redis"]


def factory(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """A factory of stores of ``kind`` on this test's storage."""
    if kind == "sqlite":
        path = tmp_path / "store.db"
        return lambda **options: SQLiteStore(path, **options)
    if kind == "redis":
        url: str = request.getfixturevalue("redis_url")
        return lambda **options: RedisStore(url, **options)
    memory: list[MemoryStore] = []

    def same_memory(**options: Any) -> MemoryStore:
        if not memory:
            memory.append(MemoryStore(**options))
        return memory[0]

    return same_memory


@pytest.fixture(params=KINDS)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """Stores of each kind in turn."""
    return factory(request.param, request, tmp_path)


@pytest.fixture(params=["sqlite", "redis"])
def durable(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """``(kind, target)`` of each durable kind: a path or a URL, for child processes."""
    if request.param == "sqlite":
        return "sqlite", str(tmp_path / "store.db")
    url: str = request.getfixturevalue("redis_url")
    return "redis", url
