"""The sandbox's request handling: one module per action family, agent acts apart.

=====================  ==========================================================
:mod:`.base`           :class:`Outcome` and :class:`Outgoing`: what a request does
:mod:`.registry`       the :func:`~.registry.handles` decorator and its table
:mod:`.backend`        the state and the operations the families share
:mod:`.checks`         the input checks (events, access, properties, limits)
:mod:`.customer`       login, the customer's data and page
:mod:`.chats`          list, read, start, resume, close chats
:mod:`.events`         send and delete events, postbacks, sneak peeks, seen
:mod:`.properties`     chat, thread, event, license and group properties
:mod:`.greetings`      greetings and the welcome message
:mod:`.configuration`  groups, forms, routing, the widget's configuration
:mod:`.agent`          what scripted agents and the organization do
=====================  ==========================================================

Adding an action: its Struct in :mod:`rxlivechat.protocol.methods`, and one
function decorated ``@handles(TheStruct)`` in its family's module.
"""

from __future__ import annotations

from typing import TypeVar

from ...exceptions import ValidationError
from ...protocol.base import Method
from ..records import CustomerRecord

# Importing a family registers its handlers.
from . import chats, configuration, customer, events, greetings, properties  # noqa: F401
from .agent import AgentActs
from .base import IncomingSneakPeek, Outcome, Outgoing
from .registry import HANDLERS, handles

__all__ = [
    "HANDLERS",
    "Handlers",
    "IncomingSneakPeek",
    "Outcome",
    "Outgoing",
    "handles",
]

R = TypeVar("R")


class Handlers(AgentActs):
    """Every customer action, and what agents do, over one sandbox's state.

    Args:
        store: the state.
        chats_per_customer: how many chats ``start_chat`` lets a customer have
            (LiveChat: 1; more → ``chat_limit_reached``).
        properties: the registered properties; default: LiveChat's default
            properties and the reference's ``test`` namespace.
    """

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
        handler = HANDLERS.get(method.action)
        if handler is None:
            raise ValidationError(f"Unknown action: {method.action}")
        if customer_id is None:
            requester = CustomerRecord(id="")  # anonymous: never stored
        else:
            requester = self.store.customer(customer_id)
        outcome: Outcome[R] = handler(self, requester, method)
        return outcome

    def login_customer(self, customer_id: str) -> CustomerRecord:
        """The customer record of a token's ``entity_id``, created on first use."""
        record = self.store.customers.get(customer_id)
        return record or self.store.new_customer(customer_id)
