"""What every store shares: buffered commits, written in batches in the background.

Also the counted open/close and the customer handles.

A backend (memory, SQLite, Redis) implements the ``_backend_*`` methods; each
batch reaches it as one call (one SQLite transaction, one Redis pipeline).
Commits to the same chat within a batch are folded into one update: its newest
event and the ids in commit order.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import NamedTuple, Self

from ..exceptions import FencedError, InvalidArgumentError, StoreError
from .base import DEFAULT_KEY, RECENT_IDS, ChatCheckpoint, Identity, Snapshot

__all__ = [
    "BatchingStore",
    "ChatUpdate",
    "CustomerKey",
    "Fence",
    "FencedReport",
    "merge_checkpoint",
]

log = logging.getLogger("rxlivechat.stores")

MAX_RETRY_DELAY = 5.0
"""Seconds at most between two tries of a batch the backend keeps refusing (a
Redis that lost the store refuses until someone restores it)."""

WriteErrorReport = Callable[[StoreError], None]
"""Told when the background writer fails to write a batch."""

CustomerKey = tuple[str, str]
"""``(organization_id, key)``: one customer of a store."""

FencedReport = Callable[[CustomerKey, FencedError], None]
"""Told when the backend refuses a customer's write: a newer epoch exists."""


class Fence(NamedTuple):
    """The fencing token every write of one customer carries.

    A write is refused when the store knows a newer epoch for the customer: the
    newest epoch that wrote it, or (Redis) the value of ``counter``, the lease
    authority's epoch counter, which a new owner raises when it claims.
    """

    epoch: int
    counter: str | None = None


UNFENCED = Fence(0)
"""What an unfenced write carries: refused once any fenced owner wrote."""


class ChatUpdate:
    """The commits of one chat since the last batch, folded into one update."""

    __slots__ = ("created_at", "event_id", "ids", "thread_id")

    def __init__(
        self, event_id: str, created_at: datetime.datetime, thread_id: str
    ) -> None:
        self.event_id = event_id
        self.created_at = created_at
        self.thread_id = thread_id
        self.ids = [event_id]

    def add(self, event_id: str, created_at: datetime.datetime, thread_id: str) -> None:
        """Fold in one more commit (later commits win ties on ``created_at``)."""
        self.ids.append(event_id)
        if created_at >= self.created_at:
            self.event_id, self.created_at, self.thread_id = (
                event_id,
                created_at,
                thread_id,
            )

    def absorb(self, later: ChatUpdate) -> None:
        """Fold in an update made after this one (to retry a failed batch)."""
        self.ids.extend(later.ids)
        if later.created_at >= self.created_at:
            self.event_id, self.created_at, self.thread_id = (
                later.event_id,
                later.created_at,
                later.thread_id,
            )


Batch = dict[CustomerKey, dict[str, ChatUpdate]]


def merge_ids(old: Iterable[str], new: Iterable[str], bound: int) -> tuple[str, ...]:
    """The ids after ``new`` were committed, oldest first, the last ``bound``.

    An id committed again moves to the end (as in the Redis script).
    """
    merged = dict.fromkeys(old)
    for event_id in new:
        merged.pop(event_id, None)
        merged[event_id] = None
    ids = tuple(merged)
    return ids[-bound:] if len(ids) > bound else ids


def merge_checkpoint(
    old: ChatCheckpoint | None, chat_id: str, update: ChatUpdate, bound: int
) -> ChatCheckpoint:
    """``old`` after ``update``: never moves back, ties go to the update."""
    if old is not None and update.created_at < old.created_at:
        newest = (old.event_id, old.created_at, old.thread_id)
    else:
        newest = (update.event_id, update.created_at, update.thread_id)
    return ChatCheckpoint(
        chat_id=chat_id,
        event_id=newest[0],
        created_at=newest[1],
        thread_id=newest[2],
        recent_ids=merge_ids(old.recent_ids if old else (), update.ids, bound),
    )


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def _check_customer(organization_id: object, key: object) -> CustomerKey:
    # Redis keys are "<prefix>:<org>:<key>:<what>": with no ":" in the organization
    # id and fixed <what> words, any key (even "sms:+15550100") names one customer.
    if not isinstance(organization_id, str) or not organization_id:
        raise InvalidArgumentError("organization_id must be a non-empty string")
    if ":" in organization_id:
        raise InvalidArgumentError(f"organization_id has a ':': {organization_id!r}")
    if not isinstance(key, str) or not key:
        raise InvalidArgumentError(f"key must be a non-empty string, got {key!r}")
    return organization_id, key


