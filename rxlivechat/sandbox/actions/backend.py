"""The backend every handler acts on: the state, and the operations families share.

Pure: no asyncio, no aiohttp, no socket; the :class:`~..store.SandboxState` holds the
state, with its injected clock and id source. Limits and validation follow
docs/protocol.md §10; where the documentation is silent the choice is written
down in ``docs/sandbox-choices.md`` and the comments cite it as "(inferred)".
"""

from __future__ import annotations

import datetime

from ...exceptions import (
    ChatInactiveError,
    GreetingNotFoundError,
    GroupNotFoundError,
    GroupOfflineError,
    GroupUnavailableError,
    LimitReachedError,
    NotFoundError,
)
from ...protocol.models import Agent, Event, Properties, PropertyNames, SystemMessage
from ...protocol.pushes import (
    ChatDeactivated,
    EventsMarkedAsSeen,
    IncomingChat,
    IncomingEvent,
    UserAddedToChat,
    UserRemovedFromChat,
)
from ..properties import PropertyRegistry
from ..records import (
    AgentRecord,
    ChatRecord,
    CustomerRecord,
    GreetingRecord,
    GroupRecord,
    ThreadRecord,
)
from ..store import SandboxState
from .base import Outgoing


class Backend:
    """The state and the operations several action families share (moto's "backend").

    Args:
        store: the state.
        chats_per_customer: how many chats ``start_chat`` lets a customer have
            (LiveChat: 1; more → ``chat_limit_reached``).
        properties: the registered properties; default: LiveChat's default
            properties and the reference's ``test`` namespace.
    """

    def __init__(
        self,
        store: SandboxState,
        *,
        chats_per_customer: int = 1,
        properties: PropertyRegistry | None = None,
    ) -> None:
        self.store = store
        """The state every handler reads and changes."""
        self.properties = properties or PropertyRegistry()
        """The license's registered properties (docs/sandbox-choices.md)."""
        self.chats_per_customer = chats_per_customer
        """The ``start_chat`` limit per customer."""

    # Audiences and pushes -------------------------------------------------------------

    def members(self, chat: ChatRecord) -> frozenset[str]:
        """Who gets a chat's pushes: its customer and the agents present."""
        return frozenset({chat.customer_id, *chat.present})

    def customer_audience(self, customer: CustomerRecord) -> frozenset[str]:
        """Who hears of a change to the customer: them, their active chats' agents."""
        agents = {
            a
            for chat in self.store.customer_chats(customer.id)
            if chat.active
            for a in chat.present
        }
        return frozenset({customer.id, *agents})

    def incoming_chat(
        self, chat: ChatRecord, thread: ThreadRecord, requester: str
    ) -> Outgoing:
        """The ``incoming_chat`` push of a new thread (members, watching agents)."""
        # Agents of the chat's groups hear of a new thread (so scripted agents can
        # pick it up), besides the chat's members.
        groups = set(chat.access.group_ids)
        watching = {
            a.id
            for a in self.store.agents.values()
            if 0 in groups or groups & set(a.group_ids)
        }
        push = IncomingChat(
            requester_id=requester,
            chat=self.store.chat_model(chat, thread, chat.customer_id),
        )
        return Outgoing(push, self.members(chat) | watching)

    # Events and threads ---------------------------------------------------------------

    def append(
        self,
        chat: ChatRecord,
        thread: ThreadRecord,
        event: Event,
        author_id: str | None,
        *,
        closing: bool = False,
    ) -> tuple[Event, list[Outgoing]]:
        """Store an event in a thread; returns it and its ``incoming_event`` push.

        Raises:
            LimitReachedError: the thread holds ``bounds.events_per_thread``
                events (the system message of a close, ``closing``, still goes in).
        """
        if not closing:
            self.require_room(thread)
        stored = self.store.add_event(thread, event, author_id=author_id)
        audience = self.members(chat)
        if not self.store.visible(stored, chat.customer_id):
            audience = audience - {chat.customer_id}
        push = IncomingEvent(chat_id=chat.id, thread_id=thread.id, event=stored)
        return stored, [Outgoing(push, audience)]

    def require_room(self, thread: ThreadRecord | None = None) -> None:
        """Refuse a new event (in ``thread``) or thread past the bounds.

        Raises:
            LimitReachedError: the thread is full (``bounds.events_per_thread``),
                or the organization's events are (``bounds.event_bytes``).
        """
        bounds = self.store.bounds
        if self.store.event_bytes >= bounds.event_bytes:
            raise LimitReachedError(
                f"Events limit reached ({bounds.event_bytes} bytes in all)"
            )
        if thread is not None and len(thread.events) >= bounds.events_per_thread:
            raise LimitReachedError(
                f"Thread events limit reached ({bounds.events_per_thread})"
            )

    def close(
        self, chat: ChatRecord, closer: str, message: SystemMessage
    ) -> list[Outgoing]:
        """Close the chat's open thread with ``message`` (``chat_deactivated``)."""
        thread = chat.last_thread
        if thread is None or not thread.active:
            raise ChatInactiveError("Chat is inactive")
        _, pushes = self.append(chat, thread, message, None, closing=True)
        thread.active = False
        thread.queue = None
        push = ChatDeactivated(chat_id=chat.id, thread_id=thread.id, user_id=closer)
        audience = self.members(chat)
        # customer-sdk/index.mdx, user_removed_from_chat's reasons include
        # 'chat_deactivated': the agents leave with the thread.
        agents = sorted(chat.present - {chat.customer_id}, key=chat.user_ids.index)
        chat.routed_to = agents
        chat.present -= set(agents)
        removed = [
            Outgoing(
                UserRemovedFromChat(
                    chat_id=chat.id, user_id=agent_id, reason="chat_deactivated"
                ),
                audience,
            )
            for agent_id in agents
        ]
        return [*pushes, Outgoing(push, audience), *removed]

    def route_again(self, chat: ChatRecord, thread: ThreadRecord) -> list[Outgoing]:
        """A resumed chat goes back to the agents it had (docs/sandbox-choices.md)."""
        pushes = []
        for agent_id in chat.routed_to:
            if agent_id not in self.store.agents:
                continue
            chat.present.add(agent_id)
            if agent_id not in thread.user_ids:
                thread.user_ids.append(agent_id)
            added = UserAddedToChat(
                chat_id=chat.id,
                thread_id=thread.id if thread.active else None,
                user=self.store.user_model(chat, agent_id),
                reason="other",
            )
            pushes.append(Outgoing(added, self.members(chat)))
        chat.routed_to = []
        return pushes

    def mark_seen(
        self, chat: ChatRecord, user_id: str, seen_up_to: datetime.datetime
    ) -> list[Outgoing]:
        """Move ``user_id``'s seen time forward (``events_marked_as_seen``)."""
        previous = chat.seen.get(user_id)
        if previous is None or seen_up_to > previous:
            chat.seen[user_id] = seen_up_to
        push = EventsMarkedAsSeen(
            user_id=user_id, chat_id=chat.id, seen_up_to=chat.seen[user_id]
        )
        return [Outgoing(push, self.members(chat))]

    def seen_all(self, chat: ChatRecord, user_id: str) -> None:
        """start_chat, resume_chat and send_event mark everything as seen (§2.0)."""
        thread = chat.last_thread
        if thread is not None and thread.events:
            last = thread.events[-1].created_at
            assert last is not None
            previous = chat.seen.get(user_id)
            chat.seen[user_id] = last if previous is None else max(previous, last)

    def writable_thread(
        self, chat: ChatRecord, attach_to_last_thread: bool | None
    ) -> ThreadRecord:
        """The thread a new event goes to.

        Raises:
            ChatInactiveError: no open thread, and not attaching to the last.
        """
        thread = chat.last_thread
        if thread is None:
            raise ChatInactiveError("Chat is inactive")
        if not thread.active and not attach_to_last_thread:
            # attach_to_last_thread=false (default) on an inactive chat fails (§2.3);
            # the type is (inferred).
            raise ChatInactiveError("Chat is inactive")
        return thread

    # Lookups --------------------------------------------------------------------------

    def event_of(
        self, customer: CustomerRecord, chat_id: str, thread_id: str, event_id: str
    ) -> tuple[ChatRecord, ThreadRecord, Event]:
        """A visible event of the customer's chat.

        Raises:
            NotFoundError: no such chat, thread or event.
        """
        chat = self.store.chat_of(customer.id, chat_id)
        thread = chat.thread(thread_id)
        event = thread.event(event_id)
        if event is None or not self.store.visible(event, customer.id):
            raise NotFoundError("Event not found")
        return chat, thread, event

    def greeting(
        self, customer: CustomerRecord, unique_id: str, *, shown_only: bool = True
    ) -> GreetingRecord:
        """The customer's greeting; ``shown_only``: refuse a canceled one."""
        greeting = self.store.greetings.get(unique_id)
        if (
            greeting is None
            or greeting.customer_id != customer.id
            or (shown_only and greeting.canceled)
        ):
            raise GreetingNotFoundError("Greeting not found")
        return greeting

    def group(self, group_id: int) -> GroupRecord:
        """The group with this id.

        Raises:
            GroupNotFoundError: no such group.
        """
        group = self.store.group(group_id)
        if group is None:
            raise GroupNotFoundError("Group not found")
        return group

    def agent(self, agent_id: str) -> AgentRecord:
        """The agent with this id.

        Raises:
            NotFoundError: no such agent.
        """
        agent = self.store.agents.get(agent_id)
        if agent is None:
            raise NotFoundError("Agent not found")
        return agent

    def agent_chat(self, agent_id: str, chat_id: str) -> tuple[ChatRecord, AgentRecord]:
        """A chat and the agent acting in it.

        Raises:
            NotFoundError: no such agent or chat.
        """
        agent = self.agent(agent_id)
        chat = self.store.chats.get(chat_id)
        if chat is None:
            raise NotFoundError("Chat not found")
        return chat, agent

    def predict(
        self, customer: CustomerRecord, group_id: int | None
    ) -> tuple[Agent, bool]:
        """The agent routing would pick for the customer, and whether they queue."""
        group = self.group(customer.group_id if group_id is None else group_id)
        if group.status == "offline":
            raise GroupOfflineError("Group is offline")
        candidates = [
            a
            for a in self.store.agents.values()
            if a.available and (group.id == 0 or group.id in a.group_ids)
        ]
        if not candidates:
            raise GroupUnavailableError("No agent available for group")
        agent = candidates[0]
        return agent.model(with_bot=True), group.status == "online_for_queue"


# Property maps ------------------------------------------------------------------------


def copy_properties(properties: Properties) -> Properties:
    """A copy two levels deep (namespace → name → value)."""
    return {ns: dict(values) for ns, values in properties.items()}


def merge_properties(target: Properties, update: Properties | None) -> None:
    """Merge ``update`` into ``target``, namespace by namespace."""
    for namespace, values in (update or {}).items():
        target.setdefault(namespace, {}).update(values)


def delete_properties(target: Properties, names: PropertyNames) -> None:
    """Remove ``names`` from ``target``; empty namespaces go too."""
    for namespace, keys in names.items():
        values = target.get(namespace)
        if values is None:
            continue
        for key in keys:
            values.pop(key, None)
        if not values:
            del target[namespace]
