"""A store in Redis, for customers shared by processes (redis-py's asyncio client).

Keys (``{org}`` and ``{key}`` name the customer; see ``docs/stores.md``)::

    rxlivechat:format                          "1"
    rxlivechat:{org}:{key}:identity            JSON Identity
    rxlivechat:{org}:{key}:side_storage        JSON object
    rxlivechat:{org}:{key}:checkpoints         hash: chat id -> JSON checkpoint

A batch of commits is one pipeline: one script call per customer, which merges
each chat's update into the stored checkpoint on the server, atomically. Times are
stored as fixed-width UTC text that sorts as the times do, so the script compares
them as strings and a stale writer never moves a checkpoint back.

``redis`` is an optional dependency (``pip install 'rxlivechat[redis]'``); it is
imported when a :class:`RedisStore` opens.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..exceptions import StoreCorruptError, StoreError
from ._batching import BatchingStore, ChatUpdate, CustomerKey
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

# KEYS[1]: the customer's checkpoints hash. ARGV[1]: how many ids to keep; then
# five per chat: chat id, event id, created_at (sortable text), thread id, the
# committed ids as a JSON list.
_MERGE = """
local bound = tonumber(ARGV[1])
for i = 2, #ARGV, 5 do
  local chat, created = ARGV[i], ARGV[i + 2]
  local stored = redis.call('HGET', KEYS[1], chat)
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
  redis.call('HSET', KEYS[1], chat, cjson.encode(cp))
end
return 1
"""


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
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "rxlivechat",
        flush_interval: float = 0.05,
        batch_size: int = 1000,
        recent_ids: int = RECENT_IDS,
    ) -> None:
        super().__init__(
            flush_interval=flush_interval, batch_size=batch_size, recent_ids=recent_ids
        )
        self.url = url
        self.prefix = prefix
        self._client: redis.asyncio.Redis | None = None
        self._merge: Any = None

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
        client = redis.asyncio.Redis.from_url(self.url, decode_responses=True)
        try:
            with _errors(self):
                format_key = f"{self.prefix}:format"
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

    async def _backend_close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def _backend_load(self, customer: CustomerKey) -> Snapshot:
        where = f"{self.url} ({self._key(customer, '*')})"
        client = self._redis()
        with _errors(self):
            identity, side_storage = await client.mget(
                self._key(customer, "identity"), self._key(customer, "side_storage")
            )
            checkpoints = await client.hgetall(self._key(customer, "checkpoints"))
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

    async def _backend_write(
        self, batch: Mapping[CustomerKey, Mapping[str, ChatUpdate]]
    ) -> None:
        with _errors(self):
            async with self._redis().pipeline(transaction=False) as pipe:
                for customer, chats in batch.items():
                    args: list[str | int] = [self.recent_ids]
                    for chat_id, update in chats.items():
                        args += (
                            chat_id,
                            update.event_id,
                            time_text(update.created_at),
                            update.thread_id,
                            encode(update.ids[-self.recent_ids :]).decode(),
                        )
                    await self._merge(
                        keys=[self._key(customer, "checkpoints")],
                        args=args,
                        client=pipe,
                    )
                await pipe.execute()

    async def _backend_save_identity(
        self, customer: CustomerKey, identity: Identity
    ) -> None:
        with _errors(self):
            await self._redis().set(self._key(customer, "identity"), encode(identity))

    async def _backend_save_side_storage(
        self, customer: CustomerKey, storage: dict[str, str]
    ) -> None:
        with _errors(self):
            await self._redis().set(
                self._key(customer, "side_storage"), encode(storage)
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