class BatchingStore:
    """A store whose commits are buffered and written in batches.

    Args:
        flush_interval: seconds a commit may wait in the buffer before the
            background writer writes its batch.
        batch_size: a batch is written as soon as it holds this many commits.
        recent_ids: how many event ids each checkpoint remembers.
    """

    def __init__(
        self,
        *,
        flush_interval: float = 0.05,
        batch_size: int = 1000,
        recent_ids: int = RECENT_IDS,
    ) -> None:
        if not flush_interval > 0:
            raise InvalidArgumentError(f"flush_interval must be > 0: {flush_interval}")
        if batch_size < 1 or recent_ids < 1:
            raise InvalidArgumentError("batch_size and recent_ids must be >= 1")
        self._interval = flush_interval
        self._batch_size = batch_size
        self.recent_ids = recent_ids
        self._opened = 0
        self._open_lock = asyncio.Lock()
        self._flush_lock = asyncio.Lock()
        self._pending: Batch = {}
        self._pending_commits = 0
        self._dirty = asyncio.Event()  # something waits in the buffer
        self._full = asyncio.Event()  # a whole batch waits
        self._writer: asyncio.Task[None] | None = None
        self._reports: dict[CustomerHandle, WriteErrorReport] = {}
        self._lost: dict[CustomerKey, StoreError] = {}
        """Customers the backend found gone (a Redis identity that vanished) or
        fenced off: their commits are dropped until the store is closed (or,
        fenced, until a newer :meth:`fence`)."""
        self._fences: dict[CustomerKey, Fence] = {}
        self._fenced_reports: list[FencedReport] = []
        self.batches_written = 0
        """How many batches reached the backend (SQLite transactions, Redis
        pipelines): many commits make few batches."""

    # Life --------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """Whether the store is open."""
        return self._opened > 0

    async def open(self) -> None:
        """Open the store (counted: only the first call opens the backend)."""
        async with self._open_lock:
            if self._opened == 0:
                # Fresh primitives: a store may be reopened under another loop.
                self._flush_lock = asyncio.Lock()
                self._dirty, self._full = asyncio.Event(), asyncio.Event()
                if self._pending:
                    self._dirty.set()
                await self._backend_open()
                self._writer = asyncio.create_task(
                    self._write_in_background(), name=f"{type(self).__name__} writer"
                )
            self._opened += 1

    async def close(self) -> None:
        """Write what is buffered; the last matching call closes the backend."""
        async with self._open_lock:
            if self._opened == 0:
                return
            self._opened -= 1
            if self._opened:
                await self.flush()
                return
            writer, self._writer = self._writer, None
            if writer is not None:
                async with self._flush_lock:  # let a batch being written finish
                    writer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await writer
            try:
                await self.flush()
            finally:
                self._lost.clear()
                self._fences.clear()
                await self._backend_close()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def customer(self, organization_id: str, key: str = DEFAULT_KEY) -> CustomerHandle:
        """The handle of one customer, named by organization and key.

        Raises:
            InvalidArgumentError: an empty name, or an organization id with a
                ``:``.
        """
        return CustomerHandle(
            self,
            _check_customer(organization_id, key),
        )

    # Fencing -----------------------------------------------------------------------

    def fence(
        self, organization_id: str, key: str, epoch: int, *, counter: str | None = None
    ) -> None:
        """Carry ``epoch`` with every write of this customer from now on.

        A write is refused, with :class:`~rxlivechat.exceptions.FencedError`,
        when the store knows a newer epoch for the customer (another owner
        wrote it since, or, in Redis, ``counter`` holds more). A newer fence
        lifts an earlier refusal: the customer was claimed again.

        Args:
            organization_id: the customer's organization.
            key: the customer's key.
            epoch: the owner's fencing token (its lease's epoch), >= 1.
            counter: the Redis key of the lease's epoch counter (Redis only).

        Raises:
            InvalidArgumentError: an epoch below 1, or a bad customer name.
        """
        customer = _check_customer(organization_id, key)
        if type(epoch) is not int or epoch < 1:
            raise InvalidArgumentError(f"epoch must be an int >= 1, not {epoch!r}")
        old = self._fences.get(customer)
        self._fences[customer] = Fence(epoch, counter)
        if old is None or old.epoch < epoch:
            lost = self._lost.get(customer)
            if isinstance(lost, FencedError):
                del self._lost[customer]

    def revoke(self, organization_id: str, key: str, why: str) -> None:
        """Write nothing more of this customer: its owner lost it (self-fencing).

        Drops its buffered commits at once, before the backend is asked; its
        writes raise :class:`~rxlivechat.exceptions.FencedError` until a newer
        :meth:`fence`.
        """
        customer = _check_customer(organization_id, key)
        self._lose(customer, FencedError(f"{':'.join(customer)}: {why}"))

    def on_fenced(self, report: FencedReport) -> None:
        """Call ``report(customer, error)`` each time the backend refuses a write."""
        self._fenced_reports.append(report)

    def _fence_of(self, customer: CustomerKey) -> Fence:
        return self._fences.get(customer, UNFENCED)

    def _refused(self, customer: CustomerKey) -> FencedError:
        """The backend refused ``customer``'s write: drop its commits, tell."""
        fence = self._fence_of(customer)
        error = FencedError(
            f"{':'.join(customer)}: the write of epoch {fence.epoch} was refused, "
            "a newer epoch exists (another owner took the customer over)"
        )
        self._lose(customer, error)
        for report in list(self._fenced_reports):
            try:
                report(customer, error)
            except Exception:  # a broken listener must not stop the writer
                log.exception("a fenced-write listener failed")
        return error

    # Commits -----------------------------------------------------------------------

    def _commit(
        self,
        customer: CustomerKey,
        chat_id: str,
        event_id: str,
        created_at: datetime.datetime,
        thread_id: str,
    ) -> None:
        if created_at.tzinfo is None:
            raise InvalidArgumentError(f"created_at must be aware: {created_at!r}")
        if customer in self._lost:
            return  # it cannot be written; flush() says so
        chats = self._pending.get(customer)
        if chats is None:
            chats = self._pending[customer] = {}
        update = chats.get(chat_id)
        if update is None:
            chats[chat_id] = ChatUpdate(event_id, created_at, thread_id)
        else:
            update.add(event_id, created_at, thread_id)
            if len(update.ids) > 2 * self.recent_ids:  # only the last ones count
                del update.ids[: -self.recent_ids]
        self._pending_commits += 1
        if self._pending_commits == 1:
            self._dirty.set()
        if self._pending_commits >= self._batch_size:
            self._full.set()

    async def flush(self) -> None:
        """Return once every commit made so far is written.

        Raises:
            StoreError: the backend failed; the commits stay buffered for the
                next try.
        """
        async with self._flush_lock:
            if not self._pending:
                return
            batch, self._pending = self._pending, {}
            commits, self._pending_commits = self._pending_commits, 0
            self._dirty.clear()
            self._full.clear()
            try:
                await self._backend_write(batch)
            except BaseException:
                self._requeue(batch, commits)
                raise
            self.batches_written += 1

    def _requeue(self, batch: Batch, commits: int) -> None:
        """Put a batch that failed back in front of the commits made since."""
        for customer, chats in self._pending.items():
            older = batch.setdefault(customer, {})
            for chat_id, update in chats.items():
                if chat_id in older:
                    older[chat_id].absorb(update)
                else:
                    older[chat_id] = update
        self._pending = batch
        self._pending_commits += commits
        self._dirty.set()

    async def _write_in_background(self) -> None:
        delay = self._interval
        while True:
            await self._dirty.wait()
            if self._pending_commits < self._batch_size:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._interval):
                        await self._full.wait()
            try:
                await self.flush()
            except StoreError as exc:  # kept buffered: try again, less and less often
                log.warning("%s: writing checkpoints failed: %s", self, exc)
                self._report(exc, None)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)
            else:
                delay = self._interval

    def _report(self, error: StoreError, customer: CustomerKey | None) -> None:
        """Tell the handles of ``customer`` (``None``: all) that writing failed."""
        for handle, report in list(self._reports.items()):
            if customer is None or handle.customer_key == customer:
                try:
                    report(error)
                except Exception:  # a broken listener must not stop the writer
                    log.exception("a store error listener failed")

    def _lose(self, customer: CustomerKey, error: StoreError) -> None:
        """The backend found ``customer`` gone: drop its commits, and say so."""
        if customer in self._lost:
            return
        self._lost[customer] = error
        self._pending.pop(customer, None)
        log.warning("%s: %s", self, error)
        self._report(error, customer)

    def _check_lost(self, customer: CustomerKey) -> None:
        error = self._lost.get(customer)
        if error is not None:
            raise type(error)(str(error))

    def _check_fenced(self, customer: CustomerKey) -> None:
        """Refuse, before the backend, a write of a customer fenced off."""
        error = self._lost.get(customer)
        if isinstance(error, FencedError):
            raise FencedError(str(error))

    # The backend -------------------------------------------------------------------

    async def _backend_open(self) -> None:
        raise NotImplementedError

    async def _backend_close(self) -> None:
        raise NotImplementedError

    async def _backend_claim(self, customer: CustomerKey) -> None:
        """Claim a customer for this handle (SQLite locks it); by default nothing."""

    async def _backend_release(self, customer: CustomerKey) -> None:
        """Undo :meth:`_backend_claim`."""

    async def _backend_load(self, customer: CustomerKey) -> Snapshot:
        raise NotImplementedError

    async def _backend_write(
        self, batch: Mapping[CustomerKey, Mapping[str, ChatUpdate]]
    ) -> None:
        raise NotImplementedError

    async def _backend_save_identity(
        self, customer: CustomerKey, identity: Identity
    ) -> None:
        raise NotImplementedError

    async def _backend_save_side_storage(
        self, customer: CustomerKey, storage: dict[str, str]
    ) -> None:
        raise NotImplementedError


