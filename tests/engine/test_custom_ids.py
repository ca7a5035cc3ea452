"""The custom_ids the SDK gives (engine/outgoing.py): never twice, forks included."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from rxlivechat.engine.outgoing import new_custom_id

# A single-threaded child forks; parent and grandchild each print their next id.
_FORKING = """
import os, sys
from rxlivechat.engine.outgoing import new_custom_id
new_custom_id()
pid = os.fork()
os.write(1, (new_custom_id() + "\\n").encode())  # one write: no interleaving
if pid:
    os.waitpid(pid, 0)
else:
    os._exit(0)
"""


def test_ids_are_unique_in_a_process() -> None:
    ids = [new_custom_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("rx-") for i in ids)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_draws_its_own_prefix() -> None:
    # The child inherits the counter: with the parent's prefix, its next id
    # would be the very one the parent gives next.
    out = subprocess.run(
        [sys.executable, "-c", _FORKING],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    assert len(out) == 2
    assert out[0] != out[1]
    assert out[0].rpartition("-")[0] != out[1].rpartition("-")[0]
