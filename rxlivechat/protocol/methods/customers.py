"""The customer's own data and page (docs/protocol.md §2.5)."""

from __future__ import annotations

from typing import TypeAlias

from ..base import EmptyResult, Method, Model
from ..models import (
    Address,
    Customer,
    GroupStatus,
)
from .fields import (
    HttpUrl,
    Id,
    SessionFieldsIn,
)


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
    """Tell LiveChat the customer's page is in the foreground (RTM only).

    Not in the v3.6 reference; the official Python SDK sends it.

    Returns:
        An observable of the empty reply.

    Example:
        >>> await sdk.activate_customer_page()
        EmptyResult()
    """

    action = "activate_customer_page"
    web = None


class DeactivateCustomerPage(Method[EmptyResult]):
    """Tell LiveChat the customer's page went to the background (RTM only).

    Not in the v3.6 reference; the official Python SDK sends it.

    Returns:
        An observable of the empty reply.

    Example:
        >>> await sdk.deactivate_customer_page()
        EmptyResult()
    """

    action = "deactivate_customer_page"
    web = None


class SetCustomerSessionFields(Method[EmptyResult]):
    """Replace the customer's session fields, in order (at most 100).

    The v3.6 form; v1's ``update_customer(fields={...})`` takes a map.

    Args:
        session_fields: single-key maps, e.g. ``[{"plan": "pro"}, {"id": "7"}]``.

    Returns:
        An observable of the empty reply.

    Raises:
        InvalidArgumentError: not a list of single-key string maps, or too many.

    Example:
        >>> await sdk.set_customer_session_fields([{"plan": "pro"}, {"id": "7"}])
        EmptyResult()
    """

    action = "set_customer_session_fields"

    session_fields: SessionFieldsIn


GetCustomerResult: TypeAlias = Customer
"""The reply of ``get_customer``: a :class:`~rxlivechat.protocol.models.Customer`."""


class GetCustomer(Method[GetCustomerResult]):
    """The customer's own data (name, e-mail, session fields...).

    Returns:
        An observable of the :class:`~rxlivechat.protocol.models.Customer`.

    Example:
        >>> me = await sdk.get_customer()
        >>> me.name, me.email
        ('Jane', 'jane@example.com')
    """

    action = "get_customer"


class RequestEmailVerification(Method[EmptyResult]):
    """E-mail the customer a verification link (Web API only).

    When the customer confirms, LiveChat posts the verified address to
    ``callback_uri``.

    Args:
        callback_uri: an ``http``/``https`` URL of yours.

    Returns:
        An observable of the empty reply.

    Raises:
        InvalidArgumentError: not an http(s) URL.

    Example:
        >>> await sdk.request_email_verification("https://example.com/verified")
        EmptyResult()
    """

    action = "request_email_verification"
    rtm = False

    callback_uri: HttpUrl
