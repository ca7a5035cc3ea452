"""The v3.6 actions that only build their request and send it: one line each.

Each line names the action's Struct (its fields, constraints, result type and
docstring are the method's: :mod:`.declare`), and the arguments named otherwise
than their wire fields. Typed by the generated ``declared.pyi``; after a change
here or to one of these Structs, regenerate it::

    .venv/bin/python -m tests.methods.test_declared
"""

from __future__ import annotations

from ..protocol import methods as m
from .calls import MethodGroup
from .declare import Declared, make
from .paging import check_list_threads

__all__ = ["DECLARED", "DeclaredActions"]

CHAT = {"id": "chat_id"}
"""A chat sent as a bare ``id`` is the caller's ``chat_id``."""

DECLARED = (
    # Chats and events
    Declared(m.ListThreads, check=check_list_threads),
    Declared(m.GetChat, positional=True),
    Declared(m.DeactivateChat, CHAT),
    Declared(m.DeleteEvent),
    Declared(m.MarkEventsAsSeen),
    Declared(m.SendRichMessagePostback),
    Declared(m.RequestWelcomeMessage),
    Declared(m.SendSneakPeek, {"sneak_peek_text": "text"}),
    # Properties
    Declared(m.UpdateChatProperties, CHAT),
    Declared(m.DeleteChatProperties, CHAT),
    Declared(m.UpdateThreadProperties),
    Declared(m.DeleteThreadProperties),
    Declared(m.UpdateEventProperties),
    Declared(m.DeleteEventProperties),
    Declared(m.ListLicenseProperties),
    Declared(m.ListGroupProperties, {"id": "group_id"}),
    # Customer
    Declared(m.GetCustomer),
    Declared(m.SetCustomerSessionFields),
    Declared(m.RequestEmailVerification),
    Declared(m.ActivateCustomerPage),
    Declared(m.DeactivateCustomerPage),
    # Greetings
    Declared(m.AcceptGreeting),
    Declared(m.CancelGreeting),
    Declared(m.SendGreetingButtonClicked),
    # Status and configuration
    Declared(m.GetForm),
    Declared(m.GetUrlInfo),
    Declared(m.GetDynamicConfiguration),
    Declared(m.GetConfiguration),
    Declared(m.GetLocalization),
    Declared(m.CheckGoals),
)
"""Every declared action, in the reference's order."""


class DeclaredActions(MethodGroup):
    """The v3.6 actions sent as they are; a base class of ``CustomerSDK``."""


for _declared in DECLARED:
    setattr(DeclaredActions, _declared.name, make(_declared, "DeclaredActions"))
del _declared
