"""The sandbox's ``list_threads``: time per page against the chat's length (issue 32).

Run alone (a few seconds)::

    python -m benchmarks.sandbox_pagination [--threads 100,1000,10000] [--pages 50]

For each chat length, a chat of that many one-event threads is seeded, and a
walk of ``--pages`` pages (``limit=25``, newest first, then by ``page_id``) runs
through the sandbox's handlers (no socket: the cost of cutting a page). Prints
one markdown row per length: milliseconds per page, median of 5 walks. Point
``PYTHONPATH`` at an older checkout to compare.
"""

from __future__ import annotations

import argparse
import statistics
import time

from rxlivechat.protocol import methods as m
from rxlivechat.sandbox import Sandbox


def ms_per_page(threads: int, pages: int) -> float:
    """The median over 5 walks of ``pages`` pages, in milliseconds per page."""
    sandbox = Sandbox(seed=1)
    customer = sandbox.new_customer()
    chat_id = sandbox.seed_chat(customer.id, threads=threads, events_per_thread=1)
    handle = sandbox.handlers.handle
    walks = []
    for _ in range(5):
        started = time.perf_counter()
        page = handle(customer.id, m.ListThreads(chat_id=chat_id, limit=25)).result
        taken = 1
        while page.next_page_id and taken < pages:
            request = m.ListThreads(chat_id=chat_id, page_id=page.next_page_id)
            page = handle(customer.id, request).result
            taken += 1
        walks.append((time.perf_counter() - started) * 1000 / taken)
    return statistics.median(walks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="100,1000,10000")
    parser.add_argument("--pages", type=int, default=50)
    options = parser.parse_args()
    print("| threads in the chat | ms per list_threads page (limit 25) |")
    print("|---:|---:|")
    for threads in (int(n) for n in options.threads.split(",")):
        print(f"| {threads:,} | {ms_per_page(threads, options.pages):.3f} |")


if __name__ == "__main__":
    main()
