"""The seed's ``on`` / ``once`` / ``off``: named handlers over the event stream.

.. code-block:: text

    sdk.on("new_event", fn) ──► Streams.handlers["new_event"] += Handler(fn)
    sdk.off("new_event", fn) ─► every subscription of (name, fn) disposed

Each listener is typed by its event: ``on("new_event", fn)`` checks that ``fn``
takes a :class:`~rxlivechat.NewEvent`. :data:`PAYLOADS` declares each event's
payload type once; the overloads of ``on`` and ``once`` below are
generated from it (``python -m tests.test_listeners`` rewrites them;
tests/test_listeners.py fails when they drift).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, overload

from reactivex import abc

from .events import (
    ChatPropertiesUpdated,
    ChatThreadPropertiesUpdated,
    Connected,
    Disconnected,
    EventName,
    IdentityChanged,
    LastSeenTimestampUpdated,
    NewEvent,
    OtherEventName,
    ThreadClosed,
    ThreadSummary,
    UserInChat,
    UserTyping,
    check_event_name,
)
from .exceptions import InvalidArgumentError
from .handlers import DEFAULT_BOUND, Overflow
from .methods.calls import MethodGroup
from .protocol.pushes import IncomingChat
from .streams import Streams

__all__ = ["PAYLOADS", "Listeners"]

PAYLOADS: dict[tuple[EventName, ...], Any] = {
    ("connected", "connection_restored"): Connected,
    ("connection_lost",): None,
    ("disconnected",): Disconnected,
    ("customer_id",): str,
    ("identity_changed",): IdentityChanged,
    ("error",): Exception,
    ("new_event",): NewEvent,
    ("user_is_typing", "user_stopped_typing"): UserTyping,
    ("user_joined_chat", "user_left_chat"): UserInChat,
    ("chat_properties_updated",): ChatPropertiesUpdated,
    ("chat_thread_properties_updated",): ChatThreadPropertiesUpdated,
    ("last_seen_timestamp_updated",): LastSeenTimestampUpdated,
    ("thread_closed",): ThreadClosed,
    ("thread_summary",): ThreadSummary,
    ("incoming_chat",): IncomingChat,
}
"""Each event's payload type, by the names that carry it; every other
:data:`~rxlivechat.events.OtherEventName`'s payload is typed ``Any``."""


