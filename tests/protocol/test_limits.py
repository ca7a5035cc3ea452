"""One table of limits serves both sides: the client refuses, the sandbox refuses."""

from __future__ import annotations

import pytest

from rxlivechat.exceptions import InvalidArgumentError, ProtocolError
from rxlivechat.methods.validate import validate
from rxlivechat.protocol.codec import decode_request, encode_request
from rxlivechat.protocol.limits import LIMITS
from rxlivechat.protocol.methods import ListChats, ListThreads


@pytest.mark.parametrize(
    "method",
    [
        ListChats(limit=LIMITS.list_chats_max + 1),
        ListChats(limit=0),
        ListThreads(chat_id="C", limit=LIMITS.list_threads_max + 1),
        ListThreads(chat_id="C", min_events_count=LIMITS.min_events_count_max + 1),
    ],
)
def test_a_request_over_a_limit_is_refused_by_both_sides(method: object) -> None:
    with pytest.raises(InvalidArgumentError):  # the client, before sending
        validate(method)  # type: ignore[arg-type]
    with pytest.raises(ProtocolError):  # the server, decoding it
        decode_request(encode_request(method, "1"))  # type: ignore[arg-type]


def test_a_request_at_the_limits_passes_both_sides() -> None:
    method = ListThreads(
        chat_id="C",
        limit=LIMITS.list_threads_max,
        min_events_count=LIMITS.min_events_count_max,
    )
    validate(method)
    assert decode_request(encode_request(method, "1")).payload == method
