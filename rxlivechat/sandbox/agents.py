"""Scripted agents: the other side of the chat, driven from test code.

A :class:`ScriptedAgent` acts through the same pure handlers as customers
(:mod:`.actions.agent`), so what it does reaches customers as the pushes
a real agent's actions would cause. What reaches the agent (the pushes of the
chats it is in, new chats of its groups, sneak peeks) lands in its inbox, which
test code reads with :meth:`ScriptedAgent.next_customer_event`,
:meth:`ScriptedAgent.next_chat` and :meth:`ScriptedAgent.next_push`.

Example:
    >>> async def scenario(sandbox):                       # doctest: +SKIP
    ...     agent = sandbox.agent("Jane")
    ...     chat_id = await agent.next_chat(timeout=5)
    ...     await agent.join(chat_id)
    ...     event = await agent.next_customer_event(chat_id, timeout=5)
    ...     await agent.send_message(chat_id, f"You said: {event.text}")

Wherever a method takes a model it also takes its plain ``dict`` (the wire form,
as in the protocol docs): ``send_event(chat_id, {"type": "message", "text":
"hi"})``, ``send_rich_message(chat_id, [{"title": "A", "buttons": [...]}])``.
A wait that ends empty raises :class:`AgentTimeoutError`, which says what was
awaited and what the inbox held instead.
"""

from __future__ import annotations

import asyncio
import datetime
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

import msgspec

from ..exceptions import InvalidArgumentError
from ..protocol.base import Model, PushPayload
from ..protocol.models import (
    Event,
    Message,
    Properties,
    RichMessage,
    RichMessageElement,
)
from ..protocol.pushes import IncomingChat, IncomingEvent
from .actions import IncomingSneakPeek, Outgoing
from .actions.agent import AgentActs
from .records import AgentRecord, SneakPeek
from .store import SandboxState
from .tokens import TokenRegistry

__all__ = ["AgentHost", "AgentTimeoutError", "ScriptedAgent"]

T = TypeVar("T")


class AgentHost(Protocol):
    """What a scripted agent needs of its sandbox (the Sandbox is one)."""

    @property
    def store(self) -> SandboxState:
        """The state (the agent reads its chats)."""
        ...

    @property
    def handlers(self) -> AgentActs:
        """The acts, which change the state and say what to push."""
        ...

    @property
    def tokens(self) -> TokenRegistry:
        """Where the agent's token comes from."""
        ...

    async def deliver(self, pushes: Iterable[Outgoing]) -> None:
        """Send the pushes an act caused."""
        ...


class AgentTimeoutError(TimeoutError):
    """A scripted agent waited for something that did not come in time.

    The message says what was awaited, for how long, and which pushes the agent
    had received but not read (often the push that came instead).

    Attributes:
        awaited: what the wait was for (``"a customer event in chat X"``).
        timeout: the seconds waited.
    """

    def __init__(self, message: str, *, awaited: str, timeout: float) -> None:
        super().__init__(message)
        self.awaited = awaited
        self.timeout = timeout