class Listeners(MethodGroup):
    """``on``, ``once`` and ``off``: a base of :class:`~rxlivechat.sdk.CustomerSDK`."""

    _streams: Streams
    _listeners: dict[tuple[str, Callable[..., Any]], list[abc.DisposableBase]]

    # Generated from PAYLOADS by `python -m tests.test_listeners`: do not edit. ------
    @overload
    def on(
        self,
        name: Literal["connected", "connection_restored"],
        fn: Callable[[Connected], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...
    @overload
    def on(
        self,
        name: Literal["connection_lost"],
        fn: Callable[[None], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...
    @overload
    def on(
        self,
        name: Literal["disconnected"],
        fn: Callable[[Disconnected], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...
    @overload
    def on(
        self,
        name: Literal["customer_id"],
        fn: Callable[[str], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...
    @overload
    def on(
        self,
        name: Literal["identity_changed"],
        fn: Callable[[IdentityChanged], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...
    @overload
    def on(
        self,
        name: Literal["error"],
        fn: Callable[[Exception], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...
    @overload
    def on(
        self,
        name: Literal["new_event"],
        fn: Callable[[NewEvent], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...
    @overload
    def on(
        self,
        name: Literal["user_is_typing", "user_stopped_typing"],
        fn: Callable[[UserTyping], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...
    @overload
    def on(
        self,
        name: Literal["user_joined_chat", "user_left_chat"],
        fn: Callable[[UserInChat], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...
    @overload
    def on(
        self,
        name: Literal["chat_properties_updated"],
        fn: Callable[[ChatPropertiesUpdated], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...
    @overload
    def on(
        self,
        name: Literal["chat_thread_properties_updated"],
        fn: Callable[[ChatThreadPropertiesUpdated], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...
    @overload
    def on(
        self,
        name: Literal["last_seen_timestamp_updated"],
        fn: Callable[[LastSeenTimestampUpdated], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...
    @overload
    def on(
        self,
        name: Literal["thread_closed"],
        fn: Callable[[ThreadClosed], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...
    @overload
    def on(
        self,
        name: Literal["thread_summary"],
        fn: Callable[[ThreadSummary], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...
    @overload
    def on(
        self,
        name: Literal["incoming_chat"],
        fn: Callable[[IncomingChat], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...
    @overload
    def on(
        self,
        name: OtherEventName,
        fn: Callable[[Any], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...

    # End of the generated overloads. ----------------------------------------------

    def on(
        self,
        name: EventName,
        fn: Callable[[Any], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase:
        """Call ``fn(payload)`` on every ``name`` event; returns the subscription.

        ``fn`` may be an ``async def`` function (or return any awaitable): it
        then runs as a task on the SDK's loop, ``concurrency`` at a time (one
        after the other, in order, by default), cancelled by
        :meth:`~rxlivechat.sdk.CustomerSDK.destroy`.
        Events that come while they are all busy wait, at most ``bound``; one
        more is handled by ``overflow``, the pool's policies: ``"buffer"`` drops
        it, ``"drop_oldest"`` drops the oldest waiting event, ``"fail"`` removes
        the handler; the first drop of each overflow is reported as a
        :class:`~rxlivechat.StreamOverflowError` ``error`` event. A ``new_event``
        is committed once its handler's coroutine *completed* (or raised), and a
        dropped one is replayed by the next life (docs/howto/run-as-a-service.md).
        An error a handler raises is logged (``rxlivechat`` logger, ERROR) and
        emitted as an ``error`` event.

        Args:
            name: the event (:data:`rxlivechat.EventName`).
            fn: called with each event's payload.
            concurrency: the handler's tasks that may run at once.
            bound: events that may wait for a busy async handler.
            overflow: what one more waiting event does.

        Raises:
            InvalidArgumentError: no event is named ``name`` (the closest name
                is suggested), ``fn`` is not callable, or ``concurrency``,
                ``bound`` or ``overflow`` is invalid.
            SDKClosedError: the SDK was destroyed.

        Example:
            >>> def show(new):  # doctest: +SKIP
            ...     print(new.chat, new.event.text)
            >>> subscription = sdk.on("new_event", show)
            >>> subscription.dispose()  # or sdk.off("new_event", show)
        """
        return self._listen(
            name,
            fn,
            once=False,
            concurrency=concurrency,
            bound=bound,
            overflow=overflow,
        )

    # Generated from PAYLOADS by `python -m tests.test_listeners`: do not edit. ------
    @overload
    def once(
        self,
        name: Literal["connected", "connection_restored"],
        fn: Callable[[Connected], object],
    ) -> abc.DisposableBase: ...
    @overload
    def once(
        self, name: Literal["connection_lost"], fn: Callable[[None], object]
    ) -> abc.DisposableBase: ...
    @overload
    def once(
        self, name: Literal["disconnected"], fn: Callable[[Disconnected], object]
    ) -> abc.DisposableBase: ...
    @overload
    def once(
        self, name: Literal["customer_id"], fn: Callable[[str], object]
    ) -> abc.DisposableBase: ...
    @overload
    def once(
        self, name: Literal["identity_changed"], fn: Callable[[IdentityChanged], object]
    ) -> abc.DisposableBase: ...
    @overload
    def once(
        self, name: Literal["error"], fn: Callable[[Exception], object]
    ) -> abc.DisposableBase: ...
    @overload
    def once(
        self, name: Literal["new_event"], fn: Callable[[NewEvent], object]
    ) -> abc.DisposableBase: ...
    @overload
    def once(
        self,
        name: Literal["user_is_typing", "user_stopped_typing"],
        fn: Callable[[UserTyping], object],
    ) -> abc.DisposableBase: ...
    @overload
    def once(
        self,
        name: Literal["user_joined_chat", "user_left_chat"],
        fn: Callable[[UserInChat], object],
    ) -> abc.DisposableBase: ...
    @overload
    def once(
        self,
        name: Literal["chat_properties_updated"],
        fn: Callable[[ChatPropertiesUpdated], object],
    ) -> abc.DisposableBase: ...
    @overload
    def once(
        self,
        name: Literal["chat_thread_properties_updated"],
        fn: Callable[[ChatThreadPropertiesUpdated], object],
    ) -> abc.DisposableBase: ...
    @overload
    def once(
        self,
        name: Literal["last_seen_timestamp_updated"],
        fn: Callable[[LastSeenTimestampUpdated], object],
    ) -> abc.DisposableBase: ...
    @overload
    def once(
        self, name: Literal["thread_closed"], fn: Callable[[ThreadClosed], object]
    ) -> abc.DisposableBase: ...
    @overload
    def once(
        self, name: Literal["thread_summary"], fn: Callable[[ThreadSummary], object]
    ) -> abc.DisposableBase: ...
    @overload
    def once(
        self, name: Literal["incoming_chat"], fn: Callable[[IncomingChat], object]
    ) -> abc.DisposableBase: ...
    @overload
    def once(
        self, name: OtherEventName, fn: Callable[[Any], object]
    ) -> abc.DisposableBase: ...

    # End of the generated overloads. ----------------------------------------------

    def once(self, name: EventName, fn: Callable[[Any], object]) -> abc.DisposableBase:
        """Call ``fn(payload)`` on the next ``name`` event only (see :meth:`on`).

        Raises:
            InvalidArgumentError: no event is named ``name``, or ``fn`` is not
                callable.
            SDKClosedError: the SDK was destroyed.

        Example:
            >>> sdk.once("connected", lambda c: print(c.customer_id))  # doctest: +SKIP
        """
        return self._listen(name, fn, once=True)

    def off(self, name: EventName, fn: Callable[..., object]) -> None:
        """Remove the listeners ``fn`` added for ``name`` by :meth:`on`/:meth:`once`.

        No event reaches them from now on; an async handler's running
        coroutines, and the events already waiting for it, still run.

        Raises:
            InvalidArgumentError: no event is named ``name``.

        Example:
            >>> sdk.on("new_event", show)  # doctest: +SKIP
            >>> sdk.off("new_event", show)
        """
        check_event_name(name)
        for subscription in self._listeners.pop((name, fn), []):
            subscription.dispose()

    def _listen(
        self,
        name: str,
        fn: Callable[[Any], object],
        *,
        once: bool,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase:
        self._check_alive()
        check_event_name(name)
        if not callable(fn):
            raise InvalidArgumentError(
                f"the handler must be callable, not {type(fn).__name__}"
            )
        subscription = self._streams.listen(
            name,
            fn,
            once=once,
            concurrency=concurrency,
            bound=bound,
            overflow=overflow,
        )
        self._listeners.setdefault((name, fn), []).append(subscription)
        return subscription

    def _remove_listeners(self) -> None:
        """Dispose of every listener (``destroy()``)."""
        for subscriptions in self._listeners.values():
            for subscription in subscriptions:
                subscription.dispose()
        self._listeners.clear()
