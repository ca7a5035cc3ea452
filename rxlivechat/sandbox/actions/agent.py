"""What the organization's side does: scripted agents' acts, and the sandbox's own.

Each act changes the state and returns the pushes to deliver, as a customer
action does (:mod:`.base`); scripted agents (:mod:`..agents`) and the
sandbox's test-facing methods (group status, queue, multicast) call them.
"""

from __future__ import annotations

import datetime
from typing import Any

import msgspec

from ...exceptions import (
    AuthorizationError,
    GroupNotFoundError,
    NotFoundError,
    ValidationError,
)
from ...protocol.base import PushPayload
from ...protocol.limits import LIMITS
from ...protocol.models import (
    Access,
    Event,
    GroupStatus,
    Message,
    Properties,
    Queue,
    SystemEvent,
    SystemMessage,
    TransferTarget,
    UnknownEvent,
)
from ...protocol.pushes import (
    ChatPropertiesUpdated,
    ChatTransferred,
    EventPropertiesUpdated,
    EventUpdated,
    GreetingCanceled,
    GroupsStatusUpdated,
    IncomingEventPreview,
    IncomingGreeting,
    IncomingMulticast,
    IncomingThinkingIndicator,
    IncomingTypingIndicator,
    QueuePositionUpdated,
    ThreadPropertiesUpdated,
    TypingIndicator,
    UserAddedToChat,
    UserRemovedFromChat,
)
from ..records import GreetingRecord
from .backend import Backend, copy_properties, merge_properties
from .base import Outgoing
from .checks import check_event


