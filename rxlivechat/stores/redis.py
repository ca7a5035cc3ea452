"""A store in Redis, for customers shared by processes (redis-py's asyncio client).

Keys (``{org}`` and ``{key}`` name the customer; see ``docs/stores.md``)::

    rxlivechat:format                          "1"
    rxlivechat:{org}:{key}:identity            JSON Identity
    rxlivechat:{org}:{key}:side_storage        JSON object
    rxlivechat:{org}:{key}:checkpoints         hash: chat id -> JSON checkpoint
    rxlivechat:{org}:{key}:epoch               the newest epoch that wrote (fencing)
    rxlivechat:lost                            why the store was found lost
    rxlivechat:{org}:{key}:lost                why the identity was found lost

Every write first checks, on the server, that the format key is there (and the
customer's identity, once it had one): a Redis restarted without persistence, or
flushed, is found at the next write. It is then marked lost and refuses writes;
the next start refuses too unless ``on_lost_identity="new"`` (a new customer).
Then it checks the writer's fencing token (:meth:`BatchingStore.fence`): a write
whose epoch is below the customer's ``epoch`` key, or below the lease's epoch
counter named by the fence, is refused (``FencedError``) and nothing is written.

A batch of commits is one pipeline: one script call per customer, which merges
each chat's update into the stored checkpoint on the server, atomically. Times are
stored as fixed-width UTC text that sorts as the times do, so the script compares
them as strings and a stale writer never moves a checkpoint back.

``redis`` is an optional dependency (``pip install 'rxlivechat[redis]'``); it is
imported when a :class:`RedisStore` opens.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

from ..exceptions import InvalidArgumentError, StoreCorruptError, StoreError
from ._batching import BatchingStore, ChatUpdate, CustomerKey, log
from ._codec import (
    decode_checkpoint,
    decode_identity,
    decode_side_storage,
    encode,
    time_text,
)
from .base import RECENT_IDS, Identity, Snapshot

if TYPE_CHECKING:
    import redis.asyncio

__all__ = ["FORMAT", "RedisStore"]

FORMAT = "1"
"""The value of ``<prefix>:format``: the key layout below."""

# Every write script starts by checking the store is still there: KEYS[1] the
# format key, ARGV[1] its value, KEYS[2] the customer's identity and ARGV[2] "1"
# if it must exist. It answers "store" or "identity" for what vanished. Then the
# fence: KEYS[3] the customer's epoch, KEYS[4] the lease's epoch counter (read
# when ARGV[4] is "1"), ARGV[3] the writer's epoch; it answers "fenced" when a
# newer epoch exists, and keeps the writer's otherwise.
_PRESENT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'store' end
if ARGV[2] == '1' and redis.call('EXISTS', KEYS[2]) == 0 then
  return 'identity'
end
local epoch = tonumber(ARGV[3])
if ARGV[4] == '1' and tonumber(redis.call('GET', KEYS[4]) or '0') > epoch then
  return 'fenced'
end
if tonumber(redis.call('GET', KEYS[3]) or '0') > epoch then return 'fenced' end
if epoch > 0 then redis.call('SET', KEYS[3], ARGV[3]) end
"""

# KEYS[5]: the customer's checkpoints hash. ARGV[5]: how many ids to keep; then
# five per chat: chat id, event id, created_at (sortable text), thread id, the
# committed ids as a JSON list.
_MERGE = (
    _PRESENT
    + """
local bound = tonumber(ARGV[5])
for i = 6, #ARGV, 5 do
  local chat, created = ARGV[i], ARGV[i + 2]
  local stored = redis.call('HGET', KEYS[5], chat)
  local old
  if stored then old = cjson.decode(stored) end
  local cp = {event_id = ARGV[i + 1], created_at = created, thread_id = ARGV[i + 3]}
  if old and created < old.created_at then
    cp.event_id, cp.created_at, cp.thread_id = old.event_id, old.created_at,
      old.thread_id
  end
  local ids, seen = {}, {}
  local function keep(list)
    for _, id in ipairs(list) do
      if seen[id] then
        for j = 1, #ids do
          if ids[j] == id then table.remove(ids, j) break end
        end
      end
      seen[id] = true
      ids[#ids + 1] = id
    end
  end
  if old then keep(old.recent_ids) end
  keep(cjson.decode(ARGV[i + 4]))
  local first = math.max(1, #ids - bound + 1)
  local kept = {}
  for j = first, #ids do kept[#kept + 1] = ids[j] end
  cp.recent_ids = kept
  redis.call('HSET', KEYS[5], chat, cjson.encode(cp))
end
return 'ok'
"""
)

# KEYS[5]: the key to set to ARGV[5].
_SET = (
    _PRESENT
    + """
redis.call('SET', KEYS[5], ARGV[5])
return 'ok'
"""
)

OnLostIdentity = Literal["error", "new"]


