"""The customer actions of Customer Chat API v3.6 (docs/protocol.md §2), a class each.

A :class:`~rxlivechat.protocol.base.Method` subclass is an action's request
payload; its type parameter is the Struct the success reply decodes into, and
defining it registers it in :data:`~rxlivechat.protocol.base.METHODS`:

.. code-block:: python

    class SendEvent(Method[SendEventResult]):
        action = "send_event"

Transports follow the table of docs/protocol.md §2.0: ``rtm = False`` marks Web-only
actions, ``web = "GET"`` the Web actions read with query parameters, and
``web = None`` the RTM-only ones (``login``, ``ping``, ``update_customer_page``,
``activate_customer_page``, ``deactivate_customer_page``).

Required request fields have no default; optional ones default to ``None`` and
are left off the wire. Replies that are maps keyed by data (properties,
localization phrases) are plain ``dict`` aliases, set as ``result_type``
explicitly because they are not classes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

import msgspec

from .base import EmptyResult, Method, Model, Timestamp
from .limits import ChatsPageLimit, MinEventsCount, ThreadsPageLimit
from .models import (
    Access,
    Address,
    Agent,
    Chat,
    ChatSummary,
    Customer,
    Event,
    FormDefinition,
    Greeting,
    GroupStatus,
    Postback,
    Properties,
    SessionFields,
    Thread,
    User,
)

__all__ = [
    "FormType",
    "GroupId",
    "HttpUrl",
    "Id",
    "PropertiesIn",
    "PropertyNamesIn",
    "SessionFieldsIn",
    "SortOrder",
    "AcceptGreeting",
    "ActivateCustomerPage",
    "Application",
    "CancelGreeting",
    "CheckGoals",
    "ConfigurationButton",
    "CustomerPage",
    "DeactivateChat",
    "DeactivateCustomerPage",
    "DeleteChatProperties",
    "DeleteEvent",
    "DeleteEventProperties",
    "DeleteThreadProperties",
    "DynamicLivechatConfiguration",
    "FacebookMessengerProfile",
    "GetChat",
    "GetChatResult",
    "GetConfiguration",
    "GetConfigurationResult",
    "GetCustomer",
    "GetCustomerResult",
    "GetDynamicConfiguration",
    "GetDynamicConfigurationResult",
    "GetForm",
    "GetFormResult",
    "GetLocalization",
    "GetLocalizationResult",
    "GetPredictedAgent",
    "GetPredictedAgentResult",
    "GetUrlInfo",
    "GetUrlInfoResult",
    "ListChats",
    "ListChatsResult",
    "ListGroupProperties",
    "ListGroupPropertiesResult",
    "ListGroupStatuses",
    "ListGroupStatusesResult",
    "ListLicenseProperties",
    "ListLicensePropertiesResult",
    "ListThreads",
    "ListThreadsResult",
    "Login",
    "LoginChat",
    "LoginCustomer",
    "LoginResult",
    "MarkEventsAsSeen",
    "Omnichannel",
    "Ping",
    "RequestEmailVerification",
    "RequestWelcomeMessage",
    "RequestWelcomeMessageResult",
    "ResumeChat",
    "ResumeChatResult",
    "ResumeChatSpec",
    "SendEvent",
    "SendEventResult",
    "SendGreetingButtonClicked",
    "SendRichMessagePostback",
    "SendSneakPeek",
    "SetCustomerSessionFields",
    "StartChat",
    "StartChatResult",
    "StartChatSpec",
    "ThreadSpec",
    "TwilioProfile",
    "UpdateChatProperties",
    "UpdateCustomer",
    "UpdateCustomerPage",
    "UpdateCustomerPageResult",
    "UpdateEventProperties",
    "UpdateThreadProperties",
    "UploadFile",
    "UploadFileResult",
]


# ---------------------------------------------------------------------------
# The constraints on what a customer sends: ``validate`` (the client) and the
# sandbox's decoder both enforce them, so no method re-checks them by hand.

Id = Annotated[str, msgspec.Meta(min_length=1)]
"""An id, a name or a key: a non-empty string."""

GroupId = Annotated[int, msgspec.Meta(ge=0)]
"""A group's id (or a greeting's): an ``int`` >= 0."""

HTTP_URL = r"^(?i:https?)://[^/?#\s]"
"""The pattern of an absolute ``http``/``https`` URL (a host after the scheme)."""

HttpUrl = Annotated[str, msgspec.Meta(pattern=HTTP_URL)]
"""An absolute ``http``/``https`` URL."""

SortOrder = Literal["asc", "desc"]
"""A page's order: ``"desc"`` (newest first, the server's default) or ``"asc"``."""

FormType = Literal["prechat", "postchat", "ticket"]
"""The forms ``get_form`` can fetch."""

WireSortOrder = Annotated[str, msgspec.Meta(pattern="^(asc|desc)$")]
"""A :data:`SortOrder` on the wire: a ``str``, so a request with another value
can be built (and sent raw, as the sandbox's tests do), but not validated."""

WireFormType = Annotated[str, msgspec.Meta(pattern="^(prechat|postchat|ticket)$")]
"""A :data:`FormType` on the wire."""

PropertiesIn = Annotated[
    dict[Id, Annotated[dict[Id, Any], msgspec.Meta(min_length=1)]],
    msgspec.Meta(min_length=1),
]
"""Properties to set: ``{"namespace": {"name": value}}``, nothing empty."""

PropertyNamesIn = Annotated[
    dict[Id, Annotated[list[Id], msgspec.Meta(min_length=1)]],
    msgspec.Meta(min_length=1),
]
"""Properties to delete: ``{"namespace": ["name", ...]}``, nothing empty."""

SessionFieldsIn = list[
    Annotated[dict[Id, str], msgspec.Meta(min_length=1, max_length=1)]
]
"""Session fields to set: single-key maps ``[{"key": "value"}]``.

At most 100 (``LIMITS.session_fields``), which the server refuses with its own
error (``customer_session_fields_limit_reached``), not as a malformed request.
"""


# ---------------------------------------------------------------------------
# Connection (§1.3, §2.1)


class CustomerPage(Model):
    """The page the customer is on."""

    url: str
    title: str | None = None


class LoginCustomer(Model):
    """Customer data sent with ``login``."""

    name: str | None = None
    email: str | None = None
    avatar: str | None = None
    session_fields: SessionFields | None = None
    address: Address | None = None


class Application(Model):
    """The client application that logs in."""

    name: str | None = None
    version: str | None = None
    channel_type: str | None = None


class LoginChat(Model):
    """A chat of the customer, as ``login`` lists it."""

    chat_id: str
    has_unread_events: bool | None = None


class LoginResult(Model):
    """The reply of ``login``; ``greeting`` only when one is pending."""

    customer: Customer
    has_active_thread: bool | None = None
    chats: list[LoginChat] | None = None
    greeting: Greeting | None = None
    priv_dynamic_config: dict[str, Any] | None = msgspec.field(
        default=None, name="__priv_dynamic_config"
    )


class Login(Method[LoginResult]):
    """Authenticate the connection (within 30 s of opening it)."""

    action = "login"
    web = None

    token: str
    customer: LoginCustomer | None = None
    customer_page: CustomerPage | None = None
    customer_side_storage: dict[str, str] | None = None
    is_mobile: bool | None = None
    group_id: int | None = None
    referrer: str | None = None
    application: Application | None = None
    pushes: dict[str, list[str]] | None = None
    tab_id: str | None = None  # not in the API docs; sent by JS SDK v5


class Ping(Method[EmptyResult]):
    """Keep the connection alive (every 15 s after ``login``)."""

    action = "ping"
    web = None


# ---------------------------------------------------------------------------
# Chats (§2.2)


class ListChatsResult(Model):
    """The reply of ``list_chats``."""

    chats_summary: list[ChatSummary]
    total_chats: int
    next_page_id: str | None = None
    previous_page_id: str | None = None


class ListChats(Method[ListChatsResult]):
    """List summaries of the customer's chats (a page at a time)."""

    action = "list_chats"

    limit: ChatsPageLimit | None = None
    sort_order: WireSortOrder | None = None
    page_id: Id | None = None


class ListThreadsResult(Model):
    """The reply of ``list_threads``."""

    threads: list[Thread]
    found_threads: int
    next_page_id: str | None = None
    previous_page_id: str | None = None


class ListThreads(Method[ListThreadsResult]):
    """List the threads of a chat with their events (a page at a time)."""

    action = "list_threads"

    chat_id: Id
    sort_order: WireSortOrder | None = None
    limit: ThreadsPageLimit | None = None
    page_id: Id | None = None
    min_events_count: MinEventsCount | None = None


GetChatResult: TypeAlias = Chat
"""The reply of ``get_chat``: a :class:`~rxlivechat.protocol.models.Chat`."""


class GetChat(Method[GetChatResult]):
    """Get a chat with one thread (the latest by default)."""

    action = "get_chat"

    chat_id: Id
    thread_id: Id | None = None


class ThreadSpec(Model):
    """The initial thread of ``start_chat``/``resume_chat``."""

    events: list[Event] | None = None
    properties: PropertiesIn | None = None


class StartChatSpec(Model):
    """The chat to create with ``start_chat``."""

    access: Access | None = None
    properties: PropertiesIn | None = None
    users: list[User] | None = None
    thread: ThreadSpec | None = None


class StartChatResult(Model):
    """The reply of ``start_chat``; ``event_ids`` of the initial events."""

    chat_id: str
    thread_id: str
    event_ids: list[str] | None = None


class StartChat(Method[StartChatResult]):
    """Start a chat (a customer may have one)."""

    action = "start_chat"

    chat: StartChatSpec | None = None
    active: bool | None = None
    continuous: bool | None = None
    welcome_message_id: str | None = None  # not in the API docs; JS SDK v5


class ResumeChatSpec(StartChatSpec, kw_only=True):
    """The chat to resume with ``resume_chat``."""

    id: Id


class ResumeChatResult(Model):
    """The reply of ``resume_chat``; ``event_ids`` of the initial events."""

    thread_id: str
    event_ids: list[str] | None = None


class ResumeChat(Method[ResumeChatResult]):
    """Open a new thread in an inactive chat."""

    action = "resume_chat"

    chat: ResumeChatSpec
    active: bool | None = None
    continuous: bool | None = None
    welcome_message_id: str | None = None  # not in the API docs; JS SDK v5


class DeactivateChat(Method[EmptyResult]):
    """Close the open thread of a chat."""

    action = "deactivate_chat"

    id: Id


# ---------------------------------------------------------------------------
# Events (§2.3)


class SendEventResult(Model):
    """The reply of ``send_event``: the new event's id."""

    event_id: str


class SendEvent(Method[SendEventResult]):
    """Send an event to a chat."""

    action = "send_event"

    chat_id: Id
    event: Event
    attach_to_last_thread: bool | None = None


class DeleteEvent(Method[EmptyResult]):
    """Delete an event."""

    action = "delete_event"

    chat_id: Id
    thread_id: Id
    event_id: Id


class UploadFileResult(Model):
    """The reply of ``upload_file``: a CDN URL valid 24 h unless sent."""

    url: str


class UploadFile(Method[UploadFileResult]):
    """Upload a file (Web only, multipart part ``file``, built elsewhere)."""

    action = "upload_file"
    rtm = False


class SendRichMessagePostback(Method[EmptyResult]):
    """Report a click on a rich message button."""

    action = "send_rich_message_postback"

    chat_id: Id
    thread_id: Id
    event_id: Id
    postback: Postback


class SendSneakPeek(Method[EmptyResult]):
    """Show agents what the customer is typing."""

    action = "send_sneak_peek"

    chat_id: Id
    sneak_peek_text: str


# ---------------------------------------------------------------------------
# Properties (§2.4)


class UpdateChatProperties(Method[EmptyResult]):
    """Set chat properties."""

    action = "update_chat_properties"

    id: Id
    properties: PropertiesIn


class DeleteChatProperties(Method[EmptyResult]):
    """Delete chat properties."""

    action = "delete_chat_properties"

    id: Id
    properties: PropertyNamesIn


class UpdateThreadProperties(Method[EmptyResult]):
    """Set thread properties."""

    action = "update_thread_properties"

    chat_id: Id
    thread_id: Id
    properties: PropertiesIn


class DeleteThreadProperties(Method[EmptyResult]):
    """Delete thread properties."""

    action = "delete_thread_properties"

    chat_id: Id
    thread_id: Id
    properties: PropertyNamesIn


class UpdateEventProperties(Method[EmptyResult]):
    """Set event properties."""

    action = "update_event_properties"

    chat_id: Id
    thread_id: Id
    event_id: Id
    properties: PropertiesIn


class DeleteEventProperties(Method[EmptyResult]):
    """Delete event properties."""

    action = "delete_event_properties"

    chat_id: Id
    thread_id: Id
    event_id: Id
    properties: PropertyNamesIn


ListLicensePropertiesResult: TypeAlias = Properties
"""The reply of ``list_license_properties``: ``{"<ns>": {"<name>": value}}``."""


class ListLicenseProperties(Method[ListLicensePropertiesResult]):
    """Read license properties (Web GET, query parameters, no token)."""

    action = "list_license_properties"
    result_type = ListLicensePropertiesResult
    rtm = False
    web = "GET"

    namespace: Id | None = None
    name: Id | None = None


ListGroupPropertiesResult: TypeAlias = Properties
"""The reply of ``list_group_properties``: ``{"<ns>": {"<name>": value}}``."""


class ListGroupProperties(Method[ListGroupPropertiesResult]):
    """Read a group's properties (Web GET, query parameters, no token)."""

    action = "list_group_properties"
    result_type = ListGroupPropertiesResult
    rtm = False
    web = "GET"

    id: GroupId
    namespace: Id | None = None
    name: Id | None = None


# ---------------------------------------------------------------------------
# Customers (§2.5)


class FacebookMessengerProfile(Model):
    """A Facebook Messenger identity sent with ``update_customer``."""

    id: str
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    profile_pic: str | None = None
    gender: str | None = None
    locale: str | None = None
    is_verified_user: bool | None = None


class TwilioProfile(Model):
    """A Twilio identity sent with ``update_customer``."""

    phone_number: str


class Omnichannel(Model):
    """Omnichannel identities sent with ``update_customer`` (snake_case keys)."""

    fbmessenger: FacebookMessengerProfile | None = None
    twilio: TwilioProfile | None = None


class UpdateCustomer(Method[EmptyResult]):
    """Update the customer's data (at least one field)."""

    action = "update_customer"

    name: str | None = None
    email: str | None = None
    avatar: str | None = None
    session_fields: SessionFieldsIn | None = None
    omnichannel: Omnichannel | None = None
    address: Address | None = None
    phone_number: str | None = None  # sent by lc-sdk-python
    name_is_default: bool | None = None  # sent by lc-sdk-python


class UpdateCustomerPageResult(Model):
    """The reply of ``update_customer_page``; ``groups`` only when they changed."""

    groups: list[GroupStatus] | None = None


class UpdateCustomerPage(Method[UpdateCustomerPageResult]):
    """Tell the server which page the customer is on (RTM only)."""

    action = "update_customer_page"
    web = None

    url: Id
    title: str | None = None


class ActivateCustomerPage(Method[EmptyResult]):
    """Mark the customer's page active (RTM only; sent by lc-sdk-python)."""

    action = "activate_customer_page"
    web = None


class DeactivateCustomerPage(Method[EmptyResult]):
    """Mark the customer's page inactive (RTM only; sent by lc-sdk-python)."""

    action = "deactivate_customer_page"
    web = None


class SetCustomerSessionFields(Method[EmptyResult]):
    """Replace the customer's session fields (at most 100 keys)."""

    action = "set_customer_session_fields"

    session_fields: SessionFieldsIn


GetCustomerResult: TypeAlias = Customer
"""The reply of ``get_customer``: a :class:`~rxlivechat.protocol.models.Customer`."""


class GetCustomer(Method[GetCustomerResult]):
    """Get the customer's data."""

    action = "get_customer"


# ---------------------------------------------------------------------------
# Status and other (§2.6)


class ListGroupStatusesResult(Model):
    """The reply of ``list_group_statuses``: group id (as a string) → status."""

    groups_status: dict[str, str]


class ListGroupStatuses(Method[ListGroupStatusesResult]):
    """Get group statuses: ``all`` or the given ``group_ids``."""

    action = "list_group_statuses"

    all: bool | None = None
    group_ids: list[GroupId] | None = None


class GetFormResult(Model):
    """The reply of ``get_form``; ``form`` only when ``enabled``."""

    enabled: bool
    form: FormDefinition | None = None


class GetForm(Method[GetFormResult]):
    """Get a group's form; ``type`` is ``prechat``, ``postchat`` or ``ticket``."""

    action = "get_form"

    group_id: GroupId
    type: WireFormType


class GetPredictedAgentResult(Model):
    """The reply of ``get_predicted_agent``; ``queue`` if the chat would queue."""

    agent: Agent
    queue: bool | None = None


class GetPredictedAgent(Method[GetPredictedAgentResult]):
    """Get the agent a new chat would go to."""

    action = "get_predicted_agent"

    group_id: GroupId | None = None


class GetUrlInfoResult(Model):
    """The reply of ``get_url_info``: a page's title, description and image."""

    url: str | None = None
    title: str | None = None
    description: str | None = None
    image_url: str | None = None
    image_original_url: str | None = None
    image_width: int | None = None
    image_height: int | None = None


class GetUrlInfo(Method[GetUrlInfoResult]):
    """Get the preview of a URL."""

    action = "get_url_info"

    url: HttpUrl


class MarkEventsAsSeen(Method[EmptyResult]):
    """Mark a chat's events as seen up to a time."""

    action = "mark_events_as_seen"

    chat_id: Id
    seen_up_to: Timestamp


class AcceptGreeting(Method[EmptyResult]):
    """Accept a greeting (``greeting_id`` is the greeting push's ``id``)."""

    action = "accept_greeting"

    greeting_id: GroupId
    unique_id: Id


class CancelGreeting(Method[EmptyResult]):
    """Cancel a greeting."""

    action = "cancel_greeting"

    unique_id: Id


class SendGreetingButtonClicked(Method[EmptyResult]):
    """Report a click on a greeting's button."""

    action = "send_greeting_button_clicked"

    greeting_unique_id: Id
    button_id: Id


class RequestWelcomeMessageResult(Model):
    """The reply of ``request_welcome_message`` (the message comes as a push)."""

    id: str
    predicted_agent: Agent | None = None
    queue: bool | None = None


class RequestWelcomeMessage(Method[RequestWelcomeMessageResult]):
    """Ask for a welcome message (delivered by ``incoming_welcome_message``)."""

    action = "request_welcome_message"

    id: Id | None = None
    group_id: GroupId | None = None


class RequestEmailVerification(Method[EmptyResult]):
    """Send the customer a verification e-mail (Web only)."""

    action = "request_email_verification"
    rtm = False

    callback_uri: HttpUrl


class CheckGoals(Method[EmptyResult]):
    """Check goals for an offline customer (Web only)."""

    action = "check_goals"
    rtm = False

    session_fields: SessionFieldsIn
    group_id: GroupId
    page_url: HttpUrl


class DynamicLivechatConfiguration(Model):
    """The ``livechat`` part of ``get_dynamic_configuration``'s reply."""

    group_id: int | None = None
    client_limit_exceeded: bool | None = None
    domain_allowed: bool | None = None
    online_group_ids: list[int] | None = None
    config_version: str | None = None
    localization_version: str | None = None
    language: str | None = None


class GetDynamicConfigurationResult(Model):
    """The reply of ``get_dynamic_configuration``."""

    organization_id: str | None = None
    default_widget: str | None = None
    livechat_active: bool | None = None
    livechat: DynamicLivechatConfiguration | None = None


class GetDynamicConfiguration(Method[GetDynamicConfigurationResult]):
    """Get the widget's dynamic configuration (Web GET, query parameters)."""

    action = "get_dynamic_configuration"
    rtm = False
    web = "GET"

    group_id: GroupId | None = None
    url: Id | None = None
    channel_type: Id | None = None
    test: bool | None = None


class ConfigurationButton(Model):
    """A chat button of ``get_configuration``'s reply."""

    id: str
    type: str | None = None
    online_value: str | None = None
    offline_value: str | None = None


class GetConfigurationResult(Model):
    """The reply of ``get_configuration``; the maps are undocumented dicts."""

    buttons: list[ConfigurationButton] | None = None
    ticket_form: FormDefinition | None = None
    prechat_form: FormDefinition | None = None
    integrations: dict[str, Any] | None = None
    properties: dict[str, Any] | None = None


class GetConfiguration(Method[GetConfigurationResult]):
    """Get the widget's configuration (Web GET, query parameters)."""

    action = "get_configuration"
    rtm = False
    web = "GET"

    group_id: GroupId
    version: Id


GetLocalizationResult: TypeAlias = dict[str, str]
"""The reply of ``get_localization``: phrase key → text."""


class GetLocalization(Method[GetLocalizationResult]):
    """Get the widget's phrases (Web GET, query parameters)."""

    action = "get_localization"
    result_type = GetLocalizationResult
    rtm = False
    web = "GET"

    group_id: GroupId
    language: Id
    version: Id
