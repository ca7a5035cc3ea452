"""Record a customer's session to a cassette, and check cassettes.

Record with ``rxlivechat.init(..., record="session.jsonl")`` (or a
:class:`Recording`, to redact user fields too); replay with
:meth:`rxlivechat.sandbox.Sandbox.replay`. The format is
:mod:`rxlivechat.protocol.cassette`; the guide is docs/howto/record-replay.md.
"""

from ..protocol.cassette import REDACTED, CassetteError, CassetteMismatch
from .recorder import Recorder, Recording, Redact, RedactFields

__all__ = [
    "REDACTED",
    "CassetteError",
    "CassetteMismatch",
    "Recorder",
    "Recording",
    "Redact",
    "RedactFields",
]
