"""The version table (rxlivechat/protocol/versions.py), pure."""

from __future__ import annotations

import pytest

from rxlivechat.exceptions import InvalidArgumentError
from rxlivechat.protocol import methods as m
from rxlivechat.protocol.base import Method
from rxlivechat.protocol.versions import (
    API_VERSIONS,
    check_api_version,
    for_version,
    knows_action,
    knows_push,
    missing_action,
)


def test_each_request_takes_the_struct_of_its_versions_reply() -> None:
    first = m.ListChats(limit=5, sort_order="asc")
    assert for_version(first, "3.6") is first
    assert for_version(first, "3.5") is first
    preview = for_version(first, "3.7")
    assert type(preview) is m.ListChatsInfo
    assert preview.result_type is m.ListChatsInfoResult
    assert (preview.limit, preview.sort_order) == (5, "asc")
    assert for_version(preview, "3.7") is preview
    back = for_version(preview, "3.6")  # a 3.7 Struct sent on 3.6
    assert type(back) is m.ListChats
    assert back == first
    other = m.GetChat(chat_id="C")
    assert all(for_version(other, v) is other for v in API_VERSIONS)


@pytest.mark.parametrize(
    ("version", "method", "words"),
    [
        ("3.7", m.GetPredictedAgent(), "use request_welcome_message instead"),
        ("3.5", m.RequestWelcomeMessage(), "not in API v3.5 (new in v3.6)"),
        ("3.5", m.DeleteEvent(chat_id="C", thread_id="T", event_id="E"), "v3.5"),
    ],
)
def test_an_action_the_version_lacks_is_refused_by_name(
    version: str, method: Method[object], words: str
) -> None:
    with pytest.raises(InvalidArgumentError) as refused:
        for_version(method, version)
    assert words in str(refused.value)
    assert method.action in str(refused.value)


def test_the_table() -> None:
    assert API_VERSIONS == ("3.5", "3.6", "3.7")
    assert knows_action("3.6", "get_predicted_agent")
    assert missing_action("3.6", "get_predicted_agent") is None
    assert not knows_action("3.7", "get_predicted_agent")
    assert knows_action("3.7", "request_welcome_message")
    assert not knows_push("3.5", "incoming_thinking_indicator")
    assert knows_push("3.7", "incoming_thinking_indicator")
    assert check_api_version("3.7") == "3.7"
    with pytest.raises(InvalidArgumentError):
        check_api_version("3.10")
