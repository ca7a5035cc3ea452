"""Every error rxlivechat raises, in one tree.

.. code-block:: text

    LiveChatError
    ├── InvalidArgumentError        bad input, refused before anything is sent
    ├── ProtocolError               bytes that are not a valid frame (protocol/)
    ├── SDKClosedError              the SDK was destroyed or disconnected, or the
    │                               server stopped it for good
    ├── TransportError              the network (sdk, _transport)
    │   ├── ConnectError            could not open the socket or fetch a token
    │   │   ├── TokenRefusedError   the token endpoint refused (HTTP status kept)
    │   │   └── NotConnectedError   not connected: the last attempt's failure is its
    │   │                           cause (also a RequestTimeoutError)
    │   └── ConnectionLost          the socket dropped while a request was in flight;
    │                               it may or may not have been applied (not for
    │                               the requests that create events: looked up)
    ├── RequestTimeoutError         no reply within the client's request timeout
    ├── WrongThreadError            an SDK call from outside the SDK's event loop
    ├── UploadCancelledError        send_file(...).cancel() was called
    ├── StoreError                  a checkpoint store cannot be opened, read or written
    │   ├── StoreCorruptError       not a store, damaged, or another program's data
    │   ├── StoreLockedError        the customer is open in another process (SQLite)
    │   └── FencedError             a write of a stale owner (a newer epoch exists)
    ├── OutboxFullError             sdk.outbox.put(..., block=False) past max_pending
    └── ServerError                 the server answered with an error object
        ├── AuthenticationError     error.type == "authentication"
        ├── AuthorizationError      error.type == "authorization"
        ├── LimitReachedError       error.type == "limit_reached"
        │   ├── ChatLimitReachedError         ... "chat_limit_reached"
        │   └── CustomerSessionFieldsLimitReachedError
        ├── ValidationError         error.type == "validation"
        │   └── ChatAlreadyActiveError        ... "chat_already_active"
        └── ...                     one class per error.type (docs/protocol.md §1.6)

A :class:`ServerError` keeps the wire ``error.type`` as :attr:`ServerError.error_type`
(also a class attribute on each subclass), the server's message and ``data``, and
the action and request id it answered. :func:`server_error` builds the right
subclass from a wire error object; unknown types become a plain ``ServerError``.

Three types are named only by the official JS SDK's error codes, which upper-case
the wire type (``CHAT_LIMIT_REACHED``, ``CHAT_ALREADY_ACTIVE``,
``CUSTOMER_SESSION_FIELDS_LIMIT_REACHED``); the API's own error table has only
``limit_reached`` and ``validation``. Each gets a subclass of the generic class, and
the generic type from the action it refines is raised as the subclass too, so code
that catches either works on either reading (docs/sandbox-choices.md).

This module imports nothing but the standard library: the Sans-I/O core uses it.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AuthenticationError",
    "AuthorizationError",
    "ChatAlreadyActiveError",
    "ChatAnonymizedError",
    "ChatInactiveError",
    "ChatLimitReachedError",
    "ConnectError",
    "ConnectionLost",
    "CustomerBannedError",
    "CustomerSessionFieldsLimitReachedError",
    "EntityTooLargeError",
    "FencedError",
    "GreetingNotFoundError",
    "GroupNotFoundError",
    "GroupOfflineError",
    "GroupUnavailableError",
    "GroupsOfflineError",
    "InternalServerError",
    "InvalidArgumentError",
    "LicenseExpiredError",
    "LicenseNotFoundError",
    "LimitReachedError",
    "LiveChatError",
    "MisdirectedRequestError",
    "NotAllowedError",
    "NotConnectedError",
    "NotFoundError",
    "OutboxFullError",
    "PendingRequestsLimitReachedError",
    "ProtocolError",
    "RequestTimeoutError",
    "SDKClosedError",
    "SERVER_ERRORS",
    "ServerError",
    "ServerRequestTimeoutError",
    "ServiceUnavailableError",
    "StoreCorruptError",
    "StoreError",
    "StoreLockedError",
    "StreamOverflowError",
    "TokenRefusedError",
    "TooManyRequestsError",
    "TransportError",
    "UnsupportedVersionError",
    "UploadCancelledError",
    "UsersLimitReachedError",
    "ValidationError",
    "WrongProductVersionError",
    "WrongThreadError",
    "server_error",
]


class LiveChatError(Exception):
    """The root: ``except rxlivechat.LiveChatError`` catches everything we raise."""


class InvalidArgumentError(LiveChatError, ValueError, TypeError):
    """An argument is of the wrong type or out of range; nothing was sent.

    It is also a :class:`ValueError` and a :class:`TypeError`, so code written
    against plain Python conventions catches it too.
    """


class ProtocolError(LiveChatError):
    """Bytes that are not a Customer Chat API frame, or a frame of the wrong shape.

    Attributes:
        action: the frame's ``action`` when the envelope could be read, else ``None``.
        request_id: the frame's ``request_id`` when it could be read, else ``None``.
    """

    def __init__(
        self,
        message: str,
        *,
        action: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.action = action
        self.request_id = request_id


class SDKClosedError(LiveChatError):
    """The SDK is not running.

    It was destroyed, disconnected by ``disconnect()``, or stopped for good by the
    server (the ``disconnected`` event says why).
    """


class TransportError(LiveChatError):
    """The network failed."""


class ConnectError(TransportError):
    """The WebSocket could not be opened, or a customer token could not be had."""


class TokenRefusedError(ConnectError):
    """The Accounts API answered the token request with an error status.

    A 4xx other than 408 and 429 (a wrong organization or client id, a refused
    grant) is :attr:`permanent`: no retry mends it, so requests waiting for a
    connection fail at once with it as their cause.

    Attributes:
        status: the HTTP status.
    """

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status

    @property
    def permanent(self) -> bool:
        """Whether the refusal is a misconfiguration rather than a passing fault."""
        return 400 <= self.status < 500 and self.status not in (408, 429)


class ConnectionLost(TransportError):
    """The socket dropped while this request was in flight.

    The server may or may not have applied it: check before repeating an action
    that is not safe to repeat. Requests that create events (``send_event``,
    ``start_chat`` and ``resume_chat`` with events) never fail with it: the
    SDK looks their ``custom_id`` up after the reconnect (docs/concepts.md).
    """


class RequestTimeoutError(LiveChatError, TimeoutError):
    """No reply arrived within the request timeout; the request was abandoned."""


class NotConnectedError(ConnectError, RequestTimeoutError):
    """Not connected, so nothing was sent: the last attempt's failure is the cause.

    Raised by ``wait_connected()`` and by requests while the connection attempts
    fail (a refused port, a name that does not resolve, a TLS or HTTP error...):
    its message names that failure and ``__cause__`` holds it. It is a
    :class:`ConnectError`, and also a :class:`RequestTimeoutError` (so a
    :class:`TimeoutError`) for code that waits for a connection with a timeout.
    """


class WrongThreadError(LiveChatError, RuntimeError):
    """An SDK call that must run on the SDK's event loop came from elsewhere.

    Method observables are marshalled onto the SDK's loop by themselves; the
    lifecycle calls (``connect``, ``disconnect``, ``destroy``...) are not. Call
    them on the SDK's loop (``loop.call_soon_threadsafe``), or use the blocking
    facade (:func:`rxlivechat.connect_sync`) from plain threads.
    """


class UploadCancelledError(LiveChatError):
    """A file upload was cancelled by its caller."""


class StoreError(LiveChatError):
    """A store (:mod:`rxlivechat.stores`) cannot be opened, read or written."""


class StoreCorruptError(StoreError):
    """The store holds data that is not ours, or not readable.

    A file that is not an SQLite database, a damaged one, an SQLite database of
    another program, or Redis keys of an unknown format. Nothing is overwritten.
    """


class StoreLockedError(StoreError):
    """Another process (or another handle) has this customer open in the SQLite store.

    An SQLite store serves each customer to one process at a time; use
    :class:`~rxlivechat.stores.RedisStore` for processes that share customers.
    """


class FencedError(StoreError):
    """A store refused a write: a newer owner's epoch exists for this customer.

    The writer's fencing token (its lease's epoch, given to
    :meth:`~rxlivechat.stores.BatchingStore.fence`) is stale: another process
    took the customer over. Nothing of the write is kept; the writer must stop
    the customer at once.
    """


class OutboxFullError(LiveChatError):
    """``sdk.outbox.put(..., block=False)`` found ``max_pending`` events queued.

    Nothing was queued; a blocking ``put`` waits for room instead.
    """


class StreamOverflowError(LiveChatError):
    """A bounded queue of events was full: its consumer is too slow.

    Raised to the reader of a pool's queue with ``overflow="fail"``, and reported
    (an ``error`` event) by a handler whose waiting events overflowed.
    """


class ServerError(LiveChatError):
    """The server answered a request with an error object.

    Attributes:
        error_type: the wire ``error.type`` (``"validation"``, ``"not_found"``...).
        message: the server's human-readable message.
        data: the optional ``error.data`` object (e.g. ``{"region": "fra"}``).
        action: the action of the request that failed, when known.
        request_id: the id of the request that failed, when known.
        hint: what to do about it, for the errors that have a usual cause
            (also at the end of ``str(error)``), else ``None``.
    """

    error_type: ClassVar[str] = ""

    def __init__(
        self,
        message: str = "",
        *,
        error_type: str | None = None,
        data: dict[str, Any] | None = None,
        action: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.error_type = error_type or type(self).error_type  # type: ignore[misc]
        self.message = message
        self.data = data
        self.action = action
        self.request_id = request_id
        self.hint = _HINTS.get((self.error_type, action))
        where = f" ({action})" if action else ""
        hint = f"; {self.hint}" if self.hint else ""
        super().__init__(f"{self.error_type}: {message}{where}{hint}")


_HINTS: dict[tuple[str, str | None], str] = {
    # Both readings of the chat limit (see ChatLimitReachedError).
    (error_type, "start_chat"): (
        "the customer already has as many chats as allowed (one on LiveChat; the "
        "sandbox's chats_per_customer): open a new thread in an existing one with "
        "resume_chat(chat_id) (get_chats_summary() lists them)"
    )
    for error_type in ("limit_reached", "chat_limit_reached")
}
"""(``error.type``, action) → :attr:`ServerError.hint`."""


SERVER_ERRORS: dict[str, type[ServerError]] = {}
"""Wire ``error.type`` → the :class:`ServerError` subclass raised for it."""


def _register(error_type: str) -> Any:
    def decorate(cls: type[ServerError]) -> type[ServerError]:
        cls.error_type = error_type
        SERVER_ERRORS[error_type] = cls
        return cls

    return decorate


@_register("authentication")
class AuthenticationError(ServerError):
    """Invalid or expired access token."""


@_register("authorization")
class AuthorizationError(ServerError):
    """The customer is not allowed to do this."""


@_register("chat_anonymized")
class ChatAnonymizedError(ServerError):
    """The chat was anonymized."""


@_register("chat_inactive")
class ChatInactiveError(ServerError):
    """The action needs an active thread, and the chat has none."""


@_register("customer_banned")
class CustomerBannedError(ServerError):
    """The customer is banned."""


@_register("entity_too_large")
class EntityTooLargeError(ServerError):
    """The upload is over the 10 MB limit."""


@_register("greeting_not_found")
class GreetingNotFoundError(ServerError):
    """No such greeting."""


@_register("group_not_found")
class GroupNotFoundError(ServerError):
    """No such group."""


@_register("group_offline")
class GroupOfflineError(ServerError):
    """The group is offline."""


@_register("group_unavailable")
class GroupUnavailableError(ServerError):
    """The group is online but no agent is available."""


@_register("groups_offline")
class GroupsOfflineError(ServerError):
    """Every group the chat could go to is offline."""


@_register("internal")
class InternalServerError(ServerError):
    """The server failed."""


@_register("license_expired")
class LicenseExpiredError(ServerError):
    """The license's trial or subscription ended."""


