"""Run a module as if on Windows: ``python -m tests.windowsish MODULE [ARGS...]``
(or ``-c CODE``).

What Windows lacks is taken away before ``MODULE`` (and rxlivechat) is imported:

- ``fcntl``, ``resource`` and ``termios`` cannot be imported: a ``sys.meta_path``
  finder, first in line, raises ``ModuleNotFoundError`` as Windows' Python does
  (copies imported before it are dropped from ``sys.modules``);
- ``os.fork``, ``os.forkpty``, ``os.register_at_fork``, ``os.pread`` and
  ``os.pwrite`` are gone;
- the event loops ``asyncio.run`` makes are :class:`ProactorLike`: their
  ``add_reader``/``add_writer``/``add_signal_handler`` (and ``remove_*``) raise
  ``NotImplementedError``, as the Proactor loop's do, when called from outside
  asyncio (the selector loop's own socket methods use them).

Not simulated: the Proactor loop's own I/O, path and line-ending differences,
Windows' signals. At exit it prints ``windowsish: refused NAMES`` on stderr: the
refused imports someone tried (and survived, as on Windows).
"""

from __future__ import annotations

import asyncio
import atexit
import importlib.abc
import importlib.machinery
import os
import runpy
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

# uvloop: no Windows build (the command line falls back to asyncio's loop).
POSIX_ONLY_MODULES = ("fcntl", "resource", "termios", "uvloop")
POSIX_ONLY_OS = ("fork", "forkpty", "register_at_fork", "pread", "pwrite")


class RefusePosixOnly(importlib.abc.MetaPathFinder):
    """Refuse the POSIX-only modules; remember who asked."""

    def __init__(self) -> None:
        self.refused: list[str] = []

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname in POSIX_ONLY_MODULES:
            self.refused.append(fullname)
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


def _not_outside_asyncio(name: str) -> Any:
    """``SelectorEventLoop.<name>``, refused to any caller but asyncio itself.

    The selector loop's own socket methods call some of these (``remove_writer``
    once ``sock_connect`` is done...): those are its internals, not ours.
    """
    method = getattr(asyncio.SelectorEventLoop, name)

    def refused(self: asyncio.AbstractEventLoop, *args: Any, **kwargs: Any) -> Any:
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if caller.partition(".")[0] != "asyncio":
            raise NotImplementedError(f"{name}: Windows' Proactor loop has none")
        return method(self, *args, **kwargs)

    return refused


class ProactorLike(asyncio.SelectorEventLoop):
    """A selector loop without the public methods Windows' Proactor loop lacks."""

    add_reader = _not_outside_asyncio("add_reader")
    add_writer = _not_outside_asyncio("add_writer")
    remove_reader = _not_outside_asyncio("remove_reader")
    remove_writer = _not_outside_asyncio("remove_writer")
    add_signal_handler = _not_outside_asyncio("add_signal_handler")
    remove_signal_handler = _not_outside_asyncio("remove_signal_handler")


class ProactorLikePolicy(asyncio.DefaultEventLoopPolicy):
    """Makes :class:`ProactorLike` loops (``asyncio.run`` asks the policy)."""

    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        return ProactorLike()


def simulate() -> RefusePosixOnly:
    """Take away what Windows lacks, from now on in this process."""
    finder = RefusePosixOnly()
    sys.meta_path.insert(0, finder)
    for name in POSIX_ONLY_MODULES:
        sys.modules.pop(name, None)
    for name in POSIX_ONLY_OS:
        if hasattr(os, name):
            delattr(os, name)
    asyncio.set_event_loop_policy(ProactorLikePolicy())
    return finder


def main(argv: list[str]) -> None:
    module, *args = argv
    finder = simulate()
    atexit.register(
        lambda: print(
            f"windowsish: refused {' '.join(sorted(set(finder.refused))) or '-'}",
            file=sys.stderr,
            flush=True,
        )
    )
    if module == "-c":
        sys.argv = ["-c", *args[1:]]
        exec(compile(args[0], "<string>", "exec"), {"__name__": "__main__"})
    else:
        sys.argv = [module, *args]
        runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