class RedisStore(BatchingStore):
    """Checkpoints in Redis: processes may share customers, commits never regress.

    Its durability is the server's (RDB/AOF settings): a batch is done when Redis
    has applied it.

    Args:
        url: e.g. ``"redis://127.0.0.1:6379/0"`` (redis-py's ``from_url``).
        prefix: the first part of every key.
        flush_interval: seconds a commit may wait before its batch is written.
        batch_size: a batch is written as soon as it holds this many commits.
        recent_ids: how many event ids each checkpoint remembers.
        on_lost_identity: what a start does with a store (or a customer's
            identity) that an SDK found lost while it ran: ``"error"`` refuses
            with :class:`~rxlivechat.exceptions.StoreError`; ``"new"`` clears
            the mark and the stale keys and goes on, as a new customer.
        timeout: seconds each Redis call (and connecting, and waiting for a
            free connection) may take before it fails with
            :class:`~rxlivechat.exceptions.StoreError`; ``None``: no limit.
        max_connections: connections to Redis at most; more callers wait.

    Raises:
        InvalidArgumentError: an unknown ``on_lost_identity``.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "rxlivechat",
        flush_interval: float = 0.05,
        batch_size: int = 1000,
        recent_ids: int = RECENT_IDS,
        on_lost_identity: OnLostIdentity = "error",
        timeout: float | None = None,
        max_connections: int = 50,
    ) -> None:
        super().__init__(
            flush_interval=flush_interval, batch_size=batch_size, recent_ids=recent_ids
        )
        if on_lost_identity not in ("error", "new"):
            raise InvalidArgumentError(
                f"on_lost_identity is 'error' or 'new', not {on_lost_identity!r}"
            )
        self.url = url
        self.prefix = prefix
        self.on_lost_identity: OnLostIdentity = on_lost_identity
        if timeout is not None and not timeout > 0:
            raise InvalidArgumentError(f"timeout must be > 0: {timeout}")
        self.timeout = timeout
        if max_connections < 1:
            raise InvalidArgumentError("max_connections must be >= 1")
        self.max_connections = max_connections
        self._client: redis.asyncio.Redis | None = None
        self._merge: Any = None
        self._set: Any = None
        self._identified: set[CustomerKey] = set()
        """Customers whose identity this store read or wrote: it must stay."""

    def __repr__(self) -> str:
        return f"RedisStore({self.url!r})"

    def _key(self, customer: CustomerKey, what: str) -> str:
        org, key = customer
        return f"{self.prefix}:{org}:{key}:{what}"

    def _redis(self) -> redis.asyncio.Redis:
        if self._client is None:
            raise StoreError(f"{self!r} is not open")
        return self._client

    async def _backend_open(self) -> None:
        try:
            import redis.asyncio
        except ImportError:
            raise StoreError(
                "RedisStore needs the redis package: pip install 'rxlivechat[redis]'"
            ) from None
        # Blocking: a store shared by many customers queues for a connection
        # (redis-py's plain pool fails past max_connections).
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            self.url,
            decode_responses=True,
            max_connections=self.max_connections,
            timeout=self.timeout,
            socket_timeout=self.timeout,
            socket_connect_timeout=self.timeout,
        )
        client = redis.asyncio.Redis.from_pool(pool)
        format_key = f"{self.prefix}:format"
        try:
            with _errors(self):
                await self._refuse_if_lost(client, f"{self.prefix}:lost", "the store")
                await client.setnx(format_key, FORMAT)
                found = await client.get(format_key)
        except BaseException:
            await client.aclose()
            raise
        if found != FORMAT:
            await client.aclose()
            raise StoreCorruptError(
                f"{self.url}: {format_key} is {found!r}, not {FORMAT!r}: these keys "
                "are not an rxlivechat store this version reads"
            )
        self._client = client
        self._merge = client.register_script(_MERGE)
        self._set = client.register_script(_SET)

    async def _refuse_if_lost(
        self, client: redis.asyncio.Redis, mark: str, what: str, *stale: str
    ) -> None:
        """Refuse to start over what an SDK found lost, unless told to."""
        found = await client.get(mark)
        if found is None:
            return
        why = found.decode() if isinstance(found, bytes) else str(found)
        if self.on_lost_identity == "error":
            raise StoreError(
                f"{self.url}: {what} was lost while an SDK ran ({why}); starting "
                "now would make a new customer. Restore the data, or pass "
                "RedisStore(..., on_lost_identity='new') to start as a new customer"
            )
        log.warning("%s: %s was lost (%s): starting as a new customer", self, what, why)
        await client.delete(mark, *stale)

    async def _backend_close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def _backend_load(self, customer: CustomerKey) -> Snapshot:
        where = f"{self.url} ({self._key(customer, '*')})"
        client = self._redis()
        with _errors(self):
            await self._refuse_if_lost(
                client,
                self._key(customer, "lost"),
                f"the identity of customer {':'.join(customer)}",
                self._key(customer, "checkpoints"),
                self._key(customer, "side_storage"),
            )
            identity, side_storage = await client.mget(
                self._key(customer, "identity"), self._key(customer, "side_storage")
            )
            checkpoints = await client.hgetall(self._key(customer, "checkpoints"))
        if identity is not None:
            self._identified.add(customer)
        return Snapshot(
            identity=None if identity is None else decode_identity(identity, where),
            side_storage=(
                {} if side_storage is None else decode_side_storage(side_storage, where)
            ),
            checkpoints={
                str(chat): decode_checkpoint(str(chat), value, where)
                for chat, value in checkpoints.items()
            },
        )

    def _presence(self, customer: CustomerKey) -> tuple[list[str], list[str]]:
        """The keys and arguments of the checks that start every write script."""
        epoch_key = self._key(customer, "epoch")
        fence = self._fence_of(customer)
        keys = [
            f"{self.prefix}:format",
            self._key(customer, "identity"),
            epoch_key,
            fence.counter or epoch_key,
        ]
        identified = "1" if customer in self._identified else "0"
        counted = "0" if fence.counter is None else "1"
        return keys, [FORMAT, identified, str(fence.epoch), counted]

    async def _backend_write(
        self, batch: Mapping[CustomerKey, Mapping[str, ChatUpdate]]
    ) -> None:
        with _errors(self):
            async with self._redis().pipeline(transaction=False) as pipe:
                for customer, chats in batch.items():
                    keys, args = self._presence(customer)
                    args.append(str(self.recent_ids))
                    for chat_id, update in chats.items():
                        args += (
                            chat_id,
                            update.event_id,
                            time_text(update.created_at),
                            update.thread_id,
                            encode(update.ids[-self.recent_ids :]).decode(),
                        )
                    await self._merge(
                        keys=[*keys, self._key(customer, "checkpoints")],
                        args=args,
                        client=pipe,
                    )
                answers = await pipe.execute()
        if "store" in answers:  # nothing written: kept buffered, tried again
            raise await self._found_lost(None)
        for customer, answer in zip(batch, answers, strict=True):
            if answer == "identity":  # that customer is gone, the others written
                self._lose(customer, await self._found_lost(customer))
            elif answer == "fenced":  # a stale owner's: dropped, the others written
                self._refused(customer)

    async def _backend_save_identity(
        self, customer: CustomerKey, identity: Identity
    ) -> None:
        await self._write_key(customer, "identity", encode(identity), check=False)
        self._identified.add(customer)

    async def _backend_save_side_storage(
        self, customer: CustomerKey, storage: dict[str, str]
    ) -> None:
        await self._write_key(customer, "side_storage", encode(storage))

    async def _write_key(
        self, customer: CustomerKey, what: str, value: bytes, *, check: bool = True
    ) -> None:
        keys, args = self._presence(customer)
        if not check:  # the identity itself is being written
            args[1] = "0"
        with _errors(self):
            answer = await self._set(
                keys=[*keys, self._key(customer, what)], args=[*args, value]
            )
        if answer == "store":
            raise await self._found_lost(None)
        if answer == "identity":
            error = await self._found_lost(customer)
            self._lose(customer, error)
            raise error
        if answer == "fenced":
            raise self._refused(customer)

    async def _found_lost(self, customer: CustomerKey | None) -> StoreError:
        """Mark the store (``None``) or a customer's identity lost; the error.

        The mark outlives this process: the next start refuses to carry on as
        a new customer unless told to (``on_lost_identity="new"``).
        """
        if customer is None:
            mark, what = f"{self.prefix}:lost", f"the store ({self.prefix}:format)"
        else:
            mark = self._key(customer, "lost")
            what = f"the identity of customer {':'.join(customer)}"
        now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        why = f"vanished, found at {now}"
        with contextlib.suppress(StoreError), _errors(self):
            await self._redis().set(mark, why, nx=True)
        return StoreError(
            f"{self.url}: {what} {why}: the server restarted without persistence, "
            "or was flushed, or the key was deleted. Nothing of it is written now; "
            "a restart refuses to become a new customer unless "
            "RedisStore(..., on_lost_identity='new')"
        )


@contextlib.contextmanager
def _errors(store: RedisStore) -> Iterator[None]:
    """Turn redis-py's errors into store errors (WRONGTYPE: not our data)."""
    import redis.exceptions

    try:
        yield
    except redis.exceptions.ResponseError as exc:
        if "WRONGTYPE" in str(exc):
            raise StoreCorruptError(
                f"{store.url}: a key of the store holds another type: {exc}"
            ) from None
        raise StoreError(f"{store.url}: {exc}") from None
    except redis.exceptions.RedisError as exc:
        raise StoreError(f"{store.url}: {exc}") from None
