"""The observables the methods return: one request (or task) per subscription.

:class:`_Call` is a method's cold observable with a fast ``await`` and
``subscribe`` (see :mod:`.calls` for the rules); each subscription, or
``await``, starts a :class:`_Run`. Separate from :mod:`.calls`, which turns
requests into these, so each module holds one idea.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import warnings
from asyncio.events import _get_running_loop
from collections.abc import Awaitable, Callable, Generator
from pathlib import Path
from types import CodeType, FrameType
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from reactivex import Observable, abc
from reactivex.internal import default_error, noop
from reactivex.internal.exceptions import SequenceContainsNoElementsError

from ..engine import Engine, Pending
from ..exceptions import ConnectError, SDKClosedError, WrongThreadError
from ..protocol.base import Method
from ..protocol.frames import Push

if TYPE_CHECKING:
    from .calls import Calls

T = TypeVar("T")


# Frames in here and in calls.py are the SDK's, not the caller's.
_MODULE_FILES = frozenset({__file__, str(Path(__file__).with_name("calls.py"))})
_SDK_GROUPS = frozenset(
    {
        "CustomerSDK",
        "V1Methods",
        "V1Pages",
        "CustomerActions",
        "DeclaredActions",
        "MethodGroup",
    }
)

Caller = tuple[CodeType, CodeType | None, int]
"""The method that asked for a call, and the user's code and the offset of its
instruction that called it (its line is found only if a warning needs it)."""


def _caller() -> Caller | None:
    """Who asked for a call: the method, and the code that called it.

    The method is the first frame outside here; its caller is the user's code
    for a public method. References, not a traceback: the names are only
    spelled out if it must warn.
    """
    frame: FrameType | None = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename in _MODULE_FILES:
        frame = frame.f_back
    if frame is None:
        return None
    caller = frame.f_back  # one step: a walk would cost every call
    if caller is None:
        return frame.f_code, None, 0
    return frame.f_code, caller.f_code, caller.f_lasti  # f_lineno decodes a table


def method_name(code: CodeType | None) -> str:
    """``CustomerSDK.send_event`` for the code of a method group's method."""
    if code is None:
        return "a CustomerSDK method"
    owner, _, name = code.co_qualname.rpartition(".")
    if owner in _SDK_GROUPS:
        owner = "CustomerSDK"
    return f"{owner}.{name}" if owner else name


def warn_unused(caller: Caller | CodeType | None) -> None:
    """Warn that a method's observable was dropped before anything was sent.

    The warning points at the user's line that made it (it is collected later,
    wherever the garbage collector runs), as a never-awaited coroutine's does.
    """
    if isinstance(caller, CodeType):  # the method only
        caller = (caller, None, 0)
    method, code, line = (None, None, 0) if caller is None else caller
    message = (
        f"{method_name(method)}(...) was never awaited or "
        "subscribed: nothing was sent (await it, or subscribe to it)"
    )
    if code is None:
        warnings.warn(message, RuntimeWarning, stacklevel=2)
        return
    lineno = next(
        (n for start, end, n in code.co_lines() if start <= line < end and n), 0
    )
    warnings.warn_explicit(
        message, RuntimeWarning, code.co_filename, lineno, module=code.co_filename
    )


