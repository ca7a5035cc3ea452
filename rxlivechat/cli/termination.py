"""Stop a command-line job cleanly when the process is asked to, on any platform.

``SIGTERM`` (``kill``, service managers, container runtimes) and, on Windows,
``SIGBREAK`` (Ctrl-Break) call a callback on the event loop. Where the loop has
``add_signal_handler`` (asyncio's and uvloop's loops on POSIX) it is used; where
it does not (Windows' loops raise ``NotImplementedError``), a ``signal.signal``
handler hands the callback to the loop with ``call_soon_threadsafe``.

Ctrl-C (``SIGINT``) is left to ``asyncio.run``, which installs its own
``signal.signal`` handler on every platform: it cancels the main task, whose
``finally`` blocks clean up, then raises ``KeyboardInterrupt``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
from collections.abc import Callable, Iterator

__all__ = ["on_termination"]


def _signals() -> list[signal.Signals]:
    """The termination signals this platform has."""
    names = ("SIGTERM", "SIGBREAK")  # SIGBREAK exists on Windows only
    return [getattr(signal, name) for name in names if hasattr(signal, name)]


@contextlib.contextmanager
def on_termination(callback: Callable[[], object]) -> Iterator[None]:
    """Within the block, a termination signal calls ``callback`` on the running loop.

    The previous handlers are back once the block ends. Outside the main thread,
    where no handler can be installed, nothing is.

    Args:
        callback: called on the loop's thread, once per signal received.
    """
    loop = asyncio.get_running_loop()

    def from_handler(signum: int, frame: object) -> None:
        loop.call_soon_threadsafe(callback)

    undo: list[Callable[[], object]] = []
    for signum in _signals():
        try:
            loop.add_signal_handler(signum, callback)
            undo.append(functools.partial(loop.remove_signal_handler, signum))
        except (NotImplementedError, AttributeError):  # Windows' loops
            try:
                previous = signal.signal(signum, from_handler)
            except ValueError:  # not the main thread
                continue
            if previous is None:  # installed by C code: the default is the best guess
                previous = signal.SIG_DFL
            undo.append(functools.partial(signal.signal, signum, previous))
        except RuntimeError:  # not the main thread
            continue
    try:
        yield
    finally:
        for step in reversed(undo):
            step()
