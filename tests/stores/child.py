"""A customer process for the store tests: ``python -m tests.stores.child MODE ...``.

Modes (``KIND`` is ``sqlite`` or ``redis``, ``TARGET`` a path or a URL):

``write KIND TARGET N THEN``
    Save an identity and side storage, commit events ``e0..e{N-1}`` to chat
    ``c1``, flush and print ``flushed``. Then, with ``THEN=close``, commit one
    more event, close and exit; with ``THEN=hang``, commit ``late`` events that are
    never flushed and wait to be killed.
``hold KIND TARGET KEY``
    Open customer ``KEY``, print ``holding`` and wait to be killed.
``open KIND TARGET KEY``
    Try to open customer ``KEY``; print ``opened`` or ``refused <Error>: <text>``.
"""

from __future__ import annotations

import asyncio
import datetime
import sys

from rxlivechat.exceptions import StoreError
from rxlivechat.stores import BatchingStore, Identity, RedisStore, SQLiteStore

ORG = "org-1"
KEY = "alice"
START = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC)
IDENTITY = Identity(
    customer_id="customer-1",
    organization_id=ORG,
    client_id="client-1",
    cookies={"__lc_cid": "customer-1", "__lc_cst": "secret"},
)


def at(n: int) -> datetime.datetime:
    """When event ``n`` was created."""
    return START + datetime.timedelta(seconds=n)


def make(kind: str, target: str) -> BatchingStore:
    """A store that writes only when flushed (or full)."""
    if kind == "sqlite":
        return SQLiteStore(target, flush_interval=3600, batch_size=10**6)
    return RedisStore(target, flush_interval=3600, batch_size=10**6)


async def write(store: BatchingStore, n: int, then: str) -> None:
    customer = store.customer(ORG, KEY)
    await customer.open()
    await customer.save_identity(IDENTITY)
    await customer.save_side_storage({"cart": "3 items"})
    for i in range(n):
        customer.commit("c1", f"e{i}", at(i), "t1")
    await customer.flush()
    print("flushed", flush=True)
    if then == "close":
        customer.commit("c1", f"e{n}", at(n), "t1")
        await customer.close()
        return
    for i in range(n, n + 50):  # handed out, never flushed: lost at the kill
        customer.commit("c1", f"late{i}", at(i), "t1")
    await asyncio.Event().wait()


async def hold(store: BatchingStore, key: str) -> None:
    async with store.customer(ORG, key):
        print("holding", flush=True)
        await asyncio.Event().wait()


async def try_open(store: BatchingStore, key: str) -> None:
    try:
        async with store.customer(ORG, key):
            print("opened", flush=True)
    except StoreError as exc:
        print(f"refused {type(exc).__name__}: {exc}", flush=True)


def main(argv: list[str]) -> None:
    mode, kind, target, *rest = argv
    store = make(kind, target)
    if mode == "write":
        asyncio.run(write(store, int(rest[0]), rest[1]))
    elif mode == "hold":
        asyncio.run(hold(store, rest[0]))
    else:
        asyncio.run(try_open(store, rest[0]))


if __name__ == "__main__":
    main(sys.argv[1:])
