"""Every v3.6 customer action beyond the seed's (v1) methods, in the same form.

Each method validates its input, then returns a cold, awaitable ``Observable`` of
its typed result; subscribing sends the request (RTM, or the Web API for the
actions that exist only over HTTP). :class:`CustomerActions` is a base class of
:class:`~rxlivechat.sdk.CustomerSDK`; it relies on the SDK's ``call`` (RTM) and
``web_call`` (HTTP).
"""

from __future__ import annotations

from typing import TypeVar

from reactivex import Observable

from .protocol import methods as m
from .protocol.base import Method

__all__ = ["CustomerActions"]

R = TypeVar("R")


class CustomerActions:
    """The v3.6 actions the seed's methods do not cover."""

    # Provided by CustomerSDK.
    def call(self, method: Method[R]) -> Observable[R]:  # pragma: no cover
        """Send an RTM action (see :meth:`CustomerSDK.call`)."""
        raise NotImplementedError

    def web_call(self, method: Method[R]) -> Observable[R]:  # pragma: no cover
        """Send a Web API action (see :meth:`CustomerSDK.web_call`)."""
        raise NotImplementedError

    # Customer -----------------------------------------------------------------------

    def get_customer(self) -> Observable[m.GetCustomerResult]:
        """The customer's own data (name, e-mail, session fields, statistics)."""
        return self.call(m.GetCustomer())
