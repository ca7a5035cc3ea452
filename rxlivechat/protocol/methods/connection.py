"""Connection: ``login`` and ``ping`` (docs/protocol.md §1.3, §2.1)."""

from __future__ import annotations

from typing import Any

import msgspec

from ..base import EmptyResult, Method, Model
from ..models import (
    Address,
    Customer,
    Greeting,
    SessionFields,
)


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
