"""Customers in partitions, partitions to workers by rendezvous hashing.

A customer key hashes into one of ``P`` partitions, fixed per deployment; the
workers lease partitions, not customers, so what they renew does not grow with
the customers. Which worker *should* own a partition is its highest-random-weight
(rendezvous) winner among the live workers: when a worker joins or leaves, only
the partitions it wins or held change hands, about ``P / M`` of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

__all__ = ["DEFAULT_PARTITIONS", "assigned", "owners", "partition_of"]

DEFAULT_PARTITIONS = 1024
"""Partitions of a deployment unless told otherwise (stored in Redis at the
first start; every worker must agree)."""


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest())


def partition_of(key: str, partitions: int) -> int:
    """The partition of customer ``key`` (stable across processes and versions)."""
    return _hash(key) % partitions


def owners(workers: Iterable[str], partitions: int) -> list[str | None]:
    """Each partition's rendezvous winner among ``workers`` (``None``: no worker)."""
    live = sorted(set(workers))
    if not live:
        return [None] * partitions
    return [
        max(live, key=lambda worker: (_hash(f"{worker}\x00{p}"), worker))
        for p in range(partitions)
    ]


def assigned(worker: str, workers: Iterable[str], partitions: int) -> set[int]:
    """The partitions ``worker`` should own among ``workers``."""
    return {p for p, owner in enumerate(owners(workers, partitions)) if owner == worker}
