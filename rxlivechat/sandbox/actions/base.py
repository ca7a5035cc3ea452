"""What every action handler is: a pure function registered on its request Struct.

A handler takes the :class:`~.backend.Backend` (the state and the operations
the families share), the requesting customer and the typed request, and
returns an :class:`Outcome`: the result and the pushes the request caused,
each with its recipients (user ids: a customer id stands for every connection
of that customer, an agent id for that scripted agent). It raises a
:class:`~rxlivechat.exceptions.ServerError` subclass for a refused request;
nothing has changed then.

:func:`handles` registers a handler under its Struct's action, once::

    @handles(m.SendEvent)
    def send_event(
        backend: Backend, customer: CustomerRecord, req: m.SendEvent
    ) -> Outcome[m.SendEventResult]: ...
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ...protocol.base import EmptyResult, Method, Model, PushPayload

if TYPE_CHECKING:
    from ..store import CustomerRecord
    from .backend import Backend

__all__ = [
    "HANDLERS",
    "Handler",
    "IncomingSneakPeek",
    "Outcome",
    "Outgoing",
    "handles",
    "ok",
]

R = TypeVar("R")
M = TypeVar("M", bound=Method[Any])


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


def ok(pushes: Iterable[Outgoing] = ()) -> Outcome[EmptyResult]:
    """The outcome of an action that returns no data."""
    return Outcome(EmptyResult(), list(pushes))


Handler = Callable[["Backend", "CustomerRecord", Any], Outcome[Any]]
"""A handler as the registry keeps it (its request type erased)."""

HANDLERS: dict[str, Handler] = {}
"""Action name → its handler; an action without one is answered "Unknown action"."""


def handles(
    method: type[M],
) -> Callable[
    [Callable[[Backend, CustomerRecord, M], Outcome[Any]]],
    Callable[[Backend, CustomerRecord, M], Outcome[Any]],
]:
    """Register the decorated function as the handler of ``method``'s action.

    Raises:
        ValueError: the action has a handler already (one handler per action).
    """

    def register(
        handler: Callable[[Backend, CustomerRecord, M], Outcome[Any]],
    ) -> Callable[[Backend, CustomerRecord, M], Outcome[Any]]:
        if method.action in HANDLERS:
            raise ValueError(f"{method.action} has a handler already")
        HANDLERS[method.action] = handler
        return handler

    return register
