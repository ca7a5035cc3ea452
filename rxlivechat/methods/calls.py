"""Methods as operators: every request as a cold, awaitable observable.

.. code-block:: text

    sdk.send_event(chat, Message(text="hi"))     nothing sent yet (cold)
        .subscribe(...)  /  await ...            ─► request ──reply──► --result|
        .dispose()       /  task.cancel()        ─► the request is abandoned

Rules:

1. Building a method's observable sends nothing; each subscription sends its own
   request (retries get new request ids), and disposing it abandons the request.
2. ``await`` on a method settles a future directly (:class:`_Call`), without
   reactivex's ``to_future`` and trampoline: the same result, a third of the cost.
3. Multi-step methods run as one task per subscription (:meth:`_from_coroutine`);
   ``destroy()`` cancels them and their subscribers get ``SDKClosedError``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeVar

from reactivex import Observable, abc
from reactivex.disposable import Disposable, SerialDisposable
from reactivex.internal.exceptions import SequenceContainsNoElementsError

from ._requests import Pending, Requests
from ._validate import validate
from ._web import WebClient
from .exceptions import ConnectError, InvalidArgumentError, SDKClosedError
from .protocol.base import Method
from .protocol.frames import Push

__all__ = ["RequestOperators"]

T = TypeVar("T")
R = TypeVar("R")


class RequestOperators:
    """The machinery every method of :class:`~rxlivechat.sdk.CustomerSDK` uses.

    A base class: the SDK sets the attributes below in its ``__init__`` and
    provides the connection state (``customer_id``, ``_active_chats``).
    """

    _requests: Requests
    _web: WebClient
    _tasks: set[asyncio.Task[Any]]
    _destroyed: bool

    @property
    def customer_id(self) -> str | None:  # pragma: no cover - CustomerSDK's
        """The customer's id, once logged in."""
        raise NotImplementedError

    @property
    def _active_chats(self) -> dict[str, bool]:  # pragma: no cover - CustomerSDK's
        raise NotImplementedError

    # The generic methods -----------------------------------------------------------

    def call(self, method: Method[R]) -> Observable[R]:
        """Send any v3.6 RTM action; a cold, awaitable observable of its result.

        .. code-block:: text

            call(ListThreads(...))   subscribe ─► request ──reply──► --result|

        Args:
            method: the action's payload, e.g. ``ListThreads(chat_id="PJ0MRSHTDG")``.

        Returns:
            An observable that sends the request on each subscription and emits the
            typed result, or errors with the :class:`ServerError` subclass of the
            server's error type.
        """
        self._check_alive()
        validate(method)
        return self._call(method, lambda result, _: result)

    def web_call(self, method: Method[R]) -> Observable[R]:
        """Send any v3.6 action over the Web API (HTTP) with the customer's token.

        For actions the API serves only over HTTP (``get_configuration``,
        ``check_goals``...); a cold, awaitable observable of the typed result.
        """
        self._check_alive()
        validate(method)
        if method.web is None:
            raise InvalidArgumentError(f"{method.action!r} has no Web API form")
        return self._from_coroutine(lambda: self._web.call(method))

    # Internals ----------------------------------------------------------

    def _call(
        self, method: Method[Any], shape: Callable[[Any, Pending], T]
    ) -> Observable[T]:
        """A cold observable of one request, its result passed through ``shape``."""

        def subscribe(
            observer: abc.ObserverBase[T], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            if self._destroyed:
                observer.on_error(SDKClosedError("the SDK was destroyed"))
                return Disposable()

            def on_result(result: Any, pending: Pending) -> None:
                try:
                    value = shape(result, pending)
                except Exception as exc:
                    observer.on_error(exc)
                    return
                observer.on_next(value)
                observer.on_completed()

            pending = self._requests.submit(method, on_result, observer.on_error)
            return Disposable(lambda: self._requests.abandon(pending))

        return _Call(subscribe)

    def _call_echoed(
        self,
        method: Method[R],
        match: Callable[[Push[Any]], T | None],
        read_back: Callable[[R], Observable[T]],
    ) -> Observable[T]:
        """A request whose value is the push it causes (our copy carries its id).

        .. code-block:: text

            send_event ─► reply {event_id} ─┬─ incoming_event (ours) ─► --event|
                                            └─ none within ECHO_WAIT  ─► read_back

        The push may come before or after the reply; ``match`` turns it into the
        value. Without it, ``read_back(result)`` supplies the value.
        """

        def subscribe(
            observer: abc.ObserverBase[T], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            if self._destroyed:
                observer.on_error(SDKClosedError("the SDK was destroyed"))
                return Disposable()
            serial = SerialDisposable()

            def deliver(value: T) -> None:
                observer.on_next(value)
                observer.on_completed()

            def on_result(result: R, pending: Pending) -> None:
                for push in pending.pushes:
                    value = match(push)
                    if value is not None:
                        deliver(value)
                        return

                def give_up() -> None:
                    serial.disposable = read_back(result).subscribe(
                        observer, scheduler=scheduler
                    )

                assert pending.request_id is not None
                cancel = self._requests.await_echo(
                    pending.request_id, match, deliver, give_up
                )
                serial.disposable = Disposable(cancel)

            pending = self._requests.submit(method, on_result, observer.on_error)
            serial.disposable = Disposable(lambda: self._requests.abandon(pending))
            return serial

        return _Call(subscribe)

    async def _ask(self, method: Method[R]) -> R:
        """Send ``method`` and wait for its result (for multi-step methods)."""
        return await self._requests.ask(method)

    def _from_coroutine(self, factory: Callable[[], Awaitable[T]]) -> Observable[T]:
        """A cold observable that runs ``factory()`` per subscription."""

        def subscribe(
            observer: abc.ObserverBase[T], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            if self._destroyed:
                observer.on_error(SDKClosedError("the SDK was destroyed"))
                return Disposable()
            task = self._spawn(factory())
            disposed = False

            def settle(task: asyncio.Task[T]) -> None:
                if disposed:
                    return
                if task.cancelled():  # by destroy(), not by the subscriber
                    observer.on_error(SDKClosedError("the SDK was destroyed"))
                    return
                exc = task.exception()
                if exc is not None:
                    observer.on_error(_as_exception(exc))
                else:
                    observer.on_next(task.result())
                    observer.on_completed()

            task.add_done_callback(settle)

            def cancel() -> None:
                nonlocal disposed
                disposed = True
                task.cancel()

            return Disposable(cancel)

        return _Call(subscribe)

    def _spawn(self, coro: Awaitable[T]) -> asyncio.Task[T]:
        task: asyncio.Task[T] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _check_alive(self) -> None:
        if self._destroyed:
            raise SDKClosedError("the SDK was destroyed")


class _Call(Observable[T]):
    """A method's cold observable, with a fast ``await``.

    ``Observable.__await__`` goes through ``to_future``, the trampoline scheduler
    and an auto-detach observer; this calls the subscribe function directly with
    an observer that settles a future. Same result: the last value, the error, or
    ``SequenceContainsNoElementsError``; the subscription is disposed when the
    future is done (so cancelling the awaiting task abandons the request).
    """

    def __await__(self) -> Generator[Any, None, T]:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        subscription = self._subscribe_core(_FutureObserver(future), None)
        future.add_done_callback(lambda _: subscription.dispose())
        return future.__await__()


class _FutureObserver(abc.ObserverBase[T]):
    __slots__ = ("_future", "_has_value", "_value")

    def __init__(self, future: asyncio.Future[T]) -> None:
        self._future = future
        self._has_value = False
        self._value: Any = None

    def on_next(self, value: T) -> None:
        self._value = value
        self._has_value = True

    def on_error(self, error: Exception) -> None:
        if not self._future.done():
            self._future.set_exception(error)

    def on_completed(self) -> None:
        if self._future.done():
            return
        if self._has_value:
            self._future.set_result(self._value)
        else:
            self._future.set_exception(SequenceContainsNoElementsError())


def _as_exception(exc: BaseException) -> Exception:
    return exc if isinstance(exc, Exception) else ConnectError(repr(exc))
