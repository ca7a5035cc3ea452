"""Which event loop a command runs on: uvloop when it is installed, else asyncio's.

The command line owns its process, so it may choose the loop; the library never
does (no loop policy is set anywhere: a program that imports rxlivechat keeps
the loop it chose). ``--no-uvloop`` keeps asyncio's loop even where uvloop is
installed (``pip install 'rxlivechat[speed]'``; no Windows build).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["loop_factory", "loop_options", "run"]

T = TypeVar("T")


def loop_options() -> argparse.ArgumentParser:
    """The ``--no-uvloop`` option, as a parent parser for each command."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--no-uvloop",
        dest="uvloop",
        action="store_false",
        help="run on asyncio's own event loop even if uvloop is installed "
        "(default: uvloop when installed)",
    )
    return options


def loop_factory(use_uvloop: bool) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The loop factory: uvloop's if wanted and installed, else ``None`` (asyncio's)."""
    if not use_uvloop:
        return None
    try:
        import uvloop
    except ImportError:  # not installed, or Windows (no build)
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T], *, use_uvloop: bool = True) -> T:
    """Run ``main`` to the end as ``asyncio.run`` does, on the loop chosen above.

    ``asyncio.Runner`` handles Ctrl-C as ``asyncio.run`` does (the main task is
    cancelled, its cleanup runs, then ``KeyboardInterrupt``), on either loop.
    """
    with asyncio.Runner(loop_factory=loop_factory(use_uvloop)) as runner:
        return runner.run(main)
