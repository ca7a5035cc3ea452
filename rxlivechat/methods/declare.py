"""How an action declared by its Struct becomes an SDK method.

An action that only builds its request and sends it needs nothing but its
Struct (:mod:`rxlivechat.protocol.methods`): the method's name is the action's,
its parameters are the Struct's fields in order (required ones positional,
optional ones keyword-only), its result type the Struct's, and its docstring the
Struct's. :class:`Declared` adds what the Struct cannot say: the arguments named
otherwise than their wire fields (``id`` is ``chat_id``), and for a paged action
the check of fields that exclude each other and what the SDK learns from the
result.

:func:`make` writes the method as Python source and compiles it, as
``dataclasses`` does: calling it costs what a hand-written method costs, and
``inspect``, ``help()`` and the warnings see a plain function. ``mypy``, the IDE
and the reference docs read the generated stub ``declared.pyi``
(``tests/methods/test_declared.py`` writes it and fails on drift).
"""

from __future__ import annotations

import datetime
import inspect
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any, NamedTuple

import msgspec
from reactivex import Observable

from ..protocol.base import Method, Timestamp
from ..protocol.methods import fields as f
from ..protocol.models import Postback, Properties, PropertyNames
from .validate import plain, session_fields_of, to_postback

__all__ = ["Declared", "argument_type", "make", "parameters"]


class Declared(NamedTuple):
    """One action sent as it is: its Struct, and its arguments' names.

    Attributes:
        request: the action's Struct.
        arguments: wire field → the argument's name, where they differ.
        positional: optional fields are positional too (else keyword-only).
        check: refuses a request its fields' constraints allow but the action
            does not (fields that exclude each other), before anything is sent.
        then: called with the group and the result, which it returns (what the
            SDK learns from it).
    """

    request: type[Method[Any]]
    arguments: Mapping[str, str] = {}
    positional: bool = False
    check: Callable[[Any], None] | None = None
    then: Callable[[Any, Any], Any] | None = None

    @property
    def name(self) -> str:
        """The method's name: the action's."""
        return self.request.action


# What a caller passes for a wire field's type (the constraints stay on the wire
# type, which ``validate`` checks), and how the value is made ready to send.
# A constrained type not listed is passed as its base type (``Id`` as ``str``).
_ARGUMENTS: list[tuple[Any, Any, Callable[[Any], Any] | None]] = [
    (f.WireSortOrder, f.SortOrder, None),
    (f.WireFormType, f.FormType, None),
    (Timestamp, datetime.datetime, None),
    (f.PropertiesIn, Properties, plain),
    (f.PropertyNamesIn, PropertyNames, plain),
    (f.SessionFieldsIn, Iterable[Mapping[str, str]], session_fields_of),
    (Postback, Postback | Mapping[str, Any], to_postback),
]


def _argument(wire: Any) -> tuple[Any, Callable[[Any], Any] | None]:
    for known, given, prepare in _ARGUMENTS:
        if wire == known:
            return given, prepare
    if typing.get_origin(wire) is Annotated:
        return typing.get_args(wire)[0], None
    return wire, None


def argument_type(wire: Any) -> Any:
    """The type a caller passes for a field of type ``wire`` (``None`` kept)."""
    options = getattr(wire, "__args__", ())
    if type(None) in options and len(options) == 2:  # X | None
        (inner,) = [o for o in options if o is not type(None)]
        return argument_type(inner) | None
    return _argument(wire)[0]


def parameters(declared: Declared) -> list[inspect.Parameter]:
    """The method's parameters after ``self``, from the Struct's fields."""
    kinds = inspect.Parameter
    made = []
    for field in msgspec.structs.fields(declared.request):
        required = field.required
        kind = (
            kinds.POSITIONAL_OR_KEYWORD
            if required or declared.positional
            else kinds.KEYWORD_ONLY
        )
        made.append(
            kinds(
                declared.arguments.get(field.name, field.name),
                kind,
                default=kinds.empty if required else None,
                annotation=argument_type(field.type),
            )
        )
    return made


def make(declared: Declared, owner: str) -> Callable[..., Observable[Any]]:
    """The method of ``declared``, as if written in class ``owner``."""
    request = declared.request
    names = {field.name: field for field in msgspec.structs.fields(request)}
    given = parameters(declared)
    namespace: dict[str, Any] = {"_request": request, "_arguments": declared.arguments}
    values = []
    for wire, parameter in zip(names, given, strict=True):
        value = parameter.name
        prepare = _argument(names[wire].type)[1]
        if prepare is not None:
            namespace[f"_{prepare.__name__}"] = prepare
            value = f"_{prepare.__name__}({value})"
        values.append(f"{wire}={value}")
    send = "_send" if request.rtm else "_send_web"
    bare = [p.replace(annotation=inspect.Parameter.empty) for p in given]
    self = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    written = inspect.Signature([self, *bare])
    # Locals start with "_": no wire field does, so no argument is shadowed.
    body = [f"_sent = _request({', '.join(values)})"]
    if declared.check is not None:
        namespace["_check"] = declared.check
        body.append("_check(_sent)")
    body.append(f"_call = self.{send}(_sent, **_arguments)")
    if declared.then is not None:
        namespace["_then"] = declared.then
        body.append("_call = self._reshaped(_call, lambda _r: _then(self, _r))")
    body.append("return _call")
    source = f"def {declared.name}{written}:\n" + "".join(f"    {b}\n" for b in body)
    exec(compile(source, f"<action {request.action}>", "exec"), namespace)
    function: Callable[..., Observable[Any]] = namespace[declared.name]
    function.__code__ = function.__code__.replace(
        co_qualname=f"{owner}.{declared.name}"
    )
    function.__qualname__ = f"{owner}.{declared.name}"
    function.__module__ = f"{__package__}.declared"
    function.__doc__ = request.__doc__
    function.__annotations__ = {
        **{p.name: p.annotation for p in given},
        # A type built at run time, as typing.get_type_hints() would resolve it.
        "return": Observable[request.result_type],  # type: ignore[name-defined]
    }
    return function