class ScriptedAgent:
    """An agent of the sandbox's organization, scripted from Python.

    Get one with :meth:`Sandbox.agent <rxlivechat.sandbox.Sandbox.agent>`.

    Attributes:
        id: the agent id (32 hex characters).
        name: the display name.
        pushes: the pushes the agent received, oldest first, as
            ``(action, payload)``: the latest ``inbox`` (up to 10 % more
            before older ones are dropped).
        received: how many pushes the agent received in all.

    Args:
        sandbox: the sandbox it is an agent of.
        record: its record in the store.
        inbox: pushes kept in :attr:`pushes` and unread in the inbox (the
            oldest are dropped beyond: a flood cannot grow an agent without
            bound).
    """

    def __init__(
        self, sandbox: AgentHost, record: AgentRecord, *, inbox: int = 10_000
    ) -> None:
        self._sandbox = sandbox
        self._record = record
        self.id = record.id
        self.name = record.name
        self.pushes: list[tuple[str, PushPayload | Model]] = []
        self.received = 0
        self._inbox = inbox
        self._customer_events: deque[IncomingEvent] = deque(maxlen=inbox)
        self._chats: deque[str] = deque(maxlen=inbox)
        self._unread: deque[tuple[str, PushPayload | Model]] = deque(maxlen=inbox)
        self._changed = asyncio.Event()

    def __repr__(self) -> str:
        return f"<ScriptedAgent {self.name!r} {self.id}>"

    @property
    def token(self) -> str:
        """The agent's access token: what the ``agent_token`` grant accepts."""
        return self._sandbox.tokens.agent_token(self.id)

    # Acting -------------------------------------------------------------------------

    async def join(self, chat_id: str) -> None:
        """Join a chat: the customer gets ``user_added_to_chat``."""
        await self._run(lambda h: h.agent_join(self.id, chat_id))

    async def leave(self, chat_id: str) -> None:
        """Leave a chat: the customer gets ``user_removed_from_chat``."""
        await self._run(lambda h: h.agent_leave(self.id, chat_id))

    async def send_message(
        self,
        chat_id: str,
        text: str,
        *,
        custom_id: str | None = None,
        recipients: str | None = None,
        attach_to_last_thread: bool = False,
    ) -> Message:
        """Send a text message; returns the stored event (with id and time)."""
        event = await self.send_event(
            chat_id,
            Message(text=text, custom_id=custom_id, recipients=recipients),
            attach_to_last_thread=attach_to_last_thread,
        )
        assert isinstance(event, Message)
        return event

    async def send_rich_message(
        self,
        chat_id: str,
        elements: Sequence[RichMessageElement | Mapping[str, Any]],
        *,
        template_id: str = "cards",
        custom_id: str | None = None,
    ) -> RichMessage:
        """Send a rich message (``cards``, ``quick_replies``, ``sticker``).

        Args:
            chat_id: the chat.
            elements: the cards, as models or plain dicts (wire form).
            template_id: the template.
            custom_id: the event's ``custom_id``.

        Raises:
            InvalidArgumentError: an element does not fit the wire form.
        """
        rich = RichMessage(
            template_id=template_id,
            elements=list(elements),  # type: ignore[arg-type]  # checked by send_event
            custom_id=custom_id,
        )
        event = await self.send_event(chat_id, rich)
        assert isinstance(event, RichMessage)
        return event

    async def send_event(
        self,
        chat_id: str,
        event: Event | Mapping[str, Any],
        *,
        attach_to_last_thread: bool = False,
    ) -> Event:
        """Send any event (``incoming_event``); returns the stored copy.

        Args:
            chat_id: the chat.
            event: the event, as a model or a plain dict (wire form:
                ``{"type": "message", "text": "hi"}``); dicts nested in a model
                are accepted too.
            attach_to_last_thread: send to the last thread even if closed.

        Raises:
            InvalidArgumentError: the event does not fit the wire form.
            ChatInactiveError: the chat has no open thread.
        """
        stored, pushes = self._sandbox.handlers.agent_send_event(
            self.id,
            chat_id,
            _as_event(event),
            attach_to_last_thread=attach_to_last_thread,
        )
        await self._sandbox.deliver(pushes)
        return stored

    async def typing(self, chat_id: str, is_typing: bool = True) -> None:
        """Start (or stop) typing: ``incoming_typing_indicator``."""
        await self._run(lambda h: h.agent_typing(self.id, chat_id, is_typing))

    async def thinking(
        self, chat_id: str, title: str = "Thinking", description: str | None = None
    ) -> None:
        """Show a thinking indicator: ``incoming_thinking_indicator``."""
        await self._run(
            lambda h: h.agent_thinking(self.id, chat_id, title, description)
        )

    async def preview(
        self, chat_id: str, text: str, *, custom_id: str | None = None
    ) -> None:
        """Show a message still being written: ``incoming_event_preview``."""
        await self._run(
            lambda h: h.agent_event_preview(self.id, chat_id, text, custom_id=custom_id)
        )

    async def edit_message(self, chat_id: str, event_id: str, text: str) -> Message:
        """Change the text of one of the agent's messages: ``event_updated``.

        Returns:
            The new version of the message (same id).
        """
        updated, pushes = self._sandbox.handlers.agent_edit_message(
            self.id, chat_id, event_id, text
        )
        await self._sandbox.deliver(pushes)
        return updated

    async def update_chat_properties(
        self, chat_id: str, properties: Properties
    ) -> None:
        """Set chat properties: ``chat_properties_updated``."""
        await self._run(
            lambda h: h.agent_update_properties(self.id, chat_id, properties)
        )

    async def update_thread_properties(
        self, chat_id: str, thread_id: str, properties: Properties
    ) -> None:
        """Set thread properties: ``thread_properties_updated``."""
        await self._run(
            lambda h: h.agent_update_properties(
                self.id, chat_id, properties, thread_id=thread_id
            )
        )

    async def update_event_properties(
        self, chat_id: str, thread_id: str, event_id: str, properties: Properties
    ) -> None:
        """Set event properties: ``event_properties_updated``."""
        await self._run(
            lambda h: h.agent_update_properties(
                self.id, chat_id, properties, thread_id=thread_id, event_id=event_id
            )
        )

    async def transfer(
        self,
        chat_id: str,
        *,
        group_ids: list[int] | None = None,
        agent_ids: list[str] | None = None,
    ) -> None:
        """Transfer the chat to groups and/or agents: ``chat_transferred``."""
        await self._run(
            lambda h: h.agent_transfer(
                self.id, chat_id, group_ids=group_ids, agent_ids=agent_ids
            )
        )

    async def deactivate(self, chat_id: str) -> None:
        """Close the chat's thread: system message, then ``chat_deactivated``."""
        await self._run(lambda h: h.agent_deactivate(self.id, chat_id))

    async def mark_seen(
        self, chat_id: str, seen_up_to: datetime.datetime | None = None
    ) -> None:
        """Mark the chat seen (now by default): ``events_marked_as_seen``."""
        await self._run(lambda h: h.agent_mark_seen(self.id, chat_id, seen_up_to))

    async def send_greeting(
        self,
        customer_id: str,
        text: str,
        *,
        greeting_id: int | None = None,
        addon: str | None = None,
        is_exit_intent: bool = False,
    ) -> tuple[int, str]:
        """Show the customer a greeting: ``incoming_greeting``.

        Returns:
            ``(greeting id, unique id)``: what ``accept_greeting`` needs.
        """
        greeting, pushes = self._sandbox.handlers.agent_send_greeting(
            self.id,
            customer_id,
            text,
            greeting_id=greeting_id,
            addon=addon,
            is_exit_intent=is_exit_intent,
        )
        await self._sandbox.deliver(pushes)
        return greeting.id, greeting.unique_id

    # Observing ----------------------------------------------------------------------

    def sneak_peeks(self, chat_id: str) -> list[SneakPeek]:
        """The sneak peeks the customer sent in a chat, oldest first (with times)."""
        chat = self._sandbox.store.chats.get(chat_id)
        return list(chat.sneak_peeks) if chat is not None else []

    async def next_customer_event(
        self, chat_id: str | None = None, *, timeout: float = 5.0
    ) -> Event:
        """Wait for the next event a customer sent to a chat the agent is in.

        Events sent before the agent joined, such as ``start_chat``'s initial
        events, are not returned: they came inside ``incoming_chat`` (read them
        with ``next_push("incoming_chat")``).

        Args:
            chat_id: only this chat (any chat when ``None``).
            timeout: seconds to wait.

        Returns:
            The event (each one is returned once).

        Raises:
            AgentTimeoutError: none came in time (a ``TimeoutError``).
        """
        push = await self._take(
            self._customer_events,
            lambda p: chat_id is None or p.chat_id == chat_id,
            timeout,
            "a customer event" + (f" in chat {chat_id}" if chat_id else ""),
        )
        return push.event

    async def next_chat(self, *, timeout: float = 5.0) -> str:
        """Wait for the next chat (or resumed chat) of the agent's groups.

        An agent created while chats of its groups were already active finds them
        first, oldest first.

        Returns:
            The chat id (each new thread is returned once).

        Raises:
            AgentTimeoutError: none came in time (a ``TimeoutError``).
        """
        return await self._take(self._chats, lambda _: True, timeout, "a new chat")

    async def next_push(
        self, action: str | None = None, *, timeout: float = 5.0
    ) -> PushPayload | Model:
        """Wait for the next push of ``action`` (any when ``None``) the agent gets.

        Raises:
            AgentTimeoutError: none came in time (a ``TimeoutError``).
        """
        _, payload = await self._take(
            self._unread,
            lambda item: action is None or item[0] == action,
            timeout,
            f"a {action} push" if action else "a push",
        )
        return payload

    # Called by the sandbox ----------------------------------------------------------

    def receive(self, push: PushPayload | Model) -> None:
        """Put a push in the inbox (the sandbox calls this; no I/O)."""
        action = getattr(push, "action", None) or _agent_action(push)
        self.pushes.append((action, push))
        self.received += 1
        if len(self.pushes) > self._inbox + self._inbox // 10:  # trimmed in batches
            del self.pushes[: -self._inbox]
        self._unread.append((action, push))
        if isinstance(push, IncomingEvent):
            chat = self._sandbox.store.chats.get(push.chat_id)
            if chat is not None and push.event.author_id == chat.customer_id:
                self._customer_events.append(push)
        elif isinstance(push, IncomingChat):
            self._chats.append(push.chat.id)
        self._changed.set()

    def waiting(self, chat_id: str) -> None:
        """Queue a chat for :meth:`next_chat` (an active chat the agent can take)."""
        self._chats.append(chat_id)
        self._changed.set()

    # Private methods ----------------------------------------------------------------

    async def _run(self, act: Callable[[AgentActs], list[Outgoing]]) -> None:
        await self._sandbox.deliver(act(self._sandbox.handlers))

    async def _take(
        self, queue: deque[T], match: Callable[[T], bool], timeout: float, awaited: str
    ) -> T:
        try:
            async with asyncio.timeout(timeout):
                while True:
                    for item in queue:
                        if match(item):
                            queue.remove(item)
                            return item
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            unread = Counter(action for action, _ in self._unread)
            held = ", ".join(f"{action} x{n}" for action, n in unread.items())
            raise AgentTimeoutError(
                f"{self!r} waited {timeout:g} s for {awaited}; none came"
                f" (unread pushes: {held or 'none'})",
                awaited=awaited,
                timeout=timeout,
            ) from None


def _as_event(event: Any) -> Event:
    """``event`` checked against the wire form: a model, a dict, or a mix of both.

    A round trip through builtins validates what a model's constructor does not
    (a dict nested in a model, a field of the wrong type).
    """
    try:
        checked: Event = msgspec.convert(msgspec.to_builtins(event), Event)
    except (msgspec.ValidationError, TypeError) as exc:
        raise InvalidArgumentError(f"event: {exc}") from None
    return checked


def _agent_action(push: Model) -> str:
    if isinstance(push, IncomingSneakPeek):
        return "incoming_sneak_peek"
    return type(push).__name__
