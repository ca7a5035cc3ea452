"""rxlivechat with recording on (issue 25): the ``rx`` scenarios, each customer
recording its session to a cassette.

This process (one per measurement) makes ``rxlivechat.init`` record to a file in
a temporary folder, then runs ``rx``'s own scenario functions unchanged, so the
only difference from the ``rx`` column is the recording.
"""

from __future__ import annotations

import atexit
import itertools
import os
import tempfile
from typing import Any

import rxlivechat

from . import rx

__all__ = ["e2e_seq", "pushes", "seq"]

_folder = tempfile.TemporaryDirectory(prefix="rxlivechat-bench-")
atexit.register(_folder.cleanup)
_numbers = itertools.count(1)
_init = rxlivechat.init


def _recording_init(**options: Any) -> rxlivechat.CustomerSDK:
    path = os.path.join(_folder.name, f"session-{next(_numbers)}.jsonl")
    return _init(**options, record=path)


rxlivechat.init = _recording_init  # (this process only)

seq = rx.seq
e2e_seq = rx.e2e_seq
pushes = rx.pushes
