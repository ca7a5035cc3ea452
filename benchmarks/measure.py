"""Clocks and gauges for the client process (the server runs in another one)."""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import time
import urllib.request
import uuid
from typing import Any

BURST_TIMEOUT = 180.0
"""Longest wait for a push burst to arrive, in seconds."""


@dataclasses.dataclass
class Span:
    """Wall time and this process's CPU time (all its threads) over a block."""

    wall: float = 0.0
    cpu: float = 0.0
    _wall0: float = 0.0
    _cpu0: float = 0.0

    def __enter__(self) -> Span:
        self._wall0 = time.perf_counter()
        self._cpu0 = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall0
        self.cpu = time.process_time() - self._cpu0

    def result(self, count: int, **extra: Any) -> dict[str, Any]:
        """``count`` operations: per second, and client CPU µs per operation."""
        return {
            "count": count,
            "wall_s": self.wall,
            "rate": count / self.wall,
            "cpu_us": self.cpu / count * 1e6,
            **extra,
        }


def rss_bytes() -> int:
    """The process's resident set size now (not the peak)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def raise_nofile(wanted: int) -> int:
    """Raise the soft open-files limit towards ``wanted``; returns the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def new_org() -> str:
    """A fresh organization id: the stub addresses bursts by it."""
    return str(uuid.uuid4())


def trigger_burst(api_url: str, organization_id: str, n: int) -> None:
    """Ask the stub to push ``n`` events to this process's sockets (blocking)."""
    url = f"{api_url}/burst?org={organization_id}&n={n}"
    with urllib.request.urlopen(url, timeout=10) as response:
        answer = json.loads(response.read())
    if answer["sockets"] < 1:
        raise RuntimeError("the stub has no socket to push to")


def fetch_token(accounts_url: str, organization_id: str) -> str:
    """A new customer's access token from the sandbox's accounts endpoint."""
    body = json.dumps(
        {
            "grant_type": "cookie",
            "response_type": "token",
            "client_id": "bench",
            "organization_id": organization_id,
        }
    ).encode()
    request = urllib.request.Request(
        f"{accounts_url}/v2/customer/token",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(json.loads(response.read())["access_token"])