class CustomerHandle:
    """One customer of a :class:`BatchingStore` (a :class:`~.base.CustomerStore`)."""

    def __init__(self, store: BatchingStore, customer: CustomerKey) -> None:
        self._store = store
        self._customer = customer
        self._open = False

    def __repr__(self) -> str:
        org, key = self._customer
        return f"<{type(self._store).__name__} customer {org}:{key}>"

    @property
    def organization_id(self) -> str:
        """The customer's organization."""
        return self._customer[0]

    @property
    def key(self) -> str:
        """The customer's key within the organization."""
        return self._customer[1]

    @property
    def customer_key(self) -> CustomerKey:
        """``(organization_id, key)``."""
        return self._customer

    @property
    def store(self) -> BatchingStore:
        """The store this handle writes to."""
        return self._store

    async def open(self) -> None:
        """Open the store (counted) and claim the customer.

        Raises:
            StoreLockedError: the customer is open elsewhere (SQLite).
            StoreError: the store cannot be opened.
        """
        if self._open:
            return
        await self._store.open()
        try:
            await self._store._backend_claim(self._customer)
        except BaseException:
            await self._store.close()
            raise
        self._open = True

    async def close(self) -> None:
        """Write what is buffered, release the customer and the store."""
        if not self._open:
            return
        self._open = False
        self._store._reports.pop(self, None)
        try:
            await self._store.flush()
        finally:
            try:
                await self._store._backend_release(self._customer)
            finally:
                await self._store.close()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def _check_open(self) -> None:
        if not self._open:
            raise StoreError(f"{self!r} is not open: use `async with` or open()")

    async def load(self) -> Snapshot:
        """Everything stored for the customer, commits still buffered included."""
        self._check_open()
        self._store._check_lost(self._customer)
        await self._store.flush()
        return await self._store._backend_load(self._customer)

    async def save_identity(self, identity: Identity) -> None:
        """Store the identity; written when this returns."""
        self._check_open()
        if not isinstance(identity, Identity):
            raise InvalidArgumentError(f"not an Identity: {identity!r}")
        self._store._check_fenced(self._customer)
        await self._store._backend_save_identity(self._customer, identity)

    def commit(
        self,
        chat_id: str,
        event_id: str,
        created_at: datetime.datetime,
        thread_id: str,
    ) -> None:
        """Record that the event was handled; written by the next batch.

        Raises:
            StoreError: the handle is not open.
            InvalidArgumentError: ``created_at`` is naive.
        """
        self._check_open()
        self._store._commit(self._customer, chat_id, event_id, created_at, thread_id)

    async def save_side_storage(self, storage: Mapping[str, str]) -> None:
        """Replace the stored side storage; written when this returns."""
        self._check_open()
        copy = dict(storage)
        if not all(_is_text(k) and _is_text(v) for k, v in copy.items()):
            raise InvalidArgumentError("side storage maps strings to strings")
        self._store._check_fenced(self._customer)
        await self._store._backend_save_side_storage(self._customer, copy)

    async def flush(self) -> None:
        """Return once every commit made so far is written.

        Raises:
            StoreError: a batch failed (its commits stay buffered), or the
                store found this customer gone (a Redis identity that vanished).
        """
        await self._store.flush()
        self._store._check_lost(self._customer)

    def on_write_error(self, report: WriteErrorReport) -> None:
        """Call ``report(error)`` each time a background batch fails, until closed.

        The commits stay buffered and the writer tries again, less and less
        often (at most every :data:`MAX_RETRY_DELAY` seconds).
        """
        self._check_open()
        self._store._reports[self] = report
