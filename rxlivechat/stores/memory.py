"""The default store: in this process's memory, gone when the process ends."""

from __future__ import annotations

from collections.abc import Mapping

from ._batching import BatchingStore, ChatUpdate, CustomerKey, merge_checkpoint
from .base import ChatCheckpoint, Identity, Snapshot

__all__ = ["MemoryStore"]


class MemoryStore(BatchingStore):
    """Checkpoints in memory: what the SDK does without a durable store.

    It behaves as the other stores do (batched, monotonic commits), so one
    ``MemoryStore`` handed to a second SDK in the same process carries the
    customer over, but nothing outlives the process.

    Args:
        flush_interval: see :class:`~rxlivechat.stores.SQLiteStore`.
        batch_size: see :class:`~rxlivechat.stores.SQLiteStore`.
        recent_ids: see :class:`~rxlivechat.stores.SQLiteStore`.
    """

    def __init__(
        self,
        *,
        flush_interval: float = 0.05,
        batch_size: int = 1000,
        recent_ids: int = 256,
    ) -> None:
        super().__init__(
            flush_interval=flush_interval, batch_size=batch_size, recent_ids=recent_ids
        )
        self._identities: dict[CustomerKey, Identity] = {}
        self._side_storage: dict[CustomerKey, dict[str, str]] = {}
        self._checkpoints: dict[CustomerKey, dict[str, ChatCheckpoint]] = {}

    def __repr__(self) -> str:
        return f"MemoryStore(customers={len(self._checkpoints | self._identities)})"

    async def _backend_open(self) -> None:
        pass

    async def _backend_close(self) -> None:
        pass

    async def _backend_load(self, customer: CustomerKey) -> Snapshot:
        return Snapshot(
            identity=self._identities.get(customer),
            checkpoints=dict(self._checkpoints.get(customer, {})),
            side_storage=dict(self._side_storage.get(customer, {})),
        )

    async def _backend_write(
        self, batch: Mapping[CustomerKey, Mapping[str, ChatUpdate]]
    ) -> None:
        for customer, chats in batch.items():
            stored = self._checkpoints.setdefault(customer, {})
            for chat_id, update in chats.items():
                stored[chat_id] = merge_checkpoint(
                    stored.get(chat_id), chat_id, update, self.recent_ids
                )

    async def _backend_save_identity(
        self, customer: CustomerKey, identity: Identity
    ) -> None:
        self._identities[customer] = identity

    async def _backend_save_side_storage(
        self, customer: CustomerKey, storage: dict[str, str]
    ) -> None:
        self._side_storage[customer] = storage
