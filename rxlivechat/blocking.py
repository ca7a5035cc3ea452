"""The blocking methods of SyncCustomerSDK, made from CustomerSDK's own.

.. code-block:: text

    CustomerSDK.get_chat(self, chat_id, thread_id=None) -> Observable[Chat]
        ──► get_chat(self, chat_id, thread_id=None, *, timeout=None) -> Chat
            (runs the async method on the SDK's loop, blocks for its result)
    CustomerSDK.on(self, name, fn, ...) -> DisposableBase
        ──► on(self, name, fn, ...) -> DisposableBase   (run on the SDK's loop)

Their types are in ``rxlivechat/_sync_methods.pyi``, generated from the same
signatures by ``python -m tests.test_sync_stub`` (``tests/test_sync_stub.py``
fails when it drifts).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .sdk import CustomerSDK

if TYPE_CHECKING:
    from .sync import SyncCustomerSDK

__all__ = ["HANDWRITTEN", "blocking_kinds", "blocking_methods"]

KEYWORD_ONLY = inspect.Parameter.KEYWORD_ONLY

HANDWRITTEN = frozenset(
    {"connect", "destroy", "disconnect", "events", "get_chat_history", "wait_connected"}
)
"""The CustomerSDK methods whose blocking form :mod:`rxlivechat.sync` writes by
hand (``destroy``'s is ``close()``); every other public method is made here."""


def blocking_kinds() -> dict[str, bool]:
    """Each generated method's name, and whether it awaits.

    An awaiting method (the async one returns ``Observable[T]`` or is a
    coroutine) takes ``timeout=`` and returns ``T``; the others (``on``,
    ``commit``...) run as they are on the SDK's thread.
    """
    kinds = {}
    for name in dir(CustomerSDK):
        if name.startswith("_") or name in HANDWRITTEN:
            continue
        function = getattr(CustomerSDK, name)  # a descriptor may make it
        if not inspect.isfunction(function):  # properties, Observable's classmethods
            continue
        if function.__module__.startswith("rxlivechat."):  # not Observable's own
            returns = inspect.signature(function).return_annotation
            if isinstance(returns, str):  # postponed: the result type alone
                try:
                    returns = eval(returns, function.__globals__)
                except NameError as exc:
                    raise TypeError(
                        f"CustomerSDK.{name}'s result type must be importable at "
                        f"run time (not only under TYPE_CHECKING): {exc}"
                    ) from None
            returns = typing.get_origin(returns) or returns
            kinds[name] = inspect.iscoroutinefunction(function) or (
                isinstance(returns, type) and issubclass(returns, Awaitable)
            )
    return kinds


def _awaiting(name: str) -> Callable[..., Any]:
    def method(
        self: SyncCustomerSDK, *args: Any, timeout: float | None = None, **kwargs: Any
    ) -> Any:
        return self._ask(lambda sdk: getattr(sdk, name)(*args, **kwargs), timeout)

    return method


def _on_the_loop(name: str) -> Callable[..., Any]:
    def method(self: SyncCustomerSDK, *args: Any, **kwargs: Any) -> Any:
        return self._runner.call(lambda: getattr(self.sdk, name)(*args, **kwargs))

    return method


def blocking_methods() -> type:
    """The base class of :class:`SyncCustomerSDK`: one method per SDK method.

    Each has the async method's signature, plus ``timeout=`` where it awaits.
    """
    methods = {}
    for name, awaits in blocking_kinds().items():
        method = _awaiting(name) if awaits else _on_the_loop(name)
        signature = inspect.signature(getattr(CustomerSDK, name))
        if awaits:
            timeout = inspect.Parameter("timeout", KEYWORD_ONLY, default=None)
            signature = signature.replace(
                parameters=[*signature.parameters.values(), timeout]
            )
        method.__signature__ = signature  # type: ignore[attr-defined]
        method.__name__, method.__qualname__ = name, f"BlockingMethods.{name}"
        method.__doc__ = f"Blocking :meth:`~rxlivechat.CustomerSDK.{name}`."
        methods[name] = method
    return type("BlockingMethods", (), methods)