class _Call(Observable[T]):
    """A method's cold observable, with a fast ``await`` and ``subscribe``.

    Each subscription, and each ``await``, starts a :class:`_Run`: one request
    (or one task) and where its single outcome goes. ``Observable.__await__``
    goes through ``to_future``, the trampoline scheduler and an auto-detach
    observer; here ``await`` settles a future straight from the request's
    callbacks, with the same result: the value, or the error. Leaving the
    ``await`` early (the task is cancelled) disposes the run, which abandons
    the request.

    ``subscribe`` skips the trampoline too: a request never emits while it is
    being subscribed (it waits for the socket), so there is nothing to schedule.

    Every object made per request costs twice: once to build, once more in the
    cyclic GC while thousands are in flight. So the runs are slotted objects
    with bound methods as callbacks, not closures (each closure is a function,
    a tuple and a cell per variable).

    Collected without a subscription, it warns (rule 5).
    """

    def __init__(self, engine: Engine, caller: Caller | None) -> None:
        # Not Observable.__init__: its per-instance RLock costs every call, and
        # only a few operators ever take it (amb...): made when first asked for.
        self._engine = engine
        self._lock: threading.RLock | None = None
        self._caller = caller  # named in the warning, if it must warn
        self._used = False

    def _start(
        self,
        future: asyncio.Future[T] | None,
        observer: abc.ObserverBase[T] | None,
    ) -> _Run[T]:
        """Start one run whose outcome goes to ``future`` or ``observer``."""
        raise NotImplementedError

    def __del__(self) -> None:
        if not getattr(self, "_used", True):
            warn_unused(self._caller)

    def _subscribe_core(
        self,
        observer: abc.ObserverBase[T],
        scheduler: abc.SchedulerBase | None = None,
    ) -> abc.DisposableBase:
        self._used = True
        engine = self._engine
        if engine.loop is not None and _get_running_loop() is not engine.loop:
            return _Marshalled(self, observer, engine.loop)  # another thread
        return self._start(None, observer)

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
        callbacks: _Callbacks[T] = _Callbacks(on_next, on_error, on_completed)
        try:
            run = self._subscribe_core(callbacks, scheduler)
        except Exception as exc:
            if not callbacks.fail(exc):
                raise
            return callbacks
        callbacks.attach(run)
        return callbacks

    def __await__(self) -> Generator[Any, None, T]:
        self._used = True
        engine = self._engine
        loop = asyncio.get_running_loop()
        if engine.loop is not None and loop is not engine.loop:
            return (yield from self._await_elsewhere(engine.loop).__await__())
        future: asyncio.Future[T] = loop.create_future()
        run = self._start(future, None)
        try:
            return (yield from future)
        finally:  # a no-op once settled; else (cancelled) abandons the request
            run.dispose()

    async def _await_elsewhere(self, loop: asyncio.AbstractEventLoop) -> T:
        """Awaited on another thread's loop: run on the SDK's loop, wait here."""

        async def there() -> T:
            return await self

        if not loop.is_running():
            raise WrongThreadError(_NOT_RUNNING)
        return await asyncio.wrap_future(
            asyncio.run_coroutine_threadsafe(there(), loop)
        )


_NOT_RUNNING = (
    "a CustomerSDK method was used outside the SDK's event loop, which is not "
    "running (closed, or never started): use the SDK on the loop that made it"
)


