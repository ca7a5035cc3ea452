"""The blocking face of ``sdk.outbox``, for :class:`~rxlivechat.sync.SyncCustomerSDK`.

.. code-block:: python

    with rxlivechat.connect_sync(..., store="bridge.db") as sdk:
        sdk.outbox.put(chat_id, Message(text="hi", custom_id="sms-42"))
        sdk.outbox.drain(timeout=30)

Each call runs on the SDK's thread and blocks the caller until it is done, as
every method of the facade does (``timeout=``: :class:`TimeoutError`, the call
abandoned).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from reactivex import Observable

from .protocol.models import Event
from .stores.outbox import OutboxEntry

if TYPE_CHECKING:
    from .outbox import Outbox, Result
    from .sdk import CustomerSDK
    from .sync import SyncCustomerSDK

__all__ = ["SyncOutbox"]


class SyncOutbox:
    """:class:`~rxlivechat.outbox.Outbox`, blocking.

    Args:
        sdk: the blocking SDK whose outbox this is.
    """

    def __init__(self, sdk: SyncCustomerSDK) -> None:
        self._sdk = sdk

    def __repr__(self) -> str:
        return self._sdk.run(_repr)

    def put(
        self,
        chat_id: str,
        event: Event | Mapping[str, Any],
        *,
        attach_to_last_thread: bool = False,
        block: bool = True,
        timeout: float | None = None,
    ) -> OutboxEntry:
        """Queue ``event``; returns once it is durably queued (``Outbox.put``).

        Raises:
            InvalidArgumentError: what ``send_event`` would refuse.
            OutboxFullError: full, with ``block=False``.
            TimeoutError: not queued within ``timeout`` seconds.
        """
        return self._sdk.run(
            lambda sdk: sdk.outbox.put(
                chat_id,
                event,
                attach_to_last_thread=attach_to_last_thread,
                block=block,
            ),
            timeout,
        )

    def drain(self, timeout: float | None = None) -> None:
        """Block until every entry queued so far is settled (``Outbox.drain``).

        Raises:
            TimeoutError: not drained within ``timeout`` seconds.
        """
        self._sdk.run(lambda sdk: sdk.outbox.drain(timeout), None)

    @property
    def pending(self) -> int:
        """Entries queued and not settled yet."""
        return self._sdk.run(_pending)

    @property
    def results(self) -> Observable[Result]:
        """``Outbox.results``; its observers are called on the SDK's thread."""
        outbox: Outbox = self._sdk.run(_outbox)
        return outbox.results


async def _outbox(sdk: CustomerSDK) -> Outbox:
    return sdk.outbox


async def _pending(sdk: CustomerSDK) -> int:
    return sdk.outbox.pending


async def _repr(sdk: CustomerSDK) -> str:
    return repr(sdk.outbox).replace("<Outbox", "<SyncOutbox", 1)
