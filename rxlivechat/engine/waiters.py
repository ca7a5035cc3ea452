"""Who waits for a login: each ``wait_connected()``, woken once.

A wait ends when the customer logs in, when the connection stops, or (a wait
that fails fast) when an attempt fails. One that times out after failed
attempts names the last attempt's failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..exceptions import LiveChatError, NotConnectedError

__all__ = ["LoginWaiters", "not_connected"]


class LoginWaiters(dict[asyncio.Future[None], bool]):
    """The waits in progress, each with whether it fails fast.

    A dict itself: an idle customer of a pool pays for an empty dict (64 bytes)
    and nothing more.
    """

    __slots__ = ()

    async def wait(
        self,
        timeout: float | None,
        *,
        fail_fast: bool,
        failure: Callable[[], Exception | None],
    ) -> None:
        """Wait until :meth:`wake` ends this wait.

        Args:
            timeout: seconds to wait at most; ``None``: as long as it takes.
            fail_fast: end it on a failed attempt too (``wake(fail_fast_only=True)``).
            failure: the last attempt's failure, if any: named on a timeout.

        Raises:
            NotConnectedError: woken by a failed attempt, or timed out after one.
            TimeoutError: timed out, no attempt having failed.
            LiveChatError: what :meth:`wake` was given.
        """
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self[waiter] = fail_fast
        try:
            async with asyncio.timeout(timeout):
                await waiter
        except NotConnectedError:  # a TimeoutError too: not the wait's own
            raise
        except TimeoutError:
            failed = failure()
            if failed is None:
                raise TimeoutError(f"not connected within {timeout} s") from None
            error = not_connected(failed, f"not connected within {timeout} s")
            raise error from failed
        finally:
            self.pop(waiter, None)

    def wake(
        self, error: LiveChatError | None, *, fail_fast_only: bool = False
    ) -> None:
        """End the waits: with ``error``, or as logged in (``None``).

        Args:
            error: what the waits fail with; ``None``: they return.
            fail_fast_only: end only the waits that fail fast.
        """
        for waiter, fail_fast in list(self.items()):
            if fail_fast_only and not fail_fast:
                continue
            del self[waiter]
            if not waiter.done():
                if error is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(error)


def not_connected(
    cause: BaseException, what: str = "not connected"
) -> NotConnectedError:
    """The error of a wait or a request that no connection could serve."""
    error = NotConnectedError(f"{what}: {' '.join(str(cause).split())}")
    error.__cause__ = cause
    return error
