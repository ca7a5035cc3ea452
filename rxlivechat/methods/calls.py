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
3. Multi-step methods run as one task per subscription (:meth:`Calls.from_coroutine`);
   closing cancels them and their subscribers get ``SDKClosedError``.
4. :class:`Calls` is the Rx layer's one handle on the engine: the method groups
   (:class:`MethodGroup`) and the history reach the engine through it only.
5. A method's observable collected without ever being subscribed or awaited
   warns (``RuntimeWarning``), naming the method, as a never-awaited coroutine
   does: the request was never sent.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import warnings
from collections.abc import Awaitable, Callable, Generator
from types import CodeType, FrameType
from typing import Any, TypeVar, cast

from reactivex import Observable, abc
from reactivex.internal.exceptions import SequenceContainsNoElementsError
from reactivex.observer.autodetachobserver import AutoDetachObserver

from ..engine import Engine, Pending
from ..exceptions import ConnectError, InvalidArgumentError, SDKClosedError
from ..protocol.base import Method
from ..protocol.frames import Push
from .validate import validate

__all__ = ["Calls", "MethodGroup"]

T = TypeVar("T")
R = TypeVar("R")


class Calls:
    """Cold, awaitable observables of requests on one :class:`Engine`.

    Args:
        engine: the engine that sends them.
        report: called with an exception a subscriber raised (the SDK's
            ``error`` event).
    """

    def __init__(self, engine: Engine, report: Callable[[Exception], None]) -> None:
        self.engine = engine
        """The engine; the method groups read its state (``customer_id``...)."""
        self.report = report
        """Reports an error a subscriber raised."""
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def closed(self) -> bool:
        """Whether the SDK was destroyed."""
        return self.engine.closed

    def check_alive(self) -> None:
        """Raise :class:`SDKClosedError` once the SDK was destroyed."""
        if self.engine.closed:
            raise SDKClosedError("the SDK was destroyed")

    def call(
        self, method: Method[Any], shape: Callable[[Any, Pending], T]
    ) -> Observable[T]:
        """A cold observable of one request, its result passed through ``shape``."""
        engine = self.engine

        def subscribe(
            observer: abc.ObserverBase[T], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            if engine.closed:
                observer.on_error(SDKClosedError("the SDK was destroyed"))
                return _Done()

            def on_result(result: Any, pending: Pending) -> None:
                try:
                    value = shape(result, pending)
                except Exception as exc:
                    observer.on_error(exc)
                    return
                observer.on_next(value)
                observer.on_completed()

            pending = engine.submit(method, on_result, observer.on_error)
            return _Action(lambda: engine.abandon(pending))

        return _Call(subscribe, _caller())

    def echoed(
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
        engine = self.engine

        def subscribe(
            observer: abc.ObserverBase[T], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            if engine.closed:
                observer.on_error(SDKClosedError("the SDK was destroyed"))
                return _Done()
            serial = _Serial()

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
                    again = read_back(result)
                    serial.set(again.subscribe(observer, scheduler=scheduler).dispose)

                assert pending.request_id is not None
                cancel = engine.await_echo(pending.request_id, match, deliver, give_up)
                serial.set(cancel)

            pending = engine.submit(method, on_result, observer.on_error)
            serial.set(lambda: engine.abandon(pending))
            return serial

        return _Call(subscribe, _caller())

    async def ask(self, method: Method[R]) -> R:
        """Send ``method`` and wait for its result (for multi-step methods)."""
        return await self.engine.ask(method)

    def from_coroutine(self, factory: Callable[[], Awaitable[T]]) -> Observable[T]:
        """A cold observable that runs ``factory()`` per subscription."""

        def subscribe(
            observer: abc.ObserverBase[T], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            if self.engine.closed:
                observer.on_error(SDKClosedError("the SDK was destroyed"))
                return _Done()
            task = self.spawn(factory())
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

            return _Action(cancel)

        return _Call(subscribe, _caller())

    def spawn(self, coro: Awaitable[T]) -> asyncio.Task[T]:
        """Run ``coro`` as a task that closing the SDK cancels."""
        task: asyncio.Task[T] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def cancel_tasks(self) -> list[asyncio.Task[Any]]:
        """Cancel every spawned task; returns them (to await their end)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        return tasks


class MethodGroup:
    """Base of the method groups: they reach the engine through ``_calls`` only.

    :class:`~rxlivechat.sdk.CustomerSDK` sets ``_calls`` in its ``__init__``;
    the helpers below are the groups' whole vocabulary.
    """

    _calls: Calls

    @property
    def customer_id(self) -> str | None:
        """The customer's id, once logged in."""
        return self._calls.engine.customer_id

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

        Raises:
            InvalidArgumentError: ``method`` is not a valid request payload.
            SDKClosedError: the SDK was destroyed.
        """
        self._check_alive()
        validate(method)
        return self._call(method, lambda result, _: result)

    def web_call(self, method: Method[R]) -> Observable[R]:
        """Send any v3.6 action over the Web API (HTTP) with the customer's token.

        For actions the API serves only over HTTP (``get_configuration``,
        ``check_goals``...); a cold, awaitable observable of the typed result.

        Raises:
            InvalidArgumentError: ``method`` is invalid or has no Web API form.
            SDKClosedError: the SDK was destroyed.
        """
        self._check_alive()
        validate(method)
        if method.web is None:
            raise InvalidArgumentError(f"{method.action!r} has no Web API form")
        engine = self._calls.engine
        return self._from_coroutine(lambda: engine.web_call(method))

    # The groups' helpers -------------------------------------------------------------

    @property
    def _active_chats(self) -> dict[str, bool]:
        return self._calls.engine.active_chats

    def _check_alive(self) -> None:
        self._calls.check_alive()

    def _call(
        self, method: Method[Any], shape: Callable[[Any, Pending], T]
    ) -> Observable[T]:
        return self._calls.call(method, shape)

    def _call_echoed(
        self,
        method: Method[R],
        match: Callable[[Push[Any]], T | None],
        read_back: Callable[[R], Observable[T]],
    ) -> Observable[T]:
        return self._calls.echoed(method, match, read_back)

    async def _ask(self, method: Method[R]) -> R:
        return await self._calls.ask(method)

    def _from_coroutine(self, factory: Callable[[], Awaitable[T]]) -> Observable[T]:
        return self._calls.from_coroutine(factory)


_MODULE_FILE = __file__
_SDK_GROUPS = frozenset(
    {"CustomerSDK", "SeedMethods", "CustomerActions", "MethodGroup"}
)


def _caller() -> CodeType | None:
    """The code of the method that asked for a call: the first frame outside here.

    A reference, not a traceback: the name is only spelled out if it must warn.
    """
    frame: FrameType | None = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename == _MODULE_FILE:
        frame = frame.f_back
    return None if frame is None else frame.f_code


def method_name(code: CodeType | None) -> str:
    """``CustomerSDK.send_event`` for the code of a method group's method."""
    if code is None:
        return "a CustomerSDK method"
    owner, _, name = code.co_qualname.rpartition(".")
    if owner in _SDK_GROUPS:
        owner = "CustomerSDK"
    return f"{owner}.{name}" if owner else name


def warn_unused(code: CodeType | None) -> None:
    """Warn that a method's observable was dropped before anything was sent."""
    warnings.warn(
        f"{method_name(code)}(...) was never awaited or subscribed: "
        "nothing was sent (await it, or subscribe to it)",
        RuntimeWarning,
        stacklevel=2,
    )


class _Call(Observable[T]):
    """A method's cold observable, with a fast ``await`` and ``subscribe``.

    ``Observable.__await__`` goes through ``to_future``, the trampoline scheduler
    and an auto-detach observer; this calls the subscribe function directly with
    an observer that settles a future. Same result: the last value, the error, or
    ``SequenceContainsNoElementsError``; the subscription is disposed when the
    future is done (so cancelling the awaiting task abandons the request).

    ``subscribe`` skips the trampoline too: a request never emits while it is
    being subscribed (it waits for the socket), so there is nothing to schedule.

    Collected without a subscription, it warns (rule 5).
    """

    def __init__(self, subscribe: abc.Subscription[T], caller: CodeType | None) -> None:
        # Not Observable.__init__: its per-instance RLock costs every call, and
        # only a few operators ever take it (amb...): made when first asked for.
        self._subscribe = subscribe
        self._lock: threading.RLock | None = None
        self._caller = caller  # named in the warning, if it must warn
        self._used = False

    def __del__(self) -> None:
        if not getattr(self, "_used", True):
            warn_unused(self._caller)

    def _subscribe_core(
        self,
        observer: abc.ObserverBase[T],
        scheduler: abc.SchedulerBase | None = None,
    ) -> abc.DisposableBase:
        self._used = True
        return super()._subscribe_core(observer, scheduler)

    @property
    def lock(self) -> threading.RLock:  # type: ignore[override]
        """The lock some operators take; made on first use."""
        if self._lock is None:
            self._lock = threading.RLock()
        return self._lock

    def subscribe(
        self,
        on_next: abc.ObserverBase[T] | abc.OnNext[T] | None = None,
        on_error: abc.OnError | None = None,
        on_completed: abc.OnCompleted | None = None,
        *,
        scheduler: abc.SchedulerBase | None = None,
    ) -> abc.DisposableBase:
        """Subscribe an observer or callbacks, as ``Observable.subscribe`` does."""
        if isinstance(on_next, abc.ObserverBase):  # an operator's observer
            return self._subscribe_core(on_next, scheduler)
        if callable(getattr(on_next, "on_next", None)):
            observer = cast(abc.ObserverBase[T], on_next)
            on_next = observer.on_next
            on_error = observer.on_error
            on_completed = observer.on_completed
        detach: AutoDetachObserver[T] = AutoDetachObserver(
            on_next, on_error, on_completed
        )
        try:
            detach.subscription = self._subscribe_core(detach, scheduler)
        except Exception as exc:
            if not detach.fail(exc):
                raise
        return _Action(detach.dispose)

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


class _Action(abc.DisposableBase):
    """Runs an action on the first ``dispose()``.

    A disposable without a lock: everything here runs on the engine's loop.
    """

    __slots__ = ("_action",)

    def __init__(self, action: Callable[[], None]) -> None:
        self._action: Callable[[], None] | None = action

    def dispose(self) -> None:
        action, self._action = self._action, None
        if action is not None:
            action()


class _Done(abc.DisposableBase):
    """Nothing to dispose of."""

    __slots__ = ()

    def dispose(self) -> None:
        return None


class _Serial(abc.DisposableBase):
    """The current step's cancel (a lock-free ``SerialDisposable``).

    Setting a new one runs the old one; after ``dispose()``, a new one runs at
    once.
    """

    __slots__ = ("_action", "_disposed")

    def __init__(self) -> None:
        self._action: Callable[[], None] | None = None
        self._disposed = False

    def set(self, action: Callable[[], None]) -> None:
        if self._disposed:
            action()
            return
        old, self._action = self._action, action
        if old is not None:
            old()

    def dispose(self) -> None:
        if not self._disposed:
            self._disposed = True
            action, self._action = self._action, None
            if action is not None:
                action()


def _as_exception(exc: BaseException) -> Exception:
    return exc if isinstance(exc, Exception) else ConnectError(repr(exc))
