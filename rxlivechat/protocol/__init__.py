"""The Sans-I/O core of the Customer Chat API v3.6: types, codec, session state.

Nothing here does I/O, reads a clock or imports asyncio, aiohttp or reactivex; the
SDK and the sandbox server share these types.

- :mod:`.base`: the base classes and the ``METHODS`` / ``PUSHES`` catalogues.
- :mod:`.frames`: the frame envelopes (request, response, error, push).
- :mod:`.models`: the data structures (events, users, chats, threads...).
- :mod:`.methods`: one Struct per action, naming its result type.
- :mod:`.pushes`: one Struct per push.
- :mod:`.codec`: bytes ⇄ typed frames.
- :mod:`.session`: the session state, request ids and the requests in flight.
- :mod:`.versions`: the API versions spoken, and what each adds or drops.
"""

from . import methods, models, pushes
from .base import (
    METHODS,
    PUSHES,
    EmptyResult,
    Method,
    Model,
    PushPayload,
    Ticket,
    Timestamp,
)
from .codec import (
    decode,
    decode_frame,
    decode_request,
    encode,
    encode_frame,
    encode_request,
)
from .frames import (
    API_VERSION,
    ErrorBody,
    ErrorResponse,
    Frame,
    Push,
    Request,
    Response,
)
from .session import Session, State

__all__ = [
    "API_VERSION",
    "METHODS",
    "PUSHES",
    "EmptyResult",
    "ErrorBody",
    "ErrorResponse",
    "Frame",
    "Method",
    "Model",
    "Push",
    "PushPayload",
    "Request",
    "Response",
    "Session",
    "State",
    "Ticket",
    "Timestamp",
    "decode",
    "decode_frame",
    "decode_request",
    "encode",
    "encode_frame",
    "encode_request",
    "methods",
    "models",
    "pushes",
]
