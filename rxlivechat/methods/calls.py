"""Methods as operators: every request as a cold, awaitable observable.

.. code-block:: text

    sdk.send_event(chat, Message(text="hi"))     nothing sent yet (cold)
        .subscribe(...)  /  await ...            ─► request ──reply──► --result|
        .dispose()       /  task.cancel()        ─► the request is abandoned

Rules:

1. Building a method's observable sends nothing; each subscription sends its own
   request (retries get new request ids), and disposing it abandons the request.
2. ``await`` on a method settles a future straight from the request's callbacks
   (:class:`_Call`), without reactivex's ``to_future``, trampoline or observers:
   the same result, a fraction of the cost.
3. Multi-step methods run as one task per subscription (:meth:`Calls.from_coroutine`);
   closing cancels them and their subscribers get ``SDKClosedError``.
4. :class:`Calls` is the Rx layer's one handle on the engine: the method groups
   (:class:`MethodGroup`) and the history reach the engine through it only.
5. A method's observable collected without ever being subscribed or awaited
   warns (``RuntimeWarning``), naming the method and pointing at the line that
   made it, as a never-awaited coroutine does: the request was never sent.
6. Subscribing or awaiting from outside the SDK's loop (a pool thread of an
   ``observe_on``, another thread's loop) is marshalled onto the SDK's loop:
   the request runs there, and its outcome is delivered from there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from reactivex import Observable

from ..engine import Engine, Pending
from ..exceptions import (
    InvalidArgumentError,
    SDKClosedError,
)
from ..protocol.base import Method
from ..protocol.frames import Push
from ..protocol.methods import GetChat, ResumeChatResult, StartChatResult
from ..protocol.models import Chat, ChatInfo, ChatSummary
from ..protocol.pushes import IncomingChat
from ..protocol.versions import ApiVersion, for_version
from .runs import _caller, _Coroutine, _Echoed, _Request
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
        # A dict as a set: empty, 64 bytes instead of 216 per customer.
        self._tasks: dict[asyncio.Task[Any], None] = {}

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
        return _Request(self.engine, method, shape, _caller())

    def echoed(
        self,
        method: Method[R],
        match: Callable[[Push[Any]], T | None],
        read_back: Callable[[Any, R], Observable[T]],
    ) -> Observable[T]:
        """A request whose value is the push it causes (our copy carries its id).

        .. code-block:: text

            send_event ─► reply {event_id} ─┬─ incoming_event (ours) ─► --event|
                                            └─ none within ECHO_WAIT  ─► read_back

        The push may come before or after the reply; ``match`` turns it into the
        value. Without it, ``read_back(method, result)`` supplies the value.
        """
        return _Echoed(self.engine, method, match, read_back, _caller())

    async def ask(self, method: Method[R]) -> R:
        """Send ``method`` and wait for its result (for multi-step methods)."""
        return await self.engine.ask(method)

    def from_coroutine(self, factory: Callable[[], Awaitable[T]]) -> Observable[T]:
        """A cold observable that runs ``factory()`` per subscription."""
        return _Coroutine(self, factory, _caller())

    def spawn(self, coro: Awaitable[T]) -> asyncio.Task[T]:
        """Run ``coro`` as a task that closing the SDK cancels."""
        task: asyncio.Task[T] = asyncio.ensure_future(coro)
        self._tasks[task] = None
        task.add_done_callback(self._tasks.pop)
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

    @property
    def api_version(self) -> ApiVersion:
        """The Customer Chat API version spoken (``init(api_version=...)``)."""
        return self._calls.engine.options.api_version

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
        return self._send(method)

    def web_call(self, method: Method[R]) -> Observable[R]:
        """Send any v3.6 action over the Web API (HTTP) with the customer's token.

        For actions the API serves only over HTTP (``get_configuration``,
        ``check_goals``...); a cold, awaitable observable of the typed result.

        Raises:
            InvalidArgumentError: ``method`` is invalid or has no Web API form.
            SDKClosedError: the SDK was destroyed.
        """
        return self._send_web(method)

    # The groups' helpers -------------------------------------------------------------

    def _send(self, method: Method[R], **arguments: str) -> Observable[R]:
        """:meth:`call`; ``arguments`` name the wire fields a method renamed."""
        self._check_alive()
        validate(method, arguments)
        sent: Method[R] = for_version(method, self.api_version)
        return self._calls.call(sent, _result)

    def _send_web(self, method: Method[R], **arguments: str) -> Observable[R]:
        """:meth:`web_call`; ``arguments`` as for :meth:`_send`."""
        self._check_alive()
        validate(method, arguments)
        if method.web is None:
            raise InvalidArgumentError(f"{method.action!r} has no Web API form")
        sent: Method[R] = for_version(method, self.api_version)
        engine = self._calls.engine
        return self._from_coroutine(lambda: engine.web_call(sent))

    @property
    def _active_chats(self) -> Mapping[str, bool]:
        """What the engine knows of the chats (read only: it writes them)."""
        return self._calls.engine.active_chats

    def _echo_chat(
        self,
        method: Method[Any],  # StartChat or ResumeChat
        chat_id: str | None,
        active: bool,
        **arguments: str,
    ) -> Observable[Chat]:
        """``start_chat``/``resume_chat``: the chat of the ``incoming_chat`` it causes.

        Without that push, the chat is read back (and the engine remembers it as
        ``active``). Here, not in a group: a warning names the method that called.
        """
        self._check_alive()
        validate(method, arguments)

        def read_back(_: Any, result: StartChatResult | ResumeChatResult) -> Any:
            chat = result.chat_id if isinstance(result, StartChatResult) else chat_id
            assert chat is not None
            self._calls.engine.remember_chat(chat, active)
            return self.call(GetChat(chat_id=chat, thread_id=result.thread_id))

        return self._call_echoed(method, _incoming_chat, read_back)

    def _check_alive(self) -> None:
        if self._calls.engine.closed:  # Calls.check_alive, a call less per method
            raise SDKClosedError("the SDK was destroyed")

    def _call_echoed(
        self,
        method: Method[R],
        match: Callable[[Push[Any]], T | None],
        read_back: Callable[[Any, R], Observable[T]],
    ) -> Observable[T]:
        return self._calls.echoed(method, match, read_back)

    def _reshaped(self, call: Observable[R], shape: Callable[[R], T]) -> Observable[T]:
        """``call``'s result passed through ``shape``: a v1 alias over its v3.6 twin.

        Still one request with the fast ``await`` (no operator in between).
        """
        assert isinstance(call, _Request)
        call._used = True  # replaced, not dropped: nothing to warn about
        first = call.shape
        return _Request(
            call._engine, call.method, lambda r, p: shape(first(r, p)), _caller()
        )

    def _remember_chats(self, chats: Iterable[ChatSummary | ChatInfo]) -> None:
        """Tell the engine which chats are active (it keeps them, bounded)."""
        remember = self._calls.engine.remember_chat
        for chat in chats:
            remember(chat.id, chat.active)

    async def _ask(self, method: Method[R]) -> R:
        return await self._calls.ask(method)

    def _from_coroutine(self, factory: Callable[[], Awaitable[T]]) -> Observable[T]:
        return self._calls.from_coroutine(factory)


def _result(result: R, _: Pending) -> R:
    return result


def _incoming_chat(push: Push[Any]) -> Chat | None:
    payload = push.payload
    return payload.chat if isinstance(payload, IncomingChat) else None
