"""Identifiers, secrets and timestamps shaped like LiveChat's.

Shapes (docs/protocol.md §4.1):

=================  ==========================================  =====================
thing              shape                                       example
=================  ==========================================  =====================
chat / thread id   10 upper-case letters and digits            ``PJ0MRSHTDG``
event id           ``<thread_id>_<n>``                         ``K600PKZON8_4``
customer id        UUID                                        ``b7eff798-f8df-...``
agent id           32 hex characters                           ``b5657aff34dd...``
organization id    UUID
access token       ``dal:<22 url-safe characters>``            ``dal:test_SZhSS...``
file key           32 hex characters
timestamp          RFC 3339 UTC with microseconds              ``...T12:01:18.909001Z``
=================  ==========================================  =====================

msgspec writes a ``datetime`` without its fraction when the microseconds are 0,
so :class:`Clock` never hands out such a timestamp: every generated time keeps
the documented ``.ffffffZ`` form on the wire.

Ids come from a seedable source (a seeded run repeats them); secrets (access
tokens, file keys, identity cookies) always come from :mod:`secrets`: a
Mersenne Twister's state can be fitted from 624 of its outputs (156 file keys),
which would let a script predict the next customer's token.

This module does no I/O; the wall clock and the OS's random source are the only
outside inputs, and the clock can be replaced.
"""

from __future__ import annotations

import datetime
import random
import secrets
import string
import uuid
from collections.abc import Callable

__all__ = ["Clock", "IdFactory", "utc_now"]

_CHAT_ALPHABET = string.ascii_uppercase + string.digits
_ONE_US = datetime.timedelta(microseconds=1)


def utc_now() -> datetime.datetime:
    """The wall clock, timezone-aware (UTC)."""
    return datetime.datetime.now(datetime.UTC)


class Clock:
    """Strictly increasing UTC timestamps with non-zero microseconds.

    Args:
        source: where the time comes from (default: the wall clock). Tests can
            pass a function returning fixed times; the clock still moves forward
            by at least a microsecond per call.
    """

    def __init__(self, source: Callable[[], datetime.datetime] = utc_now) -> None:
        self._source = source
        self._last = datetime.datetime.min.replace(tzinfo=datetime.UTC)

    def now(self) -> datetime.datetime:
        """The next timestamp: later than every earlier one, never on 0 µs."""
        now = self._source().astimezone(datetime.UTC)
        if now <= self._last:
            now = self._last + _ONE_US
        if now.microsecond == 0:
            now += _ONE_US
        self._last = now
        return now

    def advance_to(self, moment: datetime.datetime) -> None:
        """Make every later timestamp come after ``moment`` (used when seeding)."""
        self._last = max(self._last, moment.astimezone(datetime.UTC))


class IdFactory:
    """Unique identifiers of each kind, reproducible with a seed, and secrets.

    Args:
        seed: seeds the ids' random source; ``None`` uses the OS's source.
            Secrets never come from it.
    """

    def __init__(self, seed: int | str | None = None) -> None:
        self.random = random.SystemRandom() if seed is None else random.Random(seed)
        """The ids' random source; the sandbox's other random choices use it too."""
        self._seen: set[str] = set()

    # Public methods -----------------------------------------------------------------

    def chat_id(self) -> str:
        """A new chat id: 10 upper-case letters and digits."""
        return self._unique(lambda: self._chars(_CHAT_ALPHABET, 10))

    def thread_id(self) -> str:
        """A new thread id (same shape as a chat id)."""
        return self.chat_id()

    def customer_id(self) -> str:
        """A new customer id (a version 4 UUID)."""
        return self._unique(self._uuid)

    def organization_id(self) -> str:
        """A new organization id (a version 4 UUID)."""
        return self._unique(self._uuid)

    def agent_id(self) -> str:
        """A new agent id: 32 lower-case hex characters."""
        return self._unique(lambda: f"{self.random.getrandbits(128):032x}")

    def hex_id(self) -> str:
        """A new 32-hex-character id (greeting unique ids...)."""
        return self.agent_id()

    def uuid(self) -> str:
        """A new UUID (welcome message ids, form field ids...)."""
        return self._unique(self._uuid)

    # Secrets (never seeded) ---------------------------------------------------------

    @staticmethod
    def access_token(region: str = "dal") -> str:
        """A new access token, ``<region>:<22 url-safe characters>`` (128 bits)."""
        return f"{region}:{secrets.token_urlsafe(16)}"

    @staticmethod
    def file_key() -> str:
        """A new file key: 32 hex characters (128 bits), part of a file's URL."""
        return secrets.token_hex(16)

    @staticmethod
    def secret() -> str:
        """A new opaque secret (32 url-safe characters, 192 bits)."""
        return secrets.token_urlsafe(24)

    # Private methods ----------------------------------------------------------------

    def _chars(self, alphabet: str, length: int) -> str:
        return "".join(self.random.choice(alphabet) for _ in range(length))

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.random.getrandbits(128), version=4))

    def _unique(self, make: Callable[[], str]) -> str:
        while True:
            value = make()
            if value not in self._seen:
                self._seen.add(value)
                return value
