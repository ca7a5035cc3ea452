"""The embedded sandbox, blocking, and the loop thread every blocking facade runs on.

.. code-block:: text

    your thread                     a daemon thread (its own asyncio loop)
    sandbox.agent("Jane").join(c)  ──blocks──►  await ScriptedAgent.join(c)

:class:`LoopThread` is the one place that runs an asyncio loop in a background
thread and blocks on it; :mod:`rxlivechat.sync` (the blocking customer) uses it
too. It lives here because the sandbox may import nothing of the client, while
the client may import the sandbox. Whatever is open (a facade, a pool, a
sandbox) is closed at the interpreter's exit by one ``atexit`` hook.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import threading
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

from ..exceptions import SDKClosedError
from ..protocol.models import Event, Message, RichMessage, RichMessageElement
from .agents import ScriptedAgent
from .server import Sandbox as AsyncSandbox

__all__ = ["CLOSE_TIMEOUT", "OPEN", "LoopThread", "Sandbox", "SyncAgent"]

T = TypeVar("T")

CLOSE_TIMEOUT = 10.0
"""Seconds ``close()`` gives the SDK (or the sandbox) to shut down cleanly."""


class LoopThread:
    """An asyncio loop running in a daemon thread; blocking calls into it.

    Args:
        name: the thread's name.
        closed: what a call after the thread stopped raises
            (:class:`SDKClosedError`) says: what was closed, and what to do.
    """

    def __init__(self, name: str, closed: str) -> None:
        self.closed = closed
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        """Whether the loop still runs (calls into it can be made)."""
        return self._thread.is_alive() and not self.loop.is_closed()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None) -> T:
        """Run ``coro`` on the loop; block until its result, or raise its error.

        Raises:
            TimeoutError: no result within ``timeout`` seconds (``coro`` is
                cancelled).
            RuntimeError: called from the loop's own thread (a listener), where
                blocking would wait for ever.
        """
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError(
                "a blocking call from the SDK's own thread (a listener?) would "
                "wait for ever; use the async CustomerSDK (.sdk) there"
            )
        if not self.alive:
            coro.close()
            raise SDKClosedError(self.closed)
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            if future.done():
                raise  # the call's own TimeoutError
            future.cancel()  # abandon the call
            raise TimeoutError(f"no result within {timeout} s") from None
        except BaseException:
            future.cancel()  # Ctrl-C while blocked: abandon the call
            raise

    def call(self, fn: Callable[[], T], timeout: float | None = None) -> T:
        """Run the plain function ``fn`` on the loop's thread; its result."""

        async def run() -> T:
            return fn()

        return self.run(run(), timeout)

    def stop(self) -> None:
        """Stop the loop (its tasks cancelled) and join the thread."""
        if self._thread.is_alive() and not self.loop.is_closed():
            with contextlib.suppress(RuntimeError):  # closed meanwhile
                self.loop.call_soon_threadsafe(self.loop.stop)
        if threading.current_thread() is not self._thread:
            self._thread.join(CLOSE_TIMEOUT)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            # What asyncio.run does at the end: cancel what is left, wait for
            # it, close the async generators and the executor, close the loop.
            tasks = asyncio.all_tasks(self.loop)
            for task in tasks:
                task.cancel()
            if tasks:
                self.loop.run_until_complete(
                    asyncio.gather(*tasks, return_exceptions=True)
                )
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.run_until_complete(self.loop.shutdown_default_executor())
            self.loop.close()


OPEN: weakref.WeakSet[Any] = weakref.WeakSet()
"""What is open (facades, pools, sandboxes): closed at exit by one hook. A close()
removes its object, so nothing piles up in ``atexit``'s registry."""


@atexit.register
def _close_at_exit() -> None:
    for target in list(OPEN):
        with contextlib.suppress(Exception):
            target.close()


