"""The handlers' registry: each handler registered on its request Struct, once.

A handler takes the :class:`~.backend.Backend` (the state and the operations
the families share), the requesting customer and the typed request, and
returns an :class:`~.base.Outcome`. It raises a
:class:`~rxlivechat.exceptions.ServerError` subclass for a refused request;
nothing has changed then. :func:`handles` registers it under its Struct's
action::

    @handles(m.SendEvent)
    def send_event(
        backend: Backend, customer: CustomerRecord, req: m.SendEvent
    ) -> Outcome[m.SendEventResult]: ...

mypy checks that ``req`` is the Struct named; ``tests/sandbox/test_handlers.py``
that the result is the Struct's ``result_type``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ...protocol.base import Method
from ..records import CustomerRecord
from .backend import Backend
from .base import Outcome

__all__ = ["HANDLERS", "Handler", "handles"]

M = TypeVar("M", bound=Method[Any])

Handler = Callable[[Backend, CustomerRecord, Any], Outcome[Any]]
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
