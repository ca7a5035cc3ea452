"""Durable checkpoints and identity: where a customer's progress is kept.

* :class:`MemoryStore`: in memory (the default; nothing outlives the process).
* :class:`SQLiteStore`: one SQLite file, one process per customer.
* :class:`RedisStore`: Redis, customers shared by processes (the ``redis`` extra).

:func:`as_store` turns what a user passes as ``store=`` into a :class:`Store`.
The format and the guarantees are in ``docs/stores.md``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidArgumentError
from ._batching import BatchingStore, CustomerHandle
from .base import (
    DEFAULT_KEY,
    RECENT_IDS,
    ChatCheckpoint,
    CustomerStore,
    Identity,
    Snapshot,
    Store,
)
from .memory import MemoryStore
from .sqlite import SQLiteStore

if TYPE_CHECKING:
    from .redis import RedisStore

__all__ = [
    "DEFAULT_KEY",
    "RECENT_IDS",
    "BatchingStore",
    "ChatCheckpoint",
    "CustomerHandle",
    "CustomerStore",
    "Identity",
    "MemoryStore",
    "RedisStore",
    "SQLiteStore",
    "Snapshot",
    "Store",
    "as_store",
]

_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def __getattr__(name: str) -> Any:
    # RedisStore's module is light, but keep `redis` out until someone asks.
    if name == "RedisStore":
        from .redis import RedisStore

        return RedisStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def as_store(value: Store | str | os.PathLike[str] | None) -> Store:
    """The store meant by a ``store=`` argument.

    Args:
        value: a :class:`Store` (returned as it is); ``None`` (a new
            :class:`MemoryStore`); a ``redis://``, ``rediss://`` or ``unix://`` URL
            (a :class:`RedisStore`); any other ``str`` or path (an
            :class:`SQLiteStore` on that file).

    Raises:
        InvalidArgumentError: anything else.
    """
    if value is None:
        return MemoryStore()
    if isinstance(value, str) and value.startswith(_REDIS_SCHEMES):
        from .redis import RedisStore

        return RedisStore(value)
    if isinstance(value, str | os.PathLike):
        if not os.fspath(value):
            raise InvalidArgumentError("store path is empty")
        return SQLiteStore(value)
    if isinstance(value, Store):
        return value
    raise InvalidArgumentError(
        f"store must be a Store, a path or a redis:// URL, not {value!r}"
    )