class AgentActs(Backend):
    """The acts of agents and of the organization (over the backend)."""

    def agent_join(self, agent_id: str, chat_id: str) -> list[Outgoing]:
        """An agent joins a chat (``user_added_to_chat`` to everyone in it)."""
        chat, agent = self.agent_chat(agent_id, chat_id)
        if agent.id not in chat.user_ids:
            chat.user_ids.append(agent.id)
        chat.present.add(agent.id)
        thread = chat.last_thread
        if thread is not None and thread.active and agent.id not in thread.user_ids:
            thread.user_ids.append(agent.id)
        push = UserAddedToChat(
            chat_id=chat.id,
            thread_id=thread.id if thread is not None and thread.active else None,
            user=self.store.user_model(chat, agent.id),
            reason="manual",
            requester_id=agent.id,
        )
        return [Outgoing(push, self.members(chat))]

    def agent_leave(self, agent_id: str, chat_id: str) -> list[Outgoing]:
        """An agent leaves a chat (``user_removed_from_chat``)."""
        chat, agent = self.agent_chat(agent_id, chat_id)
        audience = self.members(chat)
        chat.present.discard(agent.id)
        thread = chat.last_thread
        push = UserRemovedFromChat(
            chat_id=chat.id,
            thread_id=thread.id if thread is not None and thread.active else None,
            user_id=agent.id,
            reason="manual",
            requester_id=agent.id,
        )
        return [Outgoing(push, audience)]

    def agent_send_event(
        self,
        agent_id: str,
        chat_id: str,
        event: Event,
        *,
        attach_to_last_thread: bool = False,
    ) -> tuple[Event, list[Outgoing]]:
        """An agent sends an event; returns the stored event and the pushes.

        Raises:
            ChatInactiveError: the chat has no open thread (and not attaching).
        """
        chat, agent = self.agent_chat(agent_id, chat_id)
        if agent.id not in chat.user_ids:
            # Agents may write without joining; they show as not present.
            chat.user_ids.append(agent.id)
        if not isinstance(event, SystemEvent | UnknownEvent):
            event = check_event(self, event, agent=True)
        thread = self.writable_thread(chat, attach_to_last_thread)
        return self.append(chat, thread, event, agent.id)

    def agent_typing(
        self, agent_id: str, chat_id: str, is_typing: bool
    ) -> list[Outgoing]:
        """An agent starts or stops typing (``incoming_typing_indicator``)."""
        chat, agent = self.agent_chat(agent_id, chat_id)
        thread = self.writable_thread(chat, False)
        now = self.store.clock.now()
        push = IncomingTypingIndicator(
            chat_id=chat.id,
            thread_id=thread.id,
            typing_indicator=TypingIndicator(
                author_id=agent.id,
                is_typing=is_typing,
                timestamp=int(now.timestamp()),
                recipients="all",
            ),
        )
        return [Outgoing(push, self.members(chat) - {agent.id})]

    def agent_thinking(
        self, agent_id: str, chat_id: str, title: str, description: str | None
    ) -> list[Outgoing]:
        """An (AI) agent is preparing a reply (``incoming_thinking_indicator``)."""
        chat, agent = self.agent_chat(agent_id, chat_id)
        thread = self.writable_thread(chat, False)
        push = IncomingThinkingIndicator(
            chat_id=chat.id,
            thread_id=thread.id,
            author_id=agent.id,
            sent_at=self.store.clock.now(),
            title=title,
            description=description,
        )
        return [Outgoing(push, self.members(chat) - {agent.id})]

    def agent_event_preview(
        self, agent_id: str, chat_id: str, text: str, *, custom_id: str | None = None
    ) -> list[Outgoing]:
        """An agent's message still being written (``incoming_event_preview``).

        Nothing is stored: the preview has no id, and the finished message comes
        later as an ordinary event.
        """
        chat, agent = self.agent_chat(agent_id, chat_id)
        thread = self.writable_thread(chat, False)
        push = IncomingEventPreview(
            chat_id=chat.id,
            thread_id=thread.id,
            event=Message(
                text=text,
                author_id=agent.id,
                created_at=self.store.clock.now(),
                custom_id=custom_id,
            ),
        )
        return [Outgoing(push, self.members(chat) - {agent.id})]

    def agent_edit_message(
        self, agent_id: str, chat_id: str, event_id: str, text: str
    ) -> tuple[Message, list[Outgoing]]:
        """An agent changes the text of its own message (``event_updated``).

        Returns:
            The stored new version (same id) and the push carrying it whole.

        Raises:
            NotFoundError: no such event in the chat.
            AuthorizationError: the event is not the agent's own message.
        """
        chat, agent = self.agent_chat(agent_id, chat_id)
        found = [(t, e) for t in chat.threads if (e := t.event(event_id)) is not None]
        if not found:
            raise NotFoundError("Event not found")
        ((thread, event),) = found
        if not isinstance(event, Message) or event.author_id != agent.id:
            raise AuthorizationError("Only the author's own messages can be edited")
        if not text or len(text.encode()) > LIMITS.text_bytes:
            raise ValidationError("Message text must have 1 byte to 16 KB")
        updated = msgspec.structs.replace(event, text=text)
        thread.replace_event(updated)
        audience = self.members(chat)
        if not self.store.visible(updated, chat.customer_id):
            audience = audience - {chat.customer_id}
        push = EventUpdated(chat_id=chat.id, thread_id=thread.id, event=updated)
        return updated, [Outgoing(push, audience)]

    def agent_update_properties(
        self,
        agent_id: str,
        chat_id: str,
        properties: Properties,
        *,
        thread_id: str | None = None,
        event_id: str | None = None,
    ) -> list[Outgoing]:
        """An agent sets chat, thread or event properties (by the ids given)."""
        chat, _ = self.agent_chat(agent_id, chat_id)
        audience = self.members(chat)
        push: PushPayload
        if thread_id is None:
            merge_properties(chat.properties, properties)
            push = ChatPropertiesUpdated(chat_id=chat.id, properties=properties)
        elif event_id is None:
            thread = chat.thread(thread_id)
            merge_properties(thread.properties, properties)
            push = ThreadPropertiesUpdated(
                chat_id=chat.id, thread_id=thread.id, properties=properties
            )
        else:
            thread = chat.thread(thread_id)
            event = thread.event(event_id)
            if event is None:
                raise NotFoundError("Event not found")
            merged = copy_properties(event.properties or {})
            merge_properties(merged, properties)
            thread.replace_event(msgspec.structs.replace(event, properties=merged))
            push = EventPropertiesUpdated(
                chat_id=chat.id,
                thread_id=thread.id,
                event_id=event_id,
                properties=properties,
            )
        return [Outgoing(push, audience)]

    def agent_transfer(
        self,
        agent_id: str,
        chat_id: str,
        *,
        group_ids: list[int] | None = None,
        agent_ids: list[str] | None = None,
    ) -> list[Outgoing]:
        """An agent transfers a chat to groups and/or agents (``chat_transferred``)."""
        chat, agent = self.agent_chat(agent_id, chat_id)
        for group_id in group_ids or ():
            if self.store.group(group_id) is None:
                raise GroupNotFoundError("Group not found")
        targets = [self.agent(a) for a in agent_ids or ()]
        thread = chat.last_thread
        active_thread = thread.id if thread is not None and thread.active else None
        chat.transferred_from = TransferTarget(
            group_ids=list(chat.access.group_ids), agent_ids=[agent.id]
        )
        if group_ids:
            chat.access = Access(group_ids=list(group_ids))
        pushes = [
            Outgoing(
                ChatTransferred(
                    chat_id=chat.id,
                    thread_id=active_thread,
                    requester_id=agent.id,
                    reason="manual",
                    transferred_to=TransferTarget(
                        group_ids=list(group_ids) if group_ids else None,
                        agent_ids=[t.id for t in targets] or None,
                    ),
                ),
                self.members(chat),
            )
        ]
        if agent.id in chat.present and (targets or group_ids):
            pushes += self.agent_leave(agent.id, chat.id)
        for target in targets:
            pushes += self.agent_join(target.id, chat.id)
        return pushes

    def agent_deactivate(self, agent_id: str, chat_id: str) -> list[Outgoing]:
        """An agent closes the chat's thread (system message, ``chat_deactivated``)."""
        chat, agent = self.agent_chat(agent_id, chat_id)
        return self.close(
            chat,
            agent.id,
            SystemMessage(
                system_message_type="manual_archived_agent",
                text=f"{agent.name} archived the chat",
                text_vars={"agent": agent.name},
            ),
        )

    def agent_mark_seen(
        self, agent_id: str, chat_id: str, seen_up_to: datetime.datetime | None = None
    ) -> list[Outgoing]:
        """An agent saw the chat's events (``events_marked_as_seen``)."""
        chat, agent = self.agent_chat(agent_id, chat_id)
        return self.mark_seen(chat, agent.id, seen_up_to or self.store.clock.now())

    def agent_send_greeting(
        self,
        agent_id: str,
        customer_id: str,
        text: str,
        *,
        greeting_id: int | None = None,
        addon: str | None = None,
        is_exit_intent: bool = False,
    ) -> tuple[GreetingRecord, list[Outgoing]]:
        """Show the customer a greeting (``incoming_greeting``).

        A greeting still shown is replaced (``greeting_canceled`` first).
        """
        agent = self.agent(agent_id)
        customer = self.store.customer(customer_id)
        pushes: list[Outgoing] = []
        previous = self.store.shown_greeting(customer.id)
        if previous is not None:
            previous.canceled = True
            pushes.append(
                Outgoing(
                    GreetingCanceled(unique_id=previous.unique_id),
                    frozenset({customer.id, previous.agent_id}),
                )
            )
        greeting = GreetingRecord(
            id=greeting_id
            if greeting_id is not None
            else self.store.ids.random.randint(1, 999_999_999),
            unique_id=self.store.ids.hex_id(),
            customer_id=customer.id,
            agent_id=agent.id,
            event=Message(
                text=text,
                author_id=agent.id,
                created_at=self.store.clock.now(),
            ),
            addon=addon,
            is_exit_intent=is_exit_intent,
        )
        self.store.greetings[greeting.unique_id] = greeting
        customer.greetings_shown_count += 1
        model = self.store.show_greeting(greeting)
        push = IncomingGreeting(
            **{f: getattr(model, f) for f in model.__struct_fields__}
        )
        pushes.append(Outgoing(push, frozenset({customer.id})))
        return greeting, pushes

    def set_group_status(self, group_id: int, status: str) -> list[Outgoing]:
        """Change a group's status (``groups_status_updated`` to every customer)."""
        group = self.group(group_id)
        if group.status == status:
            return []
        group.status = status
        push = GroupsStatusUpdated(groups=[GroupStatus(id=group.id, status=status)])
        return [Outgoing(push, frozenset(self.store.customers))]

    def set_queue_position(
        self, chat_id: str, position: int, wait_time: int
    ) -> list[Outgoing]:
        """Queue a chat's open thread at ``position`` (``queue_position_updated``).

        ``wait_time`` is the estimated wait in seconds. The thread keeps the time
        it was first queued (``thread.queue.queued_at``); the push has none (§3).

        Raises:
            NotFoundError: no such chat.
            ChatInactiveError: the chat has no open thread.
        """
        chat = self.store.chats.get(chat_id)
        if chat is None:
            raise NotFoundError("Chat not found")
        thread = self.writable_thread(chat, False)
        queued_at = (
            thread.queue.queued_at if thread.queue is not None else None
        ) or self.store.clock.now()
        thread.queue = Queue(
            position=position, wait_time=wait_time, queued_at=queued_at
        )
        push = QueuePositionUpdated(
            chat_id=chat.id,
            thread_id=thread.id,
            queue=Queue(position=position, wait_time=wait_time),
        )
        return [Outgoing(push, self.members(chat))]

    def multicast(self, content: Any, author_id: str | None = None) -> list[Outgoing]:
        """An ``incoming_multicast`` to every customer."""
        push = IncomingMulticast(content=content, author_id=author_id)
        return [Outgoing(push, frozenset(self.store.customers))]