@_register("license_not_found")
class LicenseNotFoundError(ServerError):
    """No such license (organization)."""


@_register("limit_reached")
class LimitReachedError(ServerError):
    """The change would exceed a limit."""


@_register("misdirected_request")
class MisdirectedRequestError(ServerError):
    """Wrong region; ``data["region"]`` names the right one."""


@_register("not_allowed")
class NotAllowedError(ServerError):
    """Not allowed."""


@_register("not_found")
class NotFoundError(ServerError):
    """The chat, thread or event does not exist (for this customer)."""


@_register("pending_requests_limit_reached")
class PendingRequestsLimitReachedError(ServerError):
    """More than 10 requests were pending on one socket."""


@_register("request_timeout")
class ServerRequestTimeoutError(ServerError):
    """The server gave up on the request after 15 s."""


@_register("service_unavailable")
class ServiceUnavailableError(ServerError):
    """The server is temporarily not accepting requests."""


@_register("too_many_requests")
class TooManyRequestsError(ServerError):
    """Rate limited; it unblocks by itself."""


@_register("unsupported_version")
class UnsupportedVersionError(ServerError):
    """The API version is not supported."""


@_register("users_limit_reached")
class UsersLimitReachedError(ServerError):
    """The license's limit of online customers was reached."""


@_register("validation")
class ValidationError(ServerError):
    """The server found the request malformed."""


