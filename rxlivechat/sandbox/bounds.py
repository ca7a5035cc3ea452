"""How much any client can make the sandbox hold: :class:`Bounds`.

The real service has limits of its own that it does not document; these are
the sandbox's (docs/sandbox-choices.md, "Security and resource limits"). Past a
bound the oldest data is forgotten where nothing depends on it (customers with
no chat and no socket, tokens, sneak peeks), otherwise the request is refused
with LiveChat's error: ``limit_reached``, ``entity_too_large`` or
``too_many_requests``. Never unbounded.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Bounds", "GrantRate"]


@dataclass(frozen=True)
class Bounds:
    """The sandbox's bounds; ``Sandbox(bounds=Bounds(customers=100, ...))``.

    Attributes:
        customers: customers of the organization. A new one first makes the
            oldest customer with no chat and no open socket forgotten; when
            there is none, it is refused (``limit_reached``).
        chats: chats of the organization; ``start_chat`` beyond is refused
            (``limit_reached``).
        events_per_thread: events in one thread; one more is refused
            (``limit_reached``), except the system message that closes it.
        event_bytes: JSON-encoded bytes of every event added to the
            organization's chats (seeded ones too; deleting does not give
            them back); beyond, new events and threads are refused
            (``limit_reached``), except the system message of a close.
        customer_bytes: a customer's own data (name, e-mail, avatar, phone,
            address, session fields, omnichannel identities, page, customer
            side storage), JSON-encoded; a change past it is refused
            (``entity_too_large``).
        property_value_bytes: one property value, JSON-encoded; larger is
            refused (``entity_too_large``).
        properties_bytes: all the properties of one chat, thread or event,
            JSON-encoded, after the update; larger is refused
            (``entity_too_large``).
        sneak_peeks: sneak peeks kept per chat, the latest ones.
        sneak_peek_bytes: a sneak peek's text is cut to this many bytes.
        tokens: customer tokens kept; the oldest are forgotten first (a
            forgotten token no longer logs in: ``authentication``).
        token_grants_per_second: ``POST /v2/customer/token`` grants served per
            second (a burst of as many is allowed); beyond, 429
            ``too_many_requests``. Test code's ``create_customer_token`` is
            not limited.
        email_verifications: ``request_email_verification`` records kept.
        agent_inbox: pushes a scripted agent keeps (its ``pushes`` and unread
            inbox; the oldest are dropped).
    """

    customers: int = 50_000
    chats: int = 50_000
    events_per_thread: int = 10_000
    event_bytes: int = 128 * 1024 * 1024
    customer_bytes: int = 64 * 1024
    property_value_bytes: int = 16 * 1024
    properties_bytes: int = 64 * 1024
    sneak_peeks: int = 10
    sneak_peek_bytes: int = 16 * 1024
    tokens: int = 100_000
    token_grants_per_second: float = 2_000.0
    email_verifications: int = 1_000
    agent_inbox: int = 10_000

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if value <= 0:
                raise ValueError(f"Bounds.{name} must be positive, not {value!r}")


class GrantRate:
    """A token bucket: at most ``rate`` grants a second, bursts of ``rate``.

    Args:
        rate: grants per second.
    """

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._capacity = max(rate, 1.0)
        self._tokens = self._capacity
        self._last: float | None = None

    def take(self, now: float) -> bool:
        """Whether one more grant may be served at ``now`` (monotonic seconds)."""
        if self._last is not None:
            elapsed = max(0.0, now - self._last)
            self._tokens = min(self._capacity, self._tokens + elapsed * self.rate)
        self._last = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True
