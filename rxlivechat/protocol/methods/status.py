"""Group statuses, forms, agents, URL previews, greetings (docs/protocol.md §2.6)."""

from __future__ import annotations

from ..base import EmptyResult, Method, Model
from ..models import (
    Agent,
    FormDefinition,
)
from .fields import (
    GroupId,
    HttpUrl,
    Id,
    WireFormType,
)


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
    """A group's form: pre-chat, post-chat or ticket.

    Args:
        group_id: the group.
        type: ``"prechat"``, ``"postchat"`` or ``"ticket"``.

    Returns:
        An observable of ``enabled`` and, when enabled, the ``form``.

    Raises:
        InvalidArgumentError: a bad group id or form type.

    Example:
        >>> form = await sdk.get_form(0, "prechat")
        >>> form.enabled
        True
    """

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
    """A link preview: the page's title, description and image.

    Args:
        url: an ``http``/``https`` URL.

    Returns:
        An observable of ``title``, ``description``, ``image_url`` (a copy on
        LiveChat's CDN), ``image_original_url``, ``image_width``,
        ``image_height`` and ``url``.

    Raises:
        InvalidArgumentError: not an http(s) URL.

    Example:
        >>> info = await sdk.get_url_info("https://www.livechat.com")
        >>> info.title
        'LiveChat'
    """

    action = "get_url_info"

    url: HttpUrl


class AcceptGreeting(Method[EmptyResult]):
    """Accept a greeting shown by ``incoming_greeting`` (``greeting_accepted``).

    Args:
        greeting_id: the greeting's ``id`` (the configured greeting).
        unique_id: the greeting's ``unique_id`` (this display of it).

    Returns:
        An observable of the empty reply; it errors with
        :class:`~rxlivechat.exceptions.GreetingNotFoundError` when it is no longer
        shown.

    Raises:
        InvalidArgumentError: a bad id.

    Example:
        >>> def accept(greeting):
        ...     sdk.accept_greeting(greeting.id, greeting.unique_id).subscribe()
        >>> sdk.on("incoming_greeting", accept)
    """

    action = "accept_greeting"

    greeting_id: GroupId
    unique_id: Id


class CancelGreeting(Method[EmptyResult]):
    """Reject a greeting shown by ``incoming_greeting`` (``greeting_canceled``).

    Args:
        unique_id: the greeting's ``unique_id``.

    Returns:
        An observable of the empty reply; it errors with
        :class:`~rxlivechat.exceptions.GreetingNotFoundError` when it is no longer
        shown.

    Raises:
        InvalidArgumentError: a bad id.

    Example:
        >>> await sdk.cancel_greeting(greeting.unique_id)
        EmptyResult()
    """

    action = "cancel_greeting"

    unique_id: Id


class SendGreetingButtonClicked(Method[EmptyResult]):
    """Report a click on a greeting's button.

    Args:
        greeting_unique_id: the greeting's ``unique_id``.
        button_id: the button.

    Returns:
        An observable of the empty reply.

    Raises:
        InvalidArgumentError: a bad id.

    Example:
        >>> await sdk.send_greeting_button_clicked(greeting.unique_id, "start")
        EmptyResult()
    """

    action = "send_greeting_button_clicked"

    greeting_unique_id: Id
    button_id: Id


class RequestWelcomeMessageResult(Model):
    """The reply of ``request_welcome_message`` (the message comes as a push)."""

    id: str
    predicted_agent: Agent | None = None
    queue: bool | None = None


class RequestWelcomeMessage(Method[RequestWelcomeMessageResult]):
    """Ask for a welcome message; it comes as ``incoming_welcome_message``.

    Args:
        id: the previous welcome message's id, if any.
        group_id: the group to ask (the customer's by default).

    Returns:
        An observable of the reply: the message ``id``, the ``predicted_agent`` and
        ``queue``. It errors with :class:`~rxlivechat.exceptions.GroupOfflineError`
        or :class:`~rxlivechat.exceptions.GroupUnavailableError` when nobody can
        answer.

    Raises:
        InvalidArgumentError: a bad argument.

    Example:
        >>> reply = await sdk.request_welcome_message()
        >>> reply.predicted_agent.name
        'Jane Doe'
    """

    action = "request_welcome_message"

    id: Id | None = None
    group_id: GroupId | None = None