class _Marshalled(abc.DisposableBase, Generic[T]):
    """A subscription made on another thread, run on the SDK's loop.

    Starting and disposing both go through the loop, in order, so a dispose
    that comes first prevents the start. The outcome is delivered from the
    SDK's loop (``observe_on`` moves it elsewhere).
    """

    __slots__ = ("_call", "_disposed", "_loop", "_observer", "_run")

    def __init__(
        self,
        call: _Call[T],
        observer: abc.ObserverBase[T],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._call = call
        self._observer = observer
        self._loop = loop
        self._run: abc.DisposableBase | None = None
        self._disposed = False
        try:
            loop.call_soon_threadsafe(self._start)
        except RuntimeError:  # the loop is closed
            self._disposed = True
            observer.on_error(WrongThreadError(_NOT_RUNNING))

    def _start(self) -> None:
        if not self._disposed:
            self._run = self._call._subscribe_core(self._observer)

    def _dispose_here(self) -> None:
        self._disposed = True
        run, self._run = self._run, None
        if run is not None:
            run.dispose()

    def dispose(self) -> None:
        if _get_running_loop() is self._loop:
            self._dispose_here()
            return
        with contextlib.suppress(RuntimeError):  # a closed loop: nothing runs
            self._loop.call_soon_threadsafe(self._dispose_here)


class _Run(abc.DisposableBase, Generic[T]):
    """One subscription (or ``await``) of a :class:`_Call`: where its outcome goes.

    Exactly one of ``future`` and ``observer`` is set. The subclasses call
    :meth:`succeed` or :meth:`fail` once, and stop their work in ``dispose()``.
    """

    __slots__ = ("_future", "_observer")

    def __init__(
        self,
        future: asyncio.Future[T] | None,
        observer: abc.ObserverBase[T] | None,
    ) -> None:
        self._future = future
        self._observer = observer

    def succeed(self, value: T) -> None:
        future = self._future
        if future is None:
            assert self._observer is not None
            self._observer.on_next(value)
            self._observer.on_completed()
        elif not future.done():  # done: cancelled, the run is being disposed
            future.set_result(value)

    def fail(self, error: Exception) -> None:
        future = self._future
        if future is None:
            assert self._observer is not None
            self._observer.on_error(error)
        elif not future.done():
            future.set_exception(error)

    def forward(self) -> abc.ObserverBase[T]:
        """An observer passing another observable's outcome on to this run's."""
        if self._future is None:
            assert self._observer is not None
            return self._observer
        return _FutureObserver(self._future)


class _Request(_Call[T]):
    """One request; its value is the result passed through ``shape``."""

    def __init__(
        self,
        engine: Engine,
        method: Method[Any],
        shape: Callable[[Any, Pending], T],
        caller: Caller | None,
    ) -> None:
        super().__init__(engine, caller)
        self.method = method
        self.shape = shape

    def _start(
        self,
        future: asyncio.Future[T] | None,
        observer: abc.ObserverBase[T] | None,
    ) -> _Run[T]:
        run = _RequestRun(future, observer, self)
        run.pending = self._engine.submit(self.method, run.on_result, run.fail)
        return run


class _RequestRun(_Run[T]):
    __slots__ = ("_call", "pending")

    def __init__(
        self,
        future: asyncio.Future[T] | None,
        observer: abc.ObserverBase[T] | None,
        call: _Request[T],
    ) -> None:
        super().__init__(future, observer)
        self._call = call
        self.pending: Pending | None = None

    def on_result(self, result: Any, pending: Pending) -> None:
        try:
            value = self._call.shape(result, pending)
        except Exception as exc:
            self.fail(exc)
            return
        self.succeed(value)

    def dispose(self) -> None:
        pending = self.pending
        if pending is not None and not pending.done:
            self._call._engine.abandon(pending)


class _Echoed(_Call[T]):
    """A request whose value is the push it causes (see :meth:`Calls.echoed`)."""

    def __init__(
        self,
        engine: Engine,
        method: Method[Any],
        match: Callable[[Push[Any]], T | None],
        read_back: Callable[[Any, Any], Observable[T]],
        caller: Caller | None,
    ) -> None:
        super().__init__(engine, caller)
        self.method = method
        self.match = match
        self.read_back = read_back

    def _start(
        self,
        future: asyncio.Future[T] | None,
        observer: abc.ObserverBase[T] | None,
    ) -> _Run[T]:
        run = _EchoedRun(future, observer, self)
        run.pending = self._engine.submit(self.method, run.on_result, run.fail)
        return run


class _EchoedRun(_Run[T]):
    """The request, then the wait for its push, then maybe the read back."""

    __slots__ = ("_call", "_disposed", "_result", "_step", "pending")

    def __init__(
        self,
        future: asyncio.Future[T] | None,
        observer: abc.ObserverBase[T] | None,
        call: _Echoed[T],
    ) -> None:
        super().__init__(future, observer)
        self._call = call
        self.pending: Pending | None = None
        self._result: Any = None
        self._step: Callable[[], None] | None = None  # cancels the current step
        self._disposed = False

    def on_result(self, result: Any, pending: Pending) -> None:
        match = self._call.match
        for push in pending.pushes:
            value = match(push)
            if value is not None:
                self.succeed(value)
                return
        assert pending.request_id is not None
        self._result = result
        self._step = self._call._engine.await_echo(
            pending.request_id, match, self.succeed, self._read_back
        )

    def _read_back(self) -> None:
        call = self._call
        try:
            again = call.read_back(call.method, self._result)
        except Exception as exc:
            self.fail(exc)
            return
        self._step = again.subscribe(self.forward()).dispose

    def dispose(self) -> None:
        if self._disposed:
            return
        self._disposed = True
        pending = self.pending
        if pending is not None and not pending.done:
            self._call._engine.abandon(pending)
        step, self._step = self._step, None
        if step is not None:
            step()


class _Coroutine(_Call[T]):
    """Runs ``factory()`` as a task per subscription (multi-step methods)."""

    def __init__(
        self,
        calls: Calls,
        factory: Callable[[], Awaitable[T]],
        caller: Caller | None,
    ) -> None:
        super().__init__(calls.engine, caller)
        self.calls = calls
        self.factory = factory

    def _start(
        self,
        future: asyncio.Future[T] | None,
        observer: abc.ObserverBase[T] | None,
    ) -> _Run[T]:
        task = self.calls.spawn(self.factory())
        run = _CoroutineRun(future, observer, task)
        task.add_done_callback(run.settle)
        return run


class _CoroutineRun(_Run[T]):
    __slots__ = ("_task",)

    def __init__(
        self,
        future: asyncio.Future[T] | None,
        observer: abc.ObserverBase[T] | None,
        task: asyncio.Task[T],
    ) -> None:
        super().__init__(future, observer)
        self._task: asyncio.Task[T] | None = task

    def settle(self, task: asyncio.Task[T]) -> None:
        if self._task is None:  # disposed
            return
        if task.cancelled():  # by destroy(), not by the subscriber
            self.fail(SDKClosedError("the SDK was destroyed"))
            return
        exc = task.exception()
        if exc is not None:
            self.fail(_as_exception(exc))
        else:
            self.succeed(task.result())

    def dispose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()


class _Callbacks(abc.ObserverBase[T], abc.DisposableBase):
    """The callbacks of a ``subscribe()``, and its subscription.

    reactivex's ``AutoDetachObserver`` without its lock (and the lock's
    disposable), which would cost every subscription: a run emits on the
    engine's loop only. Once stopped (ended or disposed), nothing is called.
    """

    __slots__ = ("_on_completed", "_on_error", "_on_next", "_run", "_stopped")

    def __init__(
        self,
        on_next: abc.OnNext[T] | None,
        on_error: abc.OnError | None,
        on_completed: abc.OnCompleted | None,
    ) -> None:
        self._on_next = on_next or noop
        self._on_error = on_error or default_error
        self._on_completed = on_completed or noop
        self._run: abc.DisposableBase | None = None
        self._stopped = False

    def attach(self, run: abc.DisposableBase) -> None:
        """Hold the subscription's run, or dispose it if already stopped."""
        if self._stopped:
            run.dispose()
        else:
            self._run = run

    def on_next(self, value: T) -> None:
        if not self._stopped:
            self._on_next(value)

    def on_error(self, error: Exception) -> None:
        if self._stopped:
            return
        self._stopped = True
        try:
            self._on_error(error)
        finally:
            self.dispose()

    def on_completed(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        try:
            self._on_completed()
        finally:
            self.dispose()

    def fail(self, error: Exception) -> bool:
        """Report an error raised while subscribing; whether it was reported."""
        if self._stopped:
            return False
        self._stopped = True
        self._on_error(error)
        return True

    def dispose(self) -> None:
        self._stopped = True
        run, self._run = self._run, None
        if run is not None:
            run.dispose()


class _FutureObserver(abc.ObserverBase[T]):
    """Settles a future with an observable's last value (or its error)."""

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
