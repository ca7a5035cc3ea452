"""The base classes of every wire type, and the two catalogues built from them.

Rules of this package (``rxlivechat/protocol/``):

1. It imports the standard library, msgspec and ``rxlivechat.exceptions`` only:
   no asyncio, no aiohttp, no reactivex (``tests/test_layers.py`` checks).
   :class:`Model`'s ``str()`` and ``_repr_html_`` call the forms registered
   with :func:`show_with` (``rxlivechat.display`` registers its own), so the
   core imports nothing above it.
2. Field names are the wire names (LiveChat's JSON is already snake_case).
3. Optional fields default to ``None`` and are left out when encoding
   (``omit_defaults``): the server rejects nulls it does not expect.
4. Unknown fields are ignored (the live API adds fields), and values the server
   chooses (statuses, reasons, types) are plain ``str``, never ``Literal``:
   a new value must not break decoding.
5. Timestamps are timezone-aware ``datetime``s (:data:`Timestamp`).

A :class:`Method` subclass is one action's request payload. It names its
``action`` and, through its type parameter, the Struct its reply decodes into, so
``sdk.call(SendEvent(...))`` is typed ``SendEventResult`` end to end. Defining the
subclass registers it in :data:`METHODS`; a :class:`PushPayload` subclass likewise
registers in :data:`PUSHES`.
"""

from __future__ import annotations

import datetime
import html as _html
import typing
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Generic, Protocol, TypeVar

import msgspec

__all__ = [
    "METHODS",
    "PUSHES",
    "VERSIONED",
    "EmptyResult",
    "Method",
    "Model",
    "PushPayload",
    "Ticket",
    "Timestamp",
    "show_with",
]

Timestamp = Annotated[datetime.datetime, msgspec.Meta(tz=True)]
"""An RFC 3339 timestamp; decoding refuses one without a timezone."""


class Model(msgspec.Struct, kw_only=True, omit_defaults=True, repr_omit_defaults=True):
    """Base of every wire object: keyword-only, and defaults left off the wire.

    ``repr()`` leaves out the fields at their defaults; ``str()`` and Jupyter's
    ``_repr_html_`` show the value readably (:mod:`rxlivechat.display`).
    """

    def __str__(self) -> str:
        return _text_form(self)

    def _repr_html_(self) -> str:
        return _html_form(self)


def _escaped_repr(value: Any) -> str:
    return f"<pre>{_html.escape(repr(value))}</pre>"


# How models show themselves: their repr, until show_with() says more.
_text_form: Callable[[Any], str] = repr
_html_form: Callable[[Any], str] = _escaped_repr


def show_with(*, text: Callable[[Any], str], html: Callable[[Any], str]) -> None:
    """Set what ``str(model)`` and Jupyter's ``_repr_html_`` return.

    ``rxlivechat.display`` calls this when imported (``import rxlivechat`` does).
    """
    global _text_form, _html_form
    _text_form = text
    _html_form = html


ResultT = TypeVar("ResultT")

METHODS: dict[str, type[Method[Any]]] = {}
"""Action name → the :class:`Method` subclass of its request payload."""

PUSHES: dict[str, type[PushPayload]] = {}
"""Push name → the :class:`PushPayload` subclass of its payload."""

VERSIONED: dict[tuple[str, str], type[Method[Any]]] = {}
"""``(version, action)`` → the request Struct of an action whose reply has
another shape in that API version (its ``in_version``)."""


class EmptyResult(Model):
    """The reply of an action that returns no data (``"payload": {}``)."""


class Method(Model, Generic[ResultT]):
    """One action's request payload; subclass as ``class X(Method[XResult])``.

    Class attributes:
        action: the wire action name.
        result_type: the Struct the success reply's payload decodes into
            (taken from the type parameter).
        rtm: whether the action exists on the RTM WebSocket.
        web: the Web API HTTP verb (``"POST"``/``"GET"``), or ``None`` when the
            action exists only on RTM.
        in_version: the API version this Struct is the shape for, when its
            reply differs from the default version's (``ListChatsInfo``, 3.7);
            registered in :data:`VERSIONED`, not :data:`METHODS`.
    """

    action: ClassVar[str]
    result_type: ClassVar[type[Any]] = EmptyResult
    rtm: ClassVar[bool] = True
    web: ClassVar[str | None] = "POST"
    in_version: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in cls.__dict__.get("__orig_bases__", ()):
            if typing.get_origin(base) is Method:
                (result,) = typing.get_args(base)
                if isinstance(result, type):
                    cls.result_type = result
        action = cls.__dict__.get("action")
        if isinstance(action, str):
            version = cls.__dict__.get("in_version")
            if version is None:
                METHODS[action] = cls
            else:
                VERSIONED[version, action] = cls


class Ticket(Protocol):
    """A request in flight, as the session keeps it: it knows its result type.

    A :class:`Method` subclass is a ticket, and so is the engine's ``Pending``.
    """

    @property
    def result_type(self) -> type[Any]:
        """The type the request's success reply decodes into."""
        ...


class PushPayload(Model):
    """One push's payload; subclasses set ``action`` to the push name."""

    action: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        action = cls.__dict__.get("action")
        if isinstance(action, str):
            PUSHES[action] = cls
