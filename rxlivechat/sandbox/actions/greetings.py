"""Greetings and the welcome message."""

from __future__ import annotations

from ...exceptions import GreetingNotFoundError
from ...protocol import methods as m
from ...protocol.base import EmptyResult
from ...protocol.models import Message
from ...protocol.pushes import (
    GreetingAccepted,
    GreetingCanceled,
    IncomingWelcomeMessage,
)
from ..records import CustomerRecord
from .backend import Backend
from .base import Outcome, Outgoing, ok
from .registry import handles


@handles(m.AcceptGreeting)
def accept_greeting(
    backend: Backend, customer: CustomerRecord, req: m.AcceptGreeting
) -> Outcome[EmptyResult]:
    """The customer saw a greeting (it stays shown)."""
    greeting = backend.greeting(customer, req.unique_id)
    if greeting.id != req.greeting_id:
        raise GreetingNotFoundError("Greeting not found")
    # rtm-reference: "Marks an incoming greeting as seen." It stays shown
    # (login returns it, "accepted": true) and can still be canceled; a
    # second accept changes nothing (docs/sandbox-choices.md).
    if greeting.accepted:
        return ok()
    greeting.accepted = True
    customer.greetings_accepted_count += 1
    push = GreetingAccepted(unique_id=greeting.unique_id)
    return ok([Outgoing(push, frozenset({customer.id, greeting.agent_id}))])


@handles(m.CancelGreeting)
def cancel_greeting(
    backend: Backend, customer: CustomerRecord, req: m.CancelGreeting
) -> Outcome[EmptyResult]:
    """The customer dismissed a greeting."""
    greeting = backend.greeting(customer, req.unique_id)
    greeting.canceled = True
    push = GreetingCanceled(unique_id=greeting.unique_id)
    return ok([Outgoing(push, frozenset({customer.id, greeting.agent_id}))])


@handles(m.SendGreetingButtonClicked)
def send_greeting_button_clicked(
    backend: Backend, customer: CustomerRecord, req: m.SendGreetingButtonClicked
) -> Outcome[EmptyResult]:
    """A greeting's button was clicked (checked, then recorded nowhere)."""
    backend.greeting(customer, req.greeting_unique_id, shown_only=False)
    return ok()


@handles(m.RequestWelcomeMessage)
def request_welcome_message(
    backend: Backend, customer: CustomerRecord, req: m.RequestWelcomeMessage
) -> Outcome[m.RequestWelcomeMessageResult]:
    """A welcome message from the agent routing would pick."""
    agent, queue = backend.predict(customer, req.group_id)
    welcome_id = backend.store.ids.uuid()
    push = IncomingWelcomeMessage(
        id=welcome_id,
        event=Message(
            text=backend.store.welcome_message,
            author_id=agent.id,
            created_at=backend.store.clock.now(),
        ),
    )
    return Outcome(
        m.RequestWelcomeMessageResult(
            id=welcome_id, predicted_agent=agent, queue=queue
        ),
        [Outgoing(push, frozenset({customer.id}))],
    )
