"""The Sans-I/O boundary: the protocol core imports no I/O or Rx library."""

from __future__ import annotations

import subprocess
import sys


def test_protocol_imports_no_asyncio_aiohttp_or_reactivex() -> None:
    probe = (
        "import sys, rxlivechat.protocol, rxlivechat.protocol.codec, "
        "rxlivechat.protocol.connection; "
        "print(','.join(sorted(m for m in ('asyncio', 'aiohttp', 'reactivex') "
        "if m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", _isolated(probe)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == ""


def _isolated(code: str) -> str:
    """Prefix ``code`` so ``rxlivechat`` is an empty package: no SDK imports run."""
    return (
        "import sys, types, importlib.util, pathlib\n"
        "spec = importlib.util.find_spec('rxlivechat')\n"
        "root = pathlib.Path(spec.origin).parent\n"
        "pkg = types.ModuleType('rxlivechat'); pkg.__path__ = [str(root)]\n"
        "sys.modules['rxlivechat'] = pkg\n" + code
    )