class Sandbox:
    """The embedded sandbox (:class:`rxlivechat.sandbox.Sandbox`), blocking.

    It serves from its own background thread; use it as a context manager::

        with rxlivechat.sync.Sandbox() as sandbox:
            agent = sandbox.agent("Jane")

    Args:
        **options: the keyword arguments of :class:`rxlivechat.sandbox.Sandbox`.
    """

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._runner: LoopThread | None = None
        self._sandbox: AsyncSandbox | None = None

    @property
    def sandbox(self) -> AsyncSandbox:
        """The async sandbox underneath (use it only on its loop: :meth:`run`)."""
        if self._sandbox is None:
            raise RuntimeError("the sandbox is not started: use it in a with block")
        return self._sandbox

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        """Start serving on 127.0.0.1, from a background thread."""
        if self._runner is not None:
            return
        runner = LoopThread(
            "rxlivechat-sandbox",
            "this sync Sandbox was closed (close(), or the end of its with "
            "block): start() it again, or make a new one",
        )

        async def start() -> AsyncSandbox:
            sandbox = AsyncSandbox(**self._options)
            await sandbox.start()
            return sandbox

        try:
            self._sandbox = runner.run(start(), CLOSE_TIMEOUT)
        except BaseException:
            runner.stop()
            raise
        self._runner = runner
        OPEN.add(self)

    def close(self) -> None:
        """Stop serving, stop the loop and join the thread (twice is fine)."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        OPEN.discard(self)
        try:
            with contextlib.suppress(Exception):
                if runner.alive:
                    runner.run(self.sandbox.close(), CLOSE_TIMEOUT)
        finally:
            runner.stop()

    def run(self, start: Callable[[], Awaitable[T]], timeout: float | None = None) -> T:
        """Run ``start()`` on the sandbox's loop and block for its result."""

        async def run() -> T:
            return await start()

        return self._started().run(run(), timeout)

    def _started(self) -> LoopThread:
        if self._runner is None:
            raise RuntimeError("the sandbox is not started: use it in a with block")
        return self._runner

    @property
    def organization_id(self) -> str:
        """The organization's id (pass it to ``connect_sync``)."""
        return self.sandbox.organization_id

    @property
    def api_url(self) -> str:
        """The Customer Chat API's base URL (pass it as ``api_url``)."""
        return self.sandbox.api_url

    @property
    def accounts_url(self) -> str:
        """The Accounts API's base URL (pass it as ``accounts_url``)."""
        return self.sandbox.accounts_url

    def count(self, action: str | None = None, *, transport: str | None = None) -> int:
        """How many requests of ``action`` (and ``transport``) were received."""
        return self._started().call(
            lambda: self.sandbox.count(action, transport=transport)
        )

    def agent(self, name: str, **details: Any) -> SyncAgent:
        """A scripted agent (made if new), whose methods block."""
        agent = self._started().call(lambda: self.sandbox.agent(name, **details))
        return SyncAgent(self, agent)


class SyncAgent:
    """A :class:`~rxlivechat.sandbox.agents.ScriptedAgent` whose methods block.

    Anything not wrapped here: ``sandbox.run(lambda: agent.agent.transfer(...))``.
    """

    def __init__(self, sandbox: Sandbox, agent: ScriptedAgent) -> None:
        self._sandbox = sandbox
        self.agent = agent
        """The async agent underneath."""

    @property
    def id(self) -> str:
        """The agent id."""
        return self.agent.id

    @property
    def name(self) -> str:
        """The display name."""
        return self.agent.name

    def join(self, chat_id: str) -> None:
        """Join the chat."""
        self._sandbox.run(lambda: self.agent.join(chat_id))

    def leave(self, chat_id: str) -> None:
        """Leave the chat."""
        self._sandbox.run(lambda: self.agent.leave(chat_id))

    def send_message(self, chat_id: str, text: str, **options: Any) -> Message:
        """Send a message (``custom_id=``, ``recipients=``...); the stored event."""
        return self._sandbox.run(
            lambda: self.agent.send_message(chat_id, text, **options)
        )

    def send_rich_message(
        self, chat_id: str, elements: list[RichMessageElement], **options: Any
    ) -> RichMessage:
        """Send a rich message (``template_id=``...); the stored event."""
        return self._sandbox.run(
            lambda: self.agent.send_rich_message(chat_id, elements, **options)
        )

    def send_event(self, chat_id: str, event: Event, **options: Any) -> Event:
        """Send any event; the stored event."""
        return self._sandbox.run(
            lambda: self.agent.send_event(chat_id, event, **options)
        )

    def typing(self, chat_id: str, is_typing: bool = True) -> None:
        """Show (or stop showing) that the agent is typing."""
        self._sandbox.run(lambda: self.agent.typing(chat_id, is_typing))

    def deactivate(self, chat_id: str) -> None:
        """Close the chat's thread."""
        self._sandbox.run(lambda: self.agent.deactivate(chat_id))

    def next_chat(self, *, timeout: float = 5.0) -> str:
        """Block for the next chat the agent should serve; its id."""
        return self._sandbox.run(lambda: self.agent.next_chat(timeout=timeout))

    def next_customer_event(
        self, chat_id: str | None = None, *, timeout: float = 5.0
    ) -> Event:
        """Block for the customer's next event (in ``chat_id``)."""
        return self._sandbox.run(
            lambda: self.agent.next_customer_event(chat_id, timeout=timeout)
        )
