"""Request handling of the sandbox: one handler per customer action, and agent acts.

Rules:

1. Pure: no asyncio, no aiohttp, no socket; the :class:`~.store.Store` holds
   the state, with its injected clock and id source.
2. :meth:`Handlers.handle` takes a customer id and a typed
   :class:`~rxlivechat.protocol.base.Method` payload and returns an
   :class:`Outcome`: the typed result and the pushes the request caused, each
   with its recipients (user ids: a customer id stands for every connection of
   that customer, an agent id for that scripted agent). It raises a
   :class:`~rxlivechat.exceptions.ServerError` subclass for a refused request;
   nothing has changed then.
3. The ``agent_*`` methods are what scripted agents do; they return the
   pushes to deliver the same way.
4. Limits and validation follow the digest's §10. Where the documentation is
   silent the choice is written down in ``docs/sandbox-choices.md``; the
   comments here cite it as "(inferred)".
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

import msgspec

from ..exceptions import (
    AuthorizationError,
    ChatAlreadyActiveError,
    ChatInactiveError,
    ChatLimitReachedError,
    CustomerSessionFieldsLimitReachedError,
    GreetingNotFoundError,
    GroupNotFoundError,
    GroupOfflineError,
    GroupsOfflineError,
    GroupUnavailableError,
    NotFoundError,
    ValidationError,
)
from ..protocol import methods as m
from ..protocol.base import EmptyResult, Method, Model, PushPayload
from ..protocol.limits import LIMITS
from ..protocol.models import (
    Access,
    Agent,
    Event,
    File,
    Form,
    GroupStatus,
    Message,
    Properties,
    PropertyNames,
    Queue,
    RichMessage,
    SessionFields,
    SystemEvent,
    SystemMessage,
    TransferTarget,
    UnknownEvent,
)
from ..protocol.pushes import (
    ChatDeactivated,
    ChatPropertiesDeleted,
    ChatPropertiesUpdated,
    ChatTransferred,
    CustomerSideStorageUpdated,
    CustomerUpdated,
    EventDeleted,
    EventPropertiesDeleted,
    EventPropertiesUpdated,
    EventsMarkedAsSeen,
    EventUpdated,
    GreetingAccepted,
    GreetingCanceled,
    GroupsStatusUpdated,
    IncomingChat,
    IncomingEvent,
    IncomingEventPreview,
    IncomingGreeting,
    IncomingMulticast,
    IncomingRichMessagePostback,
    IncomingThinkingIndicator,
    IncomingTypingIndicator,
    IncomingWelcomeMessage,
    QueuePositionUpdated,
    ThreadPropertiesDeleted,
    ThreadPropertiesUpdated,
    TypingIndicator,
    UserAddedToChat,
    UserRemovedFromChat,
)
from .pagination import decode_page_id, paginate
from .properties import Location, PropertyRegistry
from .store import (
    AgentRecord,
    ChatRecord,
    CustomerRecord,
    GreetingRecord,
    GroupRecord,
    SneakPeek,
    Store,
    ThreadRecord,
    event_type,
)

__all__ = [
    "Handlers",
    "IncomingSneakPeek",
    "Outcome",
    "Outgoing",
]

R = TypeVar("R")


_RICH_TEMPLATES = frozenset({"cards", "sticker", "quick_replies", "ecommerce"})
_BUTTON_TYPES = frozenset({"webview", "message", "url", "phone"})
_FORM_TYPES = frozenset({"prechat", "postchat", "ticket"})
_SORT_ORDERS = frozenset({"asc", "desc"})


class IncomingSneakPeek(Model):
    """What agents see when the customer types (agent side only, never on the wire)."""

    chat_id: str
    thread_id: str
    sneak_peek_text: str
    sent_at: datetime.datetime


@dataclass(frozen=True)
class Outgoing:
    """A push and who gets it.

    Attributes:
        push: the payload; a :class:`~rxlivechat.protocol.base.PushPayload` goes to
            customers and agents, anything else (:class:`IncomingSneakPeek`) to
            agents only.
        to: user ids; a customer id means every connection of that customer.
    """

    push: PushPayload | Model
    to: frozenset[str]


@dataclass
class Outcome(Generic[R]):
    """What a request did: its result, and the pushes to deliver after the reply."""

    result: R
    pushes: list[Outgoing] = field(default_factory=list)


def _ok(pushes: Iterable[Outgoing] = ()) -> Outcome[EmptyResult]:
    return Outcome(EmptyResult(), list(pushes))


class Handlers:
    """Every customer action, and what scripted agents do, over one :class:`Store`.

    Args:
        store: the state.
        chats_per_customer: how many chats ``start_chat`` lets a customer have
            (LiveChat: 1; more → ``chat_limit_reached``).
        properties: the registered properties; default: LiveChat's default
            properties and the reference's ``test`` namespace.
    """

    def __init__(
        self,
        store: Store,
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
        # An action added to the catalogue without a handler here is answered
        # "Unknown action" (validation) until one is written.
        self._table: dict[str, Callable[[CustomerRecord, Any], Outcome[Any]]] = {}
        for method in _customer_methods():
            handler = getattr(self, "_" + method.action, None)
            if handler is not None:
                self._table[method.action] = handler

    # Public methods -------------------------------------------------------------------

    def handle(self, customer_id: str | None, method: Method[R]) -> Outcome[R]:
        """Run one customer action.

        Args:
            customer_id: the authenticated customer; ``None`` for the Web actions
                that need no token (license/group properties, configuration).
            method: the typed request payload.

        Returns:
            The typed result and the pushes to deliver after the reply.

        Raises:
            ServerError: the request is refused (a subclass per wire error type).
        """
        handler = self._table.get(method.action)
        if handler is None:
            raise ValidationError(f"Unknown action: {method.action}")
        if customer_id is None:
            customer = CustomerRecord(id="")  # anonymous: never stored
        else:
            customer = self.store.customer(customer_id)
        return handler(customer, method)

    def login_customer(self, customer_id: str) -> CustomerRecord:
        """The customer record of a token's ``entity_id``, created on first use."""
        customer = self.store.customers.get(customer_id)
        return customer or self.store.new_customer(customer_id)

    # Connection -----------------------------------------------------------------------

    def _login(self, customer: CustomerRecord, req: m.Login) -> Outcome[m.LoginResult]:
        store = self.store
        if req.customer is not None:
            data = req.customer
            if data.session_fields is not None:
                customer.session_fields = _session_fields(data.session_fields)
            for name in ("name", "email", "avatar", "address"):
                value = getattr(data, name)
                if value is not None:
                    setattr(customer, name, value)
        if req.group_id is not None:
            if store.group(req.group_id) is None:
                raise GroupNotFoundError("Group not found")
            customer.group_id = req.group_id
        if req.customer_page is not None:
            customer.page_url = req.customer_page.url
            customer.page_title = req.customer_page.title
            customer.page_views_count += 1
        customer.visits_count += 1
        if req.customer_side_storage is not None:
            customer.customer_side_storage = dict(req.customer_side_storage)
        customer.customer_side_storage["customer_visits"] = str(customer.visits_count)
        chats = store.customer_chats(customer.id)
        greeting = store.shown_greeting(customer.id)
        online = [g.id for g in store.groups.values() if g.status != "offline"]
        result = m.LoginResult(
            customer=store.customer_model(customer, statistics=True),
            has_active_thread=any(c.active for c in chats),
            chats=[
                m.LoginChat(
                    chat_id=c.id, has_unread_events=store.has_unread(c, customer.id)
                )
                for c in reversed(chats)
            ],
            greeting=None if greeting is None else store.show_greeting(greeting),
            priv_dynamic_config={
                "online_groups_ids": online,
                "customer_groups": {
                    "monitoring": {
                        "id": customer.group_id,
                        "static_config_url": f"/licence/{store.organization_id}/"
                        f"get_static_config.{customer.group_id}.js",
                        "language_config_url": f"/licence/{store.organization_id}/"
                        f"v2/localization.en.{customer.group_id}.js",
                    }
                },
            },
        )
        storage = CustomerSideStorageUpdated(
            customer_side_storage=dict(customer.customer_side_storage)
        )
        return Outcome(result, [Outgoing(storage, frozenset({customer.id}))])

    def _ping(self, customer: CustomerRecord, req: m.Ping) -> Outcome[EmptyResult]:
        return _ok()

    # Chats ----------------------------------------------------------------------------

    def _list_chats(
        self, customer: CustomerRecord, req: m.ListChats
    ) -> Outcome[m.ListChatsResult]:
        cursor = None
        if req.page_id is not None:
            # §5: a later page takes nothing but page_id.
            if req.limit is not None or req.sort_order is not None:
                raise ValidationError("page_id cannot be combined with other fields")
            cursor = decode_page_id(req.page_id, kind="chats", scope=customer.id)
        limit = _bounded(
            req.limit, "limit", LIMITS.list_chats_default, LIMITS.list_chats_max
        )
        sort_order = _sort_order(req.sort_order)
        chats = self.store.customer_chats(customer.id)
        page = paginate(
            chats,
            lambda c: c.key,
            kind="chats",
            scope=customer.id,
            sort_order=sort_order,
            limit=limit,
            cursor=cursor,
        )
        return Outcome(
            m.ListChatsResult(
                chats_summary=[
                    self.store.chat_summary(c, customer.id) for c in page.items
                ],
                total_chats=len(chats),
                next_page_id=page.next_page_id,
                previous_page_id=page.previous_page_id,
            )
        )

    def _list_threads(
        self, customer: CustomerRecord, req: m.ListThreads
    ) -> Outcome[m.ListThreadsResult]:
        store = self.store
        chat = store.chat_of(customer.id, req.chat_id)
        cursor = None
        if req.page_id is not None:
            if (
                req.limit is not None
                or req.sort_order is not None
                or req.min_events_count is not None
            ):
                raise ValidationError("page_id cannot be combined with other fields")
            cursor = decode_page_id(req.page_id, kind="threads", scope=chat.id)
        if req.limit is not None and req.min_events_count is not None:
            raise ValidationError("limit cannot be combined with min_events_count")
        min_count = None
        if req.min_events_count is not None:
            min_count = _bounded(
                req.min_events_count, "min_events_count", 1, LIMITS.min_events_count_max
            )
        limit = _bounded(
            req.limit, "limit", LIMITS.list_threads_default, LIMITS.list_threads_max
        )
        page = paginate(
            chat.threads,
            lambda t: t.key,
            kind="threads",
            scope=chat.id,
            sort_order=_sort_order(req.sort_order),
            limit=None if min_count is not None else limit,
            min_count=min_count,
            weight=lambda t: sum(1 for _ in store.visible_events(t, customer.id)),
            cursor=cursor,
        )
        return Outcome(
            m.ListThreadsResult(
                threads=[store.thread_model(chat, t, customer.id) for t in page.items],
                found_threads=len(chat.threads),
                next_page_id=page.next_page_id,
                previous_page_id=page.previous_page_id,
            )
        )

    def _get_chat(
        self, customer: CustomerRecord, req: m.GetChat
    ) -> Outcome[m.GetChatResult]:
        chat = self.store.chat_of(customer.id, req.chat_id)
        thread = chat.thread(req.thread_id) if req.thread_id else chat.last_thread
        return Outcome(self.store.chat_model(chat, thread, customer.id))

    def _start_chat(
        self, customer: CustomerRecord, req: m.StartChat
    ) -> Outcome[m.StartChatResult]:
        store = self.store
        spec = req.chat or m.StartChatSpec()
        if len(store.chats_by_customer.get(customer.id, [])) >= self.chats_per_customer:
            # customer-sdk/index.mdx: "CHAT_LIMIT_REACHED - the maximum limit of
            # chats per customer has been reached ... The limit is 1."
            raise ChatLimitReachedError("Chat limit reached")
        for user in spec.users or ():
            if user.id != customer.id:
                raise ValidationError("chat.users may only hold the requester")
        events = self._check_new_events(spec.thread.events if spec.thread else None)
        access = self._check_access(spec.access)
        self._check_properties("chat", spec.properties)
        self._check_properties(
            "thread", spec.thread.properties if spec.thread else None
        )
        continuous = bool(req.continuous)
        active = req.active is not False
        if active and not continuous:
            self._require_online(access)
        chat = store.new_chat(
            customer.id,
            access=access,
            properties=spec.properties,
            continuous=continuous,
        )
        thread = store.new_thread(
            chat,
            active=active,
            properties=spec.thread.properties if spec.thread else None,
        )
        event_ids = [
            store.add_event(thread, e, author_id=customer.id).id for e in events
        ]
        self._seen_all(chat, customer.id)
        result = m.StartChatResult(
            chat_id=chat.id,
            thread_id=thread.id,
            event_ids=[i for i in event_ids if i is not None] or None,
        )
        return Outcome(result, [self._incoming_chat(chat, thread, customer.id)])

    def _resume_chat(
        self, customer: CustomerRecord, req: m.ResumeChat
    ) -> Outcome[m.ResumeChatResult]:
        store = self.store
        spec = req.chat
        chat = store.chat_of(customer.id, spec.id)
        if chat.active:
            # customer-sdk/index.mdx: "CHAT_ALREADY_ACTIVE - the chat is already
            # active and you can't activate it again."
            raise ChatAlreadyActiveError("Chat is already active")
        for user in spec.users or ():
            if user.id != customer.id:
                raise ValidationError("chat.users may only hold the requester")
        events = self._check_new_events(spec.thread.events if spec.thread else None)
        access = self._check_access(spec.access) if spec.access else chat.access
        self._check_properties("chat", spec.properties)
        self._check_properties(
            "thread", spec.thread.properties if spec.thread else None
        )
        continuous = chat.continuous if req.continuous is None else req.continuous
        active = req.active is not False
        if active and not continuous:
            self._require_online(access)
        chat.access = access
        chat.continuous = continuous
        _merge_properties(chat.properties, spec.properties)
        thread = store.new_thread(
            chat,
            active=active,
            properties=spec.thread.properties if spec.thread else None,
        )
        event_ids = [
            store.add_event(thread, e, author_id=customer.id).id for e in events
        ]
        self._seen_all(chat, customer.id)
        result = m.ResumeChatResult(
            thread_id=thread.id,
            event_ids=[i for i in event_ids if i is not None] or None,
        )
        incoming = self._incoming_chat(chat, thread, customer.id)
        return Outcome(result, [incoming, *self._route_again(chat, thread)])

    def _deactivate_chat(
        self, customer: CustomerRecord, req: m.DeactivateChat
    ) -> Outcome[EmptyResult]:
        chat = self.store.chat_of(customer.id, req.id)
        name = customer.name or "Customer"
        return _ok(
            self._close(
                chat,
                customer.id,
                SystemMessage(
                    system_message_type="manual_archived_customer",
                    text=f"{name} archived the chat",
                    text_vars={"customer": name},
                ),
            )
        )

    # Events ---------------------------------------------------------------------------

    def _send_event(
        self, customer: CustomerRecord, req: m.SendEvent
    ) -> Outcome[m.SendEventResult]:
        chat = self.store.chat_of(customer.id, req.chat_id)
        (event,) = self._check_new_events([req.event])
        thread = self._writable_thread(chat, req.attach_to_last_thread)
        stored, pushes = self._append(chat, thread, event, customer.id)
        self._seen_all(chat, customer.id)
        assert stored.id is not None
        return Outcome(m.SendEventResult(event_id=stored.id), pushes)

    def _delete_event(
        self, customer: CustomerRecord, req: m.DeleteEvent
    ) -> Outcome[EmptyResult]:
        chat, thread, event = self._event_of(
            customer, req.chat_id, req.thread_id, req.event_id
        )
        if event.author_id != customer.id:
            # A customer deletes only their own events (inferred).
            raise AuthorizationError("Cannot delete another user's event")
        thread.deleted.add(req.event_id)
        push = EventDeleted(chat_id=chat.id, thread_id=thread.id, event_id=req.event_id)
        return _ok([Outgoing(push, self._members(chat))])

    def _upload_file(
        self, customer: CustomerRecord, req: m.UploadFile
    ) -> Outcome[m.UploadFileResult]:
        # The multipart body is handled by the web glue (store_upload); an
        # upload_file request without a file is malformed.
        raise ValidationError("upload_file needs a multipart part named 'file'")

    def _send_rich_message_postback(
        self, customer: CustomerRecord, req: m.SendRichMessagePostback
    ) -> Outcome[EmptyResult]:
        chat, thread, event = self._event_of(
            customer, req.chat_id, req.thread_id, req.event_id
        )
        if not isinstance(event, RichMessage):
            raise ValidationError("Event is not a rich message")
        # data-structures: buttons.user_ids "Describes users that sent the
        # postback with "toggled": true"; postback.id is "the postback name of
        # the button" (rtm-reference).
        toggled = _toggle_button(
            event, req.postback.id, customer.id, req.postback.toggled
        )
        if toggled is None:
            raise ValidationError(f"No button with postback id {req.postback.id}")
        thread.replace_event(toggled)
        if not thread.active:
            return _ok()  # the push is sent for active threads only
        push = IncomingRichMessagePostback(
            user_id=customer.id,
            chat_id=chat.id,
            thread_id=thread.id,
            event_id=req.event_id,
            postback=req.postback,
        )
        return _ok([Outgoing(push, self._members(chat))])

    def _send_sneak_peek(
        self, customer: CustomerRecord, req: m.SendSneakPeek
    ) -> Outcome[EmptyResult]:
        chat = self.store.chat_of(customer.id, req.chat_id)
        thread = chat.last_thread
        if thread is None or not thread.active:
            raise ChatInactiveError("Chat is inactive")
        peek = SneakPeek(
            chat_id=chat.id,
            thread_id=thread.id,
            text=req.sneak_peek_text,
            sent_at=self.store.clock.now(),
        )
        chat.sneak_peeks.append(peek)
        notice = IncomingSneakPeek(
            chat_id=chat.id,
            thread_id=thread.id,
            sneak_peek_text=peek.text,
            sent_at=peek.sent_at,
        )
        agents = frozenset(self._members(chat) - {customer.id})
        return _ok([Outgoing(notice, agents)] if agents else [])

    # Properties -----------------------------------------------------------------------

    def _update_chat_properties(
        self, customer: CustomerRecord, req: m.UpdateChatProperties
    ) -> Outcome[EmptyResult]:
        chat = self.store.chat_of(customer.id, req.id)
        self._check_properties("chat", req.properties)
        _merge_properties(chat.properties, req.properties)
        push = ChatPropertiesUpdated(chat_id=chat.id, properties=req.properties)
        return _ok([Outgoing(push, self._members(chat))])

    def _delete_chat_properties(
        self, customer: CustomerRecord, req: m.DeleteChatProperties
    ) -> Outcome[EmptyResult]:
        chat = self.store.chat_of(customer.id, req.id)
        self.properties.check_names("chat", req.properties)
        _delete_properties(chat.properties, req.properties)
        push = ChatPropertiesDeleted(chat_id=chat.id, properties=req.properties)
        return _ok([Outgoing(push, self._members(chat))])

    def _update_thread_properties(
        self, customer: CustomerRecord, req: m.UpdateThreadProperties
    ) -> Outcome[EmptyResult]:
        chat = self.store.chat_of(customer.id, req.chat_id)
        thread = chat.thread(req.thread_id)
        self._check_properties("thread", req.properties)
        _merge_properties(thread.properties, req.properties)
        push = ThreadPropertiesUpdated(
            chat_id=chat.id, thread_id=thread.id, properties=req.properties
        )
        pushes = [Outgoing(push, self._members(chat))]
        # Rating system messages (inferred from references/system-activities).
        rating = req.properties.get("rating", {})
        name = customer.name or "Customer"
        if "score" in rating:
            score = "good" if rating["score"] == 1 else "bad"
            pushes += self._append(
                chat,
                thread,
                SystemMessage(
                    system_message_type="rating.chat_rated",
                    text=f"{name} rated the chat as {score}",
                    text_vars={"customer": name, "score": score},
                ),
                None,
            )[1]
        if rating.get("comment"):
            comment = str(rating["comment"])
            pushes += self._append(
                chat,
                thread,
                SystemMessage(
                    system_message_type="rating.chat_commented",
                    text=f"{name} left the following comment: {comment}",
                    text_vars={"customer": name, "comment": comment},
                ),
                None,
            )[1]
        return _ok(pushes)

    def _delete_thread_properties(
        self, customer: CustomerRecord, req: m.DeleteThreadProperties
    ) -> Outcome[EmptyResult]:
        chat = self.store.chat_of(customer.id, req.chat_id)
        thread = chat.thread(req.thread_id)
        self.properties.check_names("thread", req.properties)
        had_rating = "score" in thread.properties.get("rating", {})
        _delete_properties(thread.properties, req.properties)
        push = ThreadPropertiesDeleted(
            chat_id=chat.id, thread_id=thread.id, properties=req.properties
        )
        pushes = [Outgoing(push, self._members(chat))]
        if had_rating and "score" in req.properties.get("rating", []):
            name = customer.name or "Customer"
            pushes += self._append(
                chat,
                thread,
                SystemMessage(
                    system_message_type="rating.chat_rating_canceled",
                    text=f"{name} canceled the chat rating",
                    text_vars={"customer": name},
                ),
                None,
            )[1]
        return _ok(pushes)

    def _update_event_properties(
        self, customer: CustomerRecord, req: m.UpdateEventProperties
    ) -> Outcome[EmptyResult]:
        chat, thread, event = self._event_of(
            customer, req.chat_id, req.thread_id, req.event_id
        )
        self._check_properties("event", req.properties)
        properties = {ns: dict(v) for ns, v in (event.properties or {}).items()}
        _merge_properties(properties, req.properties)
        thread.replace_event(msgspec.structs.replace(event, properties=properties))
        push = EventPropertiesUpdated(
            chat_id=chat.id,
            thread_id=thread.id,
            event_id=req.event_id,
            properties=req.properties,
        )
        return _ok([Outgoing(push, self._members(chat))])

    def _delete_event_properties(
        self, customer: CustomerRecord, req: m.DeleteEventProperties
    ) -> Outcome[EmptyResult]:
        chat, thread, event = self._event_of(
            customer, req.chat_id, req.thread_id, req.event_id
        )
        self.properties.check_names("event", req.properties)
        properties = {ns: dict(v) for ns, v in (event.properties or {}).items()}
        _delete_properties(properties, req.properties)
        thread.replace_event(
            msgspec.structs.replace(event, properties=properties or None)
        )
        push = EventPropertiesDeleted(
            chat_id=chat.id,
            thread_id=thread.id,
            event_id=req.event_id,
            properties=req.properties,
        )
        return _ok([Outgoing(push, self._members(chat))])

    def _list_license_properties(
        self, customer: CustomerRecord, req: m.ListLicenseProperties
    ) -> Outcome[Properties]:
        return Outcome(
            _filter_properties(self.store.license_properties, req.namespace, req.name)
        )

    def _list_group_properties(
        self, customer: CustomerRecord, req: m.ListGroupProperties
    ) -> Outcome[Properties]:
        group = self.store.group(req.id)
        if group is None:
            raise GroupNotFoundError("Group not found")
        return Outcome(_filter_properties(group.properties, req.namespace, req.name))

    # Customers ------------------------------------------------------------------------

    def _update_customer(
        self, customer: CustomerRecord, req: m.UpdateCustomer
    ) -> Outcome[EmptyResult]:
        changed: dict[str, Any] = {}
        if req.session_fields is not None:
            # customer-sdk/index.mdx (updateCustomer): "total amount of session
            # fields would have been exceeded after requested update": they merge.
            changed["session_fields"] = _session_fields(
                _merged_session_fields(customer.session_fields, req.session_fields)
            )
        # phone_number and name_is_default are not in the v3.6 request table;
        # lc-sdk-python sends them, so they are kept (docs/sandbox-choices.md).
        for name in ("name", "email", "avatar", "phone_number", "address"):
            value = getattr(req, name)
            if value is not None:
                changed[name] = value
        if req.omnichannel is not None:
            changed["omnichannel"] = _omnichannel(req.omnichannel)
        if not changed and req.name_is_default is None:
            raise ValidationError("At least one customer field is required")
        for name, value in changed.items():
            setattr(customer, name, value)
        if not changed:
            return _ok()
        push = CustomerUpdated(id=customer.id, **changed)
        return _ok([Outgoing(push, self._customer_audience(customer))])

    def _update_customer_page(
        self, customer: CustomerRecord, req: m.UpdateCustomerPage
    ) -> Outcome[m.UpdateCustomerPageResult]:
        if not _is_http_url(req.url):
            raise ValidationError("url must be an http(s) URL")
        customer.page_url = req.url
        customer.page_title = req.title
        customer.page_views_count += 1
        # A page can route the customer to another group (the groups' pages);
        # the reply names the new group only when the assignment changed.
        routed = next(
            (
                g
                for _, g in sorted(self.store.groups.items())
                if any(req.url.startswith(page) for page in g.pages)
            ),
            None,
        )
        if routed is None or routed.id == customer.group_id:
            return Outcome(m.UpdateCustomerPageResult())
        customer.group_id = routed.id
        status = GroupStatus(id=routed.id, status=routed.status)
        return Outcome(m.UpdateCustomerPageResult(groups=[status]))

    def _activate_customer_page(
        self, customer: CustomerRecord, req: m.ActivateCustomerPage
    ) -> Outcome[EmptyResult]:
        customer.page_active = True
        return _ok()

    def _deactivate_customer_page(
        self, customer: CustomerRecord, req: m.DeactivateCustomerPage
    ) -> Outcome[EmptyResult]:
        customer.page_active = False
        return _ok()

    def _set_customer_session_fields(
        self, customer: CustomerRecord, req: m.SetCustomerSessionFields
    ) -> Outcome[EmptyResult]:
        # No customer_updated push: the 3.1/3.2 changelog says it stopped (§9.4).
        customer.session_fields = _session_fields(req.session_fields)
        return _ok()

    def _get_customer(
        self, customer: CustomerRecord, req: m.GetCustomer
    ) -> Outcome[m.GetCustomerResult]:
        # The docs' sample shows none, but the JS SDK reads statistics.chats_count
        # here (and the SDK v4 docs list them): the same counters as login's.
        return Outcome(self.store.customer_model(customer, statistics=True))

    # Status and other -----------------------------------------------------------------

    def _list_group_statuses(
        self, customer: CustomerRecord, req: m.ListGroupStatuses
    ) -> Outcome[m.ListGroupStatusesResult]:
        groups = self.store.groups
        if req.all:
            chosen = list(groups.values())
        elif req.group_ids is not None:
            chosen = [groups[i] for i in req.group_ids if i in groups]
        else:
            raise ValidationError("Either all or group_ids is required")
        return Outcome(
            m.ListGroupStatusesResult(
                groups_status={str(g.id): g.status for g in chosen}
            )
        )

    def _get_form(
        self, customer: CustomerRecord, req: m.GetForm
    ) -> Outcome[m.GetFormResult]:
        if req.type not in _FORM_TYPES:
            raise ValidationError("type must be prechat, postchat or ticket")
        if self.store.group(req.group_id) is None:
            raise GroupNotFoundError("Group not found")
        form = self.store.form(req.group_id, req.type)
        return Outcome(m.GetFormResult(enabled=form is not None, form=form))

    def _get_predicted_agent(
        self, customer: CustomerRecord, req: m.GetPredictedAgent
    ) -> Outcome[m.GetPredictedAgentResult]:
        agent, queue = self._predict(customer, req.group_id)
        return Outcome(m.GetPredictedAgentResult(agent=agent, queue=queue))

    def _get_url_info(
        self, customer: CustomerRecord, req: m.GetUrlInfo
    ) -> Outcome[m.GetUrlInfoResult]:
        if not _is_http_url(req.url):
            raise ValidationError("url must be an http(s) URL")
        host = urlsplit(req.url).hostname or req.url
        # No network: a deterministic preview built from the URL itself.
        return Outcome(
            m.GetUrlInfoResult(
                url=req.url,
                title=host,
                description=f"Preview of {req.url}",
                image_url=f"https://cdn.livechat-static.com/api/preview/{host}.png",
                image_original_url=f"https://{host}/favicon.png",
                image_width=200,
                image_height=200,
            )
        )

    def _mark_events_as_seen(
        self, customer: CustomerRecord, req: m.MarkEventsAsSeen
    ) -> Outcome[EmptyResult]:
        chat = self.store.chat_of(customer.id, req.chat_id)
        # Nothing after now can have been seen: a later time (a client clock ahead
        # of the server's) is taken as now (docs/sandbox-choices.md).
        seen_up_to = min(req.seen_up_to, self.store.clock.now())
        return _ok(self._mark_seen(chat, customer.id, seen_up_to))

    def _accept_greeting(
        self, customer: CustomerRecord, req: m.AcceptGreeting
    ) -> Outcome[EmptyResult]:
        greeting = self._greeting(customer, req.unique_id)
        if greeting.id != req.greeting_id:
            raise GreetingNotFoundError("Greeting not found")
        # rtm-reference: "Marks an incoming greeting as seen." It stays shown
        # (login returns it, "accepted": true) and can still be canceled; a
        # second accept changes nothing (docs/sandbox-choices.md).
        if greeting.accepted:
            return _ok()
        greeting.accepted = True
        customer.greetings_accepted_count += 1
        push = GreetingAccepted(unique_id=greeting.unique_id)
        return _ok([Outgoing(push, frozenset({customer.id, greeting.agent_id}))])

    def _cancel_greeting(
        self, customer: CustomerRecord, req: m.CancelGreeting
    ) -> Outcome[EmptyResult]:
        greeting = self._greeting(customer, req.unique_id)
        greeting.canceled = True
        push = GreetingCanceled(unique_id=greeting.unique_id)
        return _ok([Outgoing(push, frozenset({customer.id, greeting.agent_id}))])

    def _send_greeting_button_clicked(
        self, customer: CustomerRecord, req: m.SendGreetingButtonClicked
    ) -> Outcome[EmptyResult]:
        self._greeting(customer, req.greeting_unique_id, shown_only=False)
        return _ok()

    def _request_welcome_message(
        self, customer: CustomerRecord, req: m.RequestWelcomeMessage
    ) -> Outcome[m.RequestWelcomeMessageResult]:
        agent, queue = self._predict(customer, req.group_id)
        welcome_id = self.store.ids.uuid()
        push = IncomingWelcomeMessage(
            id=welcome_id,
            event=Message(
                text=self.store.welcome_message,
                author_id=agent.id,
                created_at=self.store.clock.now(),
            ),
        )
        return Outcome(
            m.RequestWelcomeMessageResult(
                id=welcome_id, predicted_agent=agent, queue=queue
            ),
            [Outgoing(push, frozenset({customer.id}))],
        )

    def _request_email_verification(
        self, customer: CustomerRecord, req: m.RequestEmailVerification
    ) -> Outcome[EmptyResult]:
        if not _is_http_url(req.callback_uri):
            raise ValidationError("callback_uri must be an http(s) URL")
        # No e-mail and no callback: the sandbox only records the request.
        self.store.email_verifications.append((customer.id, req.callback_uri))
        return _ok()

    def _check_goals(
        self, customer: CustomerRecord, req: m.CheckGoals
    ) -> Outcome[EmptyResult]:
        if self.store.group(req.group_id) is None:
            raise GroupNotFoundError("Group not found")
        _session_fields(req.session_fields)
        return _ok()

    def _get_dynamic_configuration(
        self, customer: CustomerRecord, req: m.GetDynamicConfiguration
    ) -> Outcome[m.GetDynamicConfigurationResult]:
        group = self._group(
            req.group_id if req.group_id is not None else customer.group_id
        )
        return Outcome(
            m.GetDynamicConfigurationResult(
                organization_id=self.store.organization_id,
                default_widget="livechat",
                livechat_active=True,
                livechat=m.DynamicLivechatConfiguration(
                    group_id=group.id,
                    client_limit_exceeded=False,
                    domain_allowed=True,
                    online_group_ids=[
                        g.id
                        for g in self.store.groups.values()
                        if g.status != "offline"
                    ],
                    config_version=f"{group.id}.0.1",
                    localization_version="1",
                    language=group.language,
                ),
            )
        )

    def _get_configuration(
        self, customer: CustomerRecord, req: m.GetConfiguration
    ) -> Outcome[m.GetConfigurationResult]:
        group = self._group(req.group_id)
        prechat = self.store.form(group.id, "prechat")
        ticket = self.store.form(group.id, "ticket")
        return Outcome(
            m.GetConfigurationResult(
                buttons=[],
                prechat_form=None if prechat is None else msgspec.to_builtins(prechat),
                ticket_form=None if ticket is None else msgspec.to_builtins(ticket),
                integrations={},
                properties={
                    "group": _copy(group.properties),
                    "license": _copy(self.store.license_properties),
                },
            )
        )

    def _get_localization(
        self, customer: CustomerRecord, req: m.GetLocalization
    ) -> Outcome[dict[str, str]]:
        self._group(req.group_id)
        return Outcome(dict(_PHRASES))

    # Agent side -----------------------------------------------------------------------

    def agent_join(self, agent_id: str, chat_id: str) -> list[Outgoing]:
        """An agent joins a chat (``user_added_to_chat`` to everyone in it)."""
        chat, agent = self._agent_chat(agent_id, chat_id)
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
        return [Outgoing(push, self._members(chat))]

    def agent_leave(self, agent_id: str, chat_id: str) -> list[Outgoing]:
        """An agent leaves a chat (``user_removed_from_chat``)."""
        chat, agent = self._agent_chat(agent_id, chat_id)
        audience = self._members(chat)
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
        chat, agent = self._agent_chat(agent_id, chat_id)
        if agent.id not in chat.user_ids:
            # Agents may write without joining; they show as not present.
            chat.user_ids.append(agent.id)
        if not isinstance(event, SystemEvent | UnknownEvent):
            event = self._check_event(event, agent=True)
        thread = self._writable_thread(chat, attach_to_last_thread)
        return self._append(chat, thread, event, agent.id)

    def agent_typing(
        self, agent_id: str, chat_id: str, is_typing: bool
    ) -> list[Outgoing]:
        """An agent starts or stops typing (``incoming_typing_indicator``)."""
        chat, agent = self._agent_chat(agent_id, chat_id)
        thread = self._writable_thread(chat, False)
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
        return [Outgoing(push, self._members(chat) - {agent.id})]

    def agent_thinking(
        self, agent_id: str, chat_id: str, title: str, description: str | None
    ) -> list[Outgoing]:
        """An (AI) agent is preparing a reply (``incoming_thinking_indicator``)."""
        chat, agent = self._agent_chat(agent_id, chat_id)
        thread = self._writable_thread(chat, False)
        push = IncomingThinkingIndicator(
            chat_id=chat.id,
            thread_id=thread.id,
            author_id=agent.id,
            sent_at=self.store.clock.now(),
            title=title,
            description=description,
        )
        return [Outgoing(push, self._members(chat) - {agent.id})]

    def agent_event_preview(
        self, agent_id: str, chat_id: str, text: str, *, custom_id: str | None = None
    ) -> list[Outgoing]:
        """An agent's message still being written (``incoming_event_preview``).

        Nothing is stored: the preview has no id, and the finished message comes
        later as an ordinary event.
        """
        chat, agent = self._agent_chat(agent_id, chat_id)
        thread = self._writable_thread(chat, False)
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
        return [Outgoing(push, self._members(chat) - {agent.id})]

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
        chat, agent = self._agent_chat(agent_id, chat_id)
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
        audience = self._members(chat)
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
        chat, _ = self._agent_chat(agent_id, chat_id)
        audience = self._members(chat)
        push: PushPayload
        if thread_id is None:
            _merge_properties(chat.properties, properties)
            push = ChatPropertiesUpdated(chat_id=chat.id, properties=properties)
        elif event_id is None:
            thread = chat.thread(thread_id)
            _merge_properties(thread.properties, properties)
            push = ThreadPropertiesUpdated(
                chat_id=chat.id, thread_id=thread.id, properties=properties
            )
        else:
            thread = chat.thread(thread_id)
            event = thread.event(event_id)
            if event is None:
                raise NotFoundError("Event not found")
            merged = _copy(event.properties or {})
            _merge_properties(merged, properties)
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
        chat, agent = self._agent_chat(agent_id, chat_id)
        for group_id in group_ids or ():
            if self.store.group(group_id) is None:
                raise GroupNotFoundError("Group not found")
        targets = [self._agent(a) for a in agent_ids or ()]
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
                self._members(chat),
            )
        ]
        if agent.id in chat.present and (targets or group_ids):
            pushes += self.agent_leave(agent.id, chat.id)
        for target in targets:
            pushes += self.agent_join(target.id, chat.id)
        return pushes

    def agent_deactivate(self, agent_id: str, chat_id: str) -> list[Outgoing]:
        """An agent closes the chat's thread (system message, ``chat_deactivated``)."""
        chat, agent = self._agent_chat(agent_id, chat_id)
        return self._close(
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
        chat, agent = self._agent_chat(agent_id, chat_id)
        return self._mark_seen(chat, agent.id, seen_up_to or self.store.clock.now())

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
        agent = self._agent(agent_id)
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
        group = self._group(group_id)
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
        thread = self._writable_thread(chat, False)
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
        return [Outgoing(push, self._members(chat))]

    def multicast(self, content: Any, author_id: str | None = None) -> list[Outgoing]:
        """An ``incoming_multicast`` to every customer."""
        push = IncomingMulticast(content=content, author_id=author_id)
        return [Outgoing(push, frozenset(self.store.customers))]

    # Private methods ------------------------------------------------------------------

    def _members(self, chat: ChatRecord) -> frozenset[str]:
        """Who gets a chat's pushes: its customer and the agents present."""
        return frozenset({chat.customer_id, *chat.present})

    def _customer_audience(self, customer: CustomerRecord) -> frozenset[str]:
        agents = {
            a
            for chat in self.store.customer_chats(customer.id)
            if chat.active
            for a in chat.present
        }
        return frozenset({customer.id, *agents})

    def _incoming_chat(
        self, chat: ChatRecord, thread: ThreadRecord, requester: str
    ) -> Outgoing:
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
        return Outgoing(push, self._members(chat) | watching)

    def _append(
        self,
        chat: ChatRecord,
        thread: ThreadRecord,
        event: Event,
        author_id: str | None,
    ) -> tuple[Event, list[Outgoing]]:
        stored = self.store.add_event(thread, event, author_id=author_id)
        audience = self._members(chat)
        if not self.store.visible(stored, chat.customer_id):
            audience = audience - {chat.customer_id}
        push = IncomingEvent(chat_id=chat.id, thread_id=thread.id, event=stored)
        return stored, [Outgoing(push, audience)]

    def _close(
        self, chat: ChatRecord, closer: str, message: SystemMessage
    ) -> list[Outgoing]:
        thread = chat.last_thread
        if thread is None or not thread.active:
            raise ChatInactiveError("Chat is inactive")
        _, pushes = self._append(chat, thread, message, None)
        thread.active = False
        thread.queue = None
        push = ChatDeactivated(chat_id=chat.id, thread_id=thread.id, user_id=closer)
        audience = self._members(chat)
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

    def _route_again(self, chat: ChatRecord, thread: ThreadRecord) -> list[Outgoing]:
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
            pushes.append(Outgoing(added, self._members(chat)))
        chat.routed_to = []
        return pushes

    def _mark_seen(
        self, chat: ChatRecord, user_id: str, seen_up_to: datetime.datetime
    ) -> list[Outgoing]:
        previous = chat.seen.get(user_id)
        if previous is None or seen_up_to > previous:
            chat.seen[user_id] = seen_up_to
        push = EventsMarkedAsSeen(
            user_id=user_id, chat_id=chat.id, seen_up_to=chat.seen[user_id]
        )
        return [Outgoing(push, self._members(chat))]

    def _seen_all(self, chat: ChatRecord, user_id: str) -> None:
        """start_chat, resume_chat and send_event mark everything as seen (§2.0)."""
        thread = chat.last_thread
        if thread is not None and thread.events:
            last = thread.events[-1].created_at
            assert last is not None
            previous = chat.seen.get(user_id)
            chat.seen[user_id] = last if previous is None else max(previous, last)

    def _writable_thread(
        self, chat: ChatRecord, attach_to_last_thread: bool | None
    ) -> ThreadRecord:
        thread = chat.last_thread
        if thread is None:
            raise ChatInactiveError("Chat is inactive")
        if not thread.active and not attach_to_last_thread:
            # attach_to_last_thread=false (default) on an inactive chat fails (§2.3);
            # the type is (inferred).
            raise ChatInactiveError("Chat is inactive")
        return thread

    def _event_of(
        self, customer: CustomerRecord, chat_id: str, thread_id: str, event_id: str
    ) -> tuple[ChatRecord, ThreadRecord, Event]:
        chat = self.store.chat_of(customer.id, chat_id)
        thread = chat.thread(thread_id)
        event = thread.event(event_id)
        if event is None or not self.store.visible(event, customer.id):
            raise NotFoundError("Event not found")
        return chat, thread, event

    def _greeting(
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

    def _group(self, group_id: int) -> GroupRecord:
        group = self.store.group(group_id)
        if group is None:
            raise GroupNotFoundError("Group not found")
        return group

    def _agent(self, agent_id: str) -> AgentRecord:
        agent = self.store.agents.get(agent_id)
        if agent is None:
            raise NotFoundError("Agent not found")
        return agent

    def _agent_chat(
        self, agent_id: str, chat_id: str
    ) -> tuple[ChatRecord, AgentRecord]:
        agent = self._agent(agent_id)
        chat = self.store.chats.get(chat_id)
        if chat is None:
            raise NotFoundError("Chat not found")
        return chat, agent

    def _predict(
        self, customer: CustomerRecord, group_id: int | None
    ) -> tuple[Agent, bool]:
        group = self._group(customer.group_id if group_id is None else group_id)
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

    def _require_online(self, access: Access) -> None:
        groups = [self.store.group(g) for g in access.group_ids or [0]]
        if all(g is None or g.status == "offline" for g in groups):
            raise GroupsOfflineError("Groups offline")

    def _check_access(self, access: Access | None) -> Access:
        if access is None:
            return Access(group_ids=[0])
        for group_id in access.group_ids:
            if self.store.group(group_id) is None:
                raise GroupNotFoundError("Group not found")
        return Access(group_ids=list(access.group_ids))

    def _check_new_events(self, events: list[Event] | None) -> list[Event]:
        return [self._check_event(event) for event in events or ()]

    def _check_event(self, event: Event, *, agent: bool = False) -> Event:
        """Validate an event a user sends; returns it with server-filled fields.

        Agents may send ``file`` events with any URL.
        """
        if isinstance(event, SystemEvent | UnknownEvent):
            raise ValidationError(f"Cannot send an event of type {event_type(event)}")
        if event.recipients not in (None, "all", "agents"):
            raise ValidationError("recipients must be all or agents")
        self._check_properties("event", event.properties)
        if isinstance(event, Message):
            if not event.text:
                raise ValidationError("Message text cannot be empty")
            if len(event.text.encode()) > LIMITS.text_bytes:
                # 16 KB of raw UTF-8 (§4.3); the error type is (inferred).
                raise ValidationError("Message text too long (max 16 KB)")
        elif isinstance(event, RichMessage):
            elements = event.elements or []
            if len(elements) > LIMITS.rich_message_elements:
                raise ValidationError("Too many rich message elements (max 10)")
            # data-structures: template_id "Values: cards, sticker, or
            # quick_replies" (ecommerce: the v5 SDK's template); button types
            # "webview, message, url, phone".
            if event.template_id not in _RICH_TEMPLATES:
                raise ValidationError(
                    f"template_id must be one of {', '.join(sorted(_RICH_TEMPLATES))}"
                )
            for element in elements:
                if len(element.buttons or []) > LIMITS.rich_message_buttons:
                    raise ValidationError("Too many rich message buttons (max 13)")
                for button in element.buttons or ():
                    if button.type is not None and button.type not in _BUTTON_TYPES:
                        raise ValidationError(
                            "button type must be one of "
                            + ", ".join(sorted(_BUTTON_TYPES))
                        )
            return _with_button_users(event)
        elif isinstance(event, File):
            # The URL must come from upload_file (the docs: "the LiveChat CDN").
            stored = self.store.files.get(event.url)
            if stored is None:
                if agent:
                    return event
                raise ValidationError("File url must come from upload_file")
            image = stored.content_type.startswith("image/")
            return msgspec.structs.replace(
                event,
                name=stored.name,
                content_type=stored.content_type,
                size=len(stored.data),
                thumbnail_url=event.url if image else None,
                thumbnail2x_url=event.url if image else None,
            )
        elif isinstance(event, Form) and not event.fields:
            raise ValidationError("Form needs fields")
        return event

    def _check_properties(
        self, location: Location, properties: Properties | None
    ) -> None:
        if properties:
            self.properties.check_values(location, properties)


# Helpers ------------------------------------------------------------------------------


def _customer_methods() -> list[type[Method[Any]]]:
    """The action classes the handlers serve (every customer action of §2)."""
    return [
        cls
        for cls in vars(m).values()
        if isinstance(cls, type)
        and issubclass(cls, Method)
        and isinstance(cls.__dict__.get("action"), str)
    ]


def _bounded(value: int | None, name: str, default: int, maximum: int) -> int:
    if value is None:
        return default
    if not 1 <= value <= maximum:
        raise ValidationError(f"{name} must be between 1 and {maximum}")
    return value


def _sort_order(value: str | None) -> str:
    if value is None:
        return "desc"
    if value not in _SORT_ORDERS:
        raise ValidationError("sort_order must be asc or desc")
    return value


def _session_fields(fields: SessionFields) -> SessionFields:
    keys = 0
    for item in fields:
        if len(item) != 1:
            raise ValidationError("Each session field must hold exactly one key")
        keys += 1
    if keys > LIMITS.session_fields:
        # customer-sdk/index.mdx: "CUSTOMER_SESSION_FIELDS_LIMIT_REACHED".
        raise CustomerSessionFieldsLimitReachedError(
            f"Session fields limit reached (max {LIMITS.session_fields})"
        )
    return [dict(item) for item in fields]


def _merged_session_fields(
    current: SessionFields, update: SessionFields
) -> SessionFields:
    """``update``'s keys over ``current``: known keys keep their place, new append."""
    merged = [dict(item) for item in current]
    where = {key: i for i, item in enumerate(merged) for key in item}
    for item in update:
        if len(item) != 1:
            raise ValidationError("Each session field must hold exactly one key")
        ((key, value),) = item.items()
        if key in where:
            merged[where[key]] = {key: value}
        else:
            where[key] = len(merged)
            merged.append({key: value})
    return merged


def _with_button_users(event: RichMessage) -> RichMessage:
    """Every button with its ``user_ids`` ("always" present, data-structures)."""
    elements = [
        msgspec.structs.replace(
            element,
            buttons=[
                msgspec.structs.replace(b, user_ids=list(b.user_ids or ()))
                for b in element.buttons
            ],
        )
        if element.buttons
        else element
        for element in event.elements or ()
    ]
    return msgspec.structs.replace(event, elements=elements or event.elements)


def _toggle_button(
    event: RichMessage, postback_id: str, user_id: str, toggled: bool
) -> RichMessage | None:
    """``event`` with ``user_id`` in or out of the button's ``user_ids``."""
    found = False
    elements = []
    for element in event.elements or ():
        buttons = []
        for button in element.buttons or ():
            if button.postback_id == postback_id:
                found = True
                users = [u for u in button.user_ids or () if u != user_id]
                if toggled:
                    users.append(user_id)
                button = msgspec.structs.replace(button, user_ids=users)
            buttons.append(button)
        elements.append(
            msgspec.structs.replace(element, buttons=buttons)
            if element.buttons
            else element
        )
    if not found:
        return None
    return msgspec.structs.replace(event, elements=elements)


def _omnichannel(value: m.Omnichannel) -> dict[str, Any]:
    """The request's snake_case identities as the Customer shows them (§4.4)."""
    result: dict[str, Any] = {}
    fb = value.fbmessenger
    if fb is not None:
        record = {
            "ID": fb.id,
            "Name": fb.name,
            "FirstName": fb.first_name,
            "LastName": fb.last_name,
            "ProfilePicURL": fb.profile_pic,
            "Gender": fb.gender,
            "Locale": fb.locale,
            "IsVerifiedUser": fb.is_verified_user,
        }
        result["fb_messenger"] = [{k: v for k, v in record.items() if v is not None}]
    if value.twilio is not None:
        phone = value.twilio.phone_number
        result["twilio"] = [{phone: {"phone_number": phone}}]
    return result


def _copy(properties: Properties) -> Properties:
    return {ns: dict(values) for ns, values in properties.items()}


def _merge_properties(target: Properties, update: Properties | None) -> None:
    for namespace, values in (update or {}).items():
        target.setdefault(namespace, {}).update(values)


def _delete_properties(target: Properties, names: PropertyNames) -> None:
    for namespace, keys in names.items():
        values = target.get(namespace)
        if values is None:
            continue
        for key in keys:
            values.pop(key, None)
        if not values:
            del target[namespace]


def _filter_properties(
    properties: Properties, namespace: str | None, name: str | None
) -> Properties:
    result: Properties = {}
    for ns, values in properties.items():
        if namespace is not None and ns != namespace:
            continue
        chosen = {k: v for k, v in values.items() if name is None or k == name}
        if chosen:
            result[ns] = chosen
    return result


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


_PHRASES = {
    "Agents_currently_not_available": "Our agents are not available at the moment.",
    "Chat_session_closed": "Chat session has been closed.",
    "Embedded_minimize_window": "Minimize window",
    "Embedded_textarea_placeholder": "Write a message...",
    "Welcome_title": "Chat with us",
}
