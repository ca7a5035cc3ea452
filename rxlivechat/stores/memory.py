"""The default store: in this process's memory, gone when the process ends."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

from ._batching import BatchingStore, ChatUpdate, CustomerKey
from .base import ChatCheckpoint, Identity, Snapshot

__all__ = ["MemoryStore"]


class _Chat:
    """A chat's checkpoint, kept mutable: a batch costs what it holds, not the bound."""

    __slots__ = ("created_at", "event_id", "ids", "thread_id")

    def __init__(self, update: ChatUpdate) -> None:
        self.event_id = update.event_id
        self.created_at = update.created_at
        self.thread_id = update.thread_id
        self.ids: OrderedDict[str, None] = OrderedDict()

    def apply(self, update: ChatUpdate, bound: int) -> None:
        if update.created_at >= self.created_at:
            self.event_id = update.event_id
            self.created_at = update.created_at
            self.thread_id = update.thread_id
        ids = self.ids
        for event_id in update.ids:
            ids[event_id] = None
            ids.move_to_end(event_id)
        while len(ids) > bound:
            ids.popitem(last=False)

    def checkpoint(self, chat_id: str) -> ChatCheckpoint:
        return ChatCheckpoint(
            chat_id=chat_id,
            event_id=self.event_id,
            created_at=self.created_at,
            thread_id=self.thread_id,
            recent_ids=tuple(self.ids),
        )


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
        self._chats: dict[CustomerKey, dict[str, _Chat]] = {}
        self._epochs: dict[CustomerKey, int] = {}
        """The newest epoch that wrote each fenced customer."""

    def __repr__(self) -> str:
        customers = self._chats.keys() | self._identities.keys()
        return f"MemoryStore(customers={len(customers)})"

    async def _backend_open(self) -> None:
        pass

    async def _backend_close(self) -> None:
        pass

    async def _backend_load(self, customer: CustomerKey) -> Snapshot:
        return Snapshot(
            identity=self._identities.get(customer),
            checkpoints={
                chat_id: chat.checkpoint(chat_id)
                for chat_id, chat in self._chats.get(customer, {}).items()
            },
            side_storage=dict(self._side_storage.get(customer, {})),
        )

    def _passes(self, customer: CustomerKey) -> bool:
        """The fence rule: refused when a newer epoch wrote; else the epoch is kept."""
        epoch = self._fence_of(customer).epoch
        if self._epochs.get(customer, 0) > epoch:
            return False
        if epoch:
            self._epochs[customer] = epoch
        return True

    async def _backend_write(
        self, batch: Mapping[CustomerKey, Mapping[str, ChatUpdate]]
    ) -> None:
        for customer, chats in batch.items():
            if not self._passes(customer):
                self._refused(customer)
                continue
            stored = self._chats.setdefault(customer, {})
            for chat_id, update in chats.items():
                chat = stored.get(chat_id)
                if chat is None:
                    chat = stored[chat_id] = _Chat(update)
                chat.apply(update, self.recent_ids)

    async def _backend_save_identity(
        self, customer: CustomerKey, identity: Identity
    ) -> None:
        if not self._passes(customer):
            raise self._refused(customer)
        self._identities[customer] = identity

    async def _backend_save_side_storage(
        self, customer: CustomerKey, storage: dict[str, str]
    ) -> None:
        if not self._passes(customer):
            raise self._refused(customer)
        self._side_storage[customer] = storage
