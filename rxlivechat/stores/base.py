"""What a checkpoint store keeps, and the interface the SDK calls.

A *store* holds, per customer, what a restarted process needs to carry on as the
same customer without losing an event:

* the :class:`Identity` (what the accounts cookie grant needs to give back the
  same customer);
* a :class:`ChatCheckpoint` per chat: the newest *committed* event (an event the
  subscribers have handled) and the ids of the last committed events;
* the customer side storage.

A store (:class:`Store`) may hold many customers; the SDK works through one
customer's handle (:class:`CustomerStore`), named by organization and a key of the
user's choice. Commits are buffered and written in batches by a background writer;
``flush()`` waits until every commit made so far is written.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

import msgspec

from ..exceptions import StoreError

__all__ = [
    "DEFAULT_KEY",
    "RECENT_IDS",
    "ChatCheckpoint",
    "CustomerStore",
    "Identity",
    "Snapshot",
    "Store",
]

RECENT_IDS = 256
"""How many committed event ids a checkpoint remembers per chat, to drop the
duplicates a recovery walk meets (the same bound as the reconnect ledger's)."""

DEFAULT_KEY = "default"
"""The customer key when a process runs one customer."""


class Identity(msgspec.Struct, frozen=True, kw_only=True):
    """Who the customer is: what the accounts grant needs to give back the same one."""

    customer_id: str
    """The customer's id (the token's ``entity_id``)."""
    organization_id: str
    client_id: str
    cookies: dict[str, str] = msgspec.field(default_factory=dict)
    """The accounts cookies, name → value (``__lc_cid``, ``__lc_cst``...)."""

    def __repr__(self) -> str:  # the cookies are secrets
        return (
            f"Identity(customer_id={self.customer_id!r}, "
            f"organization_id={self.organization_id!r}, cookies={sorted(self.cookies)})"
        )


class ChatCheckpoint(msgspec.Struct, frozen=True, kw_only=True):
    """Where the customer is in one chat: the newest committed event, the last ids."""

    chat_id: str
    event_id: str
    """The newest committed event (by ``created_at``)."""
    created_at: datetime.datetime
    """When that event was created (server time, aware)."""
    thread_id: str
    """The thread of that event."""
    recent_ids: tuple[str, ...] = ()
    """The last committed event ids, oldest first, at most the store's bound."""


class Snapshot(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a store holds for one customer, read once at startup."""

    identity: Identity | None = None
    """``None`` until the first :meth:`CustomerStore.save_identity`."""
    checkpoints: dict[str, ChatCheckpoint] = msgspec.field(default_factory=dict)
    """By chat id."""
    side_storage: dict[str, str] = msgspec.field(default_factory=dict)


@runtime_checkable
class CustomerStore(Protocol):
    """One customer's view of a store: what the SDK calls.

    Open it (``async with``) before use; opening also opens the store. In an
    :class:`~rxlivechat.stores.SQLiteStore` a customer is open in one process at a
    time (:class:`~rxlivechat.exceptions.StoreLockedError` otherwise).
    """

    @property
    def organization_id(self) -> str:
        """The customer's organization."""
        ...

    @property
    def key(self) -> str:
        """The customer's key within the organization."""
        ...

    async def open(self) -> None:
        """Open the store (if needed) and claim the customer."""
        ...

    async def close(self) -> None:
        """Write what is buffered, release the customer and the store."""
        ...

    async def load(self) -> Snapshot:
        """Everything stored for the customer (one read, at startup)."""
        ...

    async def save_identity(self, identity: Identity) -> None:
        """Store the identity; written when this returns."""
        ...

    def commit(
        self,
        chat_id: str,
        event_id: str,
        created_at: datetime.datetime,
        thread_id: str,
    ) -> None:
        """Record that the event was handled; buffered, written by the next batch.

        A checkpoint never moves back: an event older than the chat's newest
        committed one only joins the recent ids.
        """
        ...

    async def save_side_storage(self, storage: Mapping[str, str]) -> None:
        """Replace the stored customer side storage; written when this returns."""
        ...

    async def flush(self) -> None:
        """Return once every commit made so far is written."""
        ...

    def on_write_error(self, report: Callable[[StoreError], None]) -> None:
        """Call ``report(error)`` each time a background write fails, until closed.

        The SDK turns each into an ``error`` event: a store that stopped taking
        commits (a Redis that lost the store) is never silent.
        """
        ...

    async def __aenter__(self) -> Self:
        """Open; see :meth:`open`."""
        ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close; see :meth:`close`."""
        ...


@runtime_checkable
class Store(Protocol):
    """A place that keeps customers' identities, checkpoints and side storage.

    ``open()`` and ``close()`` count: the store really closes at the last
    ``close()``, so several users (and customers) can share one store.
    """

    async def open(self) -> None:
        """Open the store (idempotent, counted)."""
        ...

    async def close(self) -> None:
        """Write what is buffered; close at the last matching call."""
        ...

    async def flush(self) -> None:
        """Return once every commit made so far, of every customer, is written."""
        ...

    def customer(self, organization_id: str, key: str = DEFAULT_KEY) -> CustomerStore:
        """The handle of one customer (not opened yet)."""
        ...

    async def __aenter__(self) -> Self:
        """Open; see :meth:`open`."""
        ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close; see :meth:`close`."""
        ...
