"""What a request or an act produces: its result and the pushes, with recipients.

Recipients are user ids: a customer id stands for every connection of that
customer, an agent id for that scripted agent.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ...protocol.base import EmptyResult, Model, PushPayload

__all__ = ["IncomingSneakPeek", "Outcome", "Outgoing", "ok"]

R = TypeVar("R")


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