@_register("wrong_product_version")
class WrongProductVersionError(ServerError):
    """The license is not a LiveChat 3 license."""


@_register("chat_limit_reached")
class ChatLimitReachedError(LimitReachedError):
    """The customer has as many chats as allowed (1 on LiveChat): resume one."""


@_register("customer_session_fields_limit_reached")
class CustomerSessionFieldsLimitReachedError(LimitReachedError):
    """The update would leave the customer more than 100 session fields."""


@_register("chat_already_active")
class ChatAlreadyActiveError(ValidationError):
    """``resume_chat`` on a chat that is already active."""


_REFINED: dict[tuple[str, str], type[ServerError]] = {
    ("start_chat", "limit_reached"): ChatLimitReachedError,
    ("update_customer", "limit_reached"): CustomerSessionFieldsLimitReachedError,
    ("set_customer_session_fields", "limit_reached"): (
        CustomerSessionFieldsLimitReachedError
    ),
}
"""A generic wire type from the action that can only mean the specific one."""


def server_error(
    error_type: str,
    message: str = "",
    *,
    data: dict[str, Any] | None = None,
    action: str | None = None,
    request_id: str | None = None,
) -> ServerError:
    """Build the exception for a wire error object.

    Args:
        error_type: the wire ``error.type``.
        message: the wire ``error.message``.
        data: the wire ``error.data``, if any.
        action: the action of the failed request, if known.
        request_id: the id of the failed request, if known.

    Returns:
        An instance of the registered subclass, or of :class:`ServerError` for a
        type this version does not know.
    """
    cls = SERVER_ERRORS.get(error_type, ServerError)
    if action is not None:
        cls = _REFINED.get((action, error_type), cls)
    return cls(
        message,
        error_type=error_type,
        data=data,
        action=action,
        request_id=request_id,
    )
