"""The SDK on API v3.5, v3.6 and v3.7 against the sandbox, and JS SDK v5's additions.

Per version: the socket's path, the shape of ``list_chats`` (``chats_summary``,
or v3.7's ``chats_info``), the v1 ``get_chats_summary`` and the ``connected``
summary in every version, actions a version lacks refused before anything is
sent, and v3.5's ``Legacy`` header logged once. Then v5's ``tab_id`` and
``identity_changed``, and the ``customer_page_updated`` push it dropped.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
import pytest

import rxlivechat
from rxlivechat import (
    CustomerSDK,
    FilledForm,
    InvalidArgumentError,
    Message,
    RichMessage,
    Token,
)
from rxlivechat.engine import web
from rxlivechat.events import Connected, IdentityChanged
from rxlivechat.protocol import methods as m
from rxlivechat.protocol.models import EcommerceOption, RichMessageEcommerce
from rxlivechat.protocol.pushes import IncomingWelcomeMessage
from rxlivechat.sandbox import Sandbox

from ..helpers import Recorder, connect, until

VERSIONS = ("3.5", "3.6", "3.7")


async def logged_in(sandbox: Sandbox, version: str, **options: Any) -> CustomerSDK:
    sdk = connect(sandbox, api_version=version, **options)
    await sdk.wait_connected(timeout=10)
    return sdk


def socket_versions(sandbox: Sandbox) -> list[str]:
    return [connection.version for connection in sandbox.connections]


@pytest.mark.parametrize("version", VERSIONS)
async def test_list_chats_takes_each_versions_shape(
    sandbox: Sandbox, version: str
) -> None:
    sdk = await logged_in(sandbox, version)
    assert sdk.api_version == version
    assert socket_versions(sandbox) == [version]
    chat = await sdk.start_chat()
    assert chat.thread is not None
    await sdk.send_event(chat.id, Message(text="hello"))
    page = await sdk.list_chats()
    assert page.total_chats == 1
    request = sandbox.requests.of("list_chats")[-1]
    assert request.payload == m.ListChats()  # the same request in every version
    if version == "3.7":
        assert isinstance(page, m.ListChatsInfoResult)
        (info,) = page.chats_info
        last = info.last_thread_info
        assert last is not None
        assert (info.id, last.id, info.active) == (chat.id, chat.thread.id, True)
        newest = (last.last_event_per_type or {})["message"].event
        assert isinstance(newest, Message)
        assert newest.text == "hello"
        summary = m.chats_summary_of(page)  # the v3.6 shape, from it
        assert summary.chats_summary[0].last_thread_id == chat.thread.id
    else:
        assert isinstance(page, m.ListChatsResult)
        assert page.chats_summary[0].last_thread_id == chat.thread.id
    # The v1 form is the same in every version.
    v1 = await sdk.get_chats_summary()
    assert [c.id for c in v1.chats_summary] == [chat.id]
    assert v1.chats_summary[0].last_events_per_type is not None
    newest_v1 = v1.chats_summary[0].last_events_per_type["message"]
    assert isinstance(newest_v1, Message)
    assert newest_v1.text == "hello"
    assert sdk._active_chats[chat.id] is True


@pytest.mark.parametrize("version", VERSIONS)
async def test_the_login_summary_is_read_in_every_version(
    sandbox: Sandbox, version: str
) -> None:
    first = await logged_in(sandbox, version)
    chat = await first.start_chat()
    await first.send_event(chat.id, Message(text="before the drop"))
    seen = Recorder(first)
    await sandbox.drop_connections()
    (restored,) = await seen.wait_for("connection_restored")
    assert isinstance(restored, Connected)
    assert [c.id for c in restored.chats_summary] == [chat.id]
    assert restored.total_chats == 1


@pytest.mark.sandbox(agents=[])  # Jane is the only agent online
async def test_get_predicted_agent_is_refused_on_3_7_before_sending(
    sandbox: Sandbox,
) -> None:
    sandbox.agent("Jane")
    sdk = await logged_in(sandbox, "3.7")
    with pytest.raises(InvalidArgumentError, match="request_welcome_message"):
        sdk.get_predicted_agent()
    with pytest.raises(InvalidArgumentError, match=r"removed in API v3\.7"):
        sdk.call(m.GetPredictedAgent())
    with pytest.raises(InvalidArgumentError, match="request_welcome_message"):
        sdk.web_call(m.GetPredictedAgent())
    assert sandbox.count("get_predicted_agent") == 0
    # Its replacement, and the push it causes, typed.
    seen = Recorder(sdk)
    result = await sdk.request_welcome_message()
    (welcome,) = await seen.wait_for("incoming_welcome_message")
    assert isinstance(welcome, IncomingWelcomeMessage)
    assert welcome.id == result.id


@pytest.mark.sandbox(agents=[])
async def test_get_predicted_agent_still_works_on_3_6(sandbox: Sandbox) -> None:
    jane = sandbox.agent("Jane")
    sdk = await logged_in(sandbox, "3.6")
    assert (await sdk.get_predicted_agent()).id == jane.id


async def test_3_6_actions_are_refused_on_3_5_before_sending(
    sandbox: Sandbox,
) -> None:
    sdk = await logged_in(sandbox, "3.5")
    for make in (
        lambda: sdk.request_welcome_message(),
        lambda: sdk.delete_event("C", "T", "E"),
        lambda: sdk.send_greeting_button_clicked("g", "b"),
    ):
        with pytest.raises(InvalidArgumentError, match=r"not in API v3\.5"):
            make()
    assert sandbox.count("request_welcome_message") == 0


@pytest.fixture
def warned(monkeypatch: pytest.MonkeyPatch) -> set[tuple[str, str]]:
    """The process's legacy warnings, as if none had been logged yet."""
    fresh: set[tuple[str, str]] = set()
    monkeypatch.setattr(web, "_warned", fresh)
    return fresh


async def test_3_5_is_legacy_and_says_so_once(
    sandbox: Sandbox,
    caplog: pytest.LogCaptureFixture,
    warned: set[tuple[str, str]],
) -> None:
    caplog.set_level(logging.WARNING, logger="rxlivechat")
    sdk = await logged_in(sandbox, "3.5")
    assert sandbox.count(transport="web") == 0
    assert warned == {("3.5", "2027-02-07")}  # read from the socket's handshake
    await sandbox.drop_connections()
    await until(lambda: len(sandbox.connections) == 1 and sdk.connected)
    await sdk.wait_connected(timeout=10)
    await sdk.get_dynamic_configuration()  # a Web API reply carries it too
    await logged_in(sandbox, "3.5")  # another customer, the same process
    warnings = [r for r in caplog.records if "legacy" in r.getMessage()]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert warnings[0].levelno == logging.WARNING
    assert "v3.5" in warnings[0].getMessage()
    assert "2027-02-07" in warnings[0].getMessage()
    assert warned == {("3.5", "2027-02-07")}


async def test_no_legacy_warning_on_3_6_or_3_7(
    sandbox: Sandbox,
    caplog: pytest.LogCaptureFixture,
    warned: set[tuple[str, str]],
) -> None:
    caplog.set_level(logging.WARNING, logger="rxlivechat")
    for version in ("3.6", "3.7"):
        sdk = await logged_in(sandbox, version)
        await sdk.get_dynamic_configuration()
    assert not [r for r in caplog.records if "legacy" in r.getMessage()]


@pytest.mark.parametrize("bad", ["3.4", "3.8", 3.6, "", None])
async def test_an_unknown_api_version_is_refused_at_init(bad: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="api_version must be one of"):
        rxlivechat.init(
            organization_id="o",
            client_id="c",
            api_version=bad,
            auto_connect=False,
        )


# JS Customer SDK v5's additions ------------------------------------------------------


async def test_tab_id_is_sent_at_login_only_when_given(sandbox: Sandbox) -> None:
    await logged_in(sandbox, "3.6", tab_id="tab-7f3a")
    await logged_in(sandbox, "3.6")
    with_tab, without = sandbox.requests.of("login")
    assert with_tab.payload.tab_id == "tab-7f3a"
    assert without.payload.tab_id is None
    assert "tab_id" not in msgspec.to_builtins(without.payload)
    with pytest.raises(InvalidArgumentError, match="tab_id"):
        connect(sandbox, tab_id="")


async def test_identity_changed_when_a_refreshed_token_names_another_customer(
    sandbox: Sandbox,
) -> None:
    tokens: list[Token] = []

    async def provider() -> Token:  # the second token is another customer's
        if len(tokens) < 2:
            issued = await sandbox.create_customer_token()
            tokens.append(
                Token(access_token=issued.access_token, entity_id=issued.entity_id)
            )
        return tokens[-1]

    sdk = connect(sandbox, token_provider=provider)
    await sdk.wait_connected(timeout=10)
    first = sdk.customer_id
    chat = await sdk.start_chat()
    seen = Recorder(sdk)
    await sandbox.drop_connections()
    (changed,) = await seen.wait_for("identity_changed")
    assert isinstance(changed, IdentityChanged)
    assert changed.previous_id == first
    assert changed.new_id == tokens[1].entity_id != first
    assert sdk.customer_id == changed.new_id
    (restored,) = await seen.wait_for("connection_restored")
    assert restored.customer_id == changed.new_id
    assert restored.chats_summary == []  # the new customer has no chat
    assert chat.id not in sdk._active_chats  # the old one's were forgotten
    assert seen.names().index("identity_changed") < seen.names().index(
        "connection_restored"
    )


async def test_no_identity_changed_when_the_customer_stays(sandbox: Sandbox) -> None:
    sdk = await logged_in(sandbox, "3.6")
    seen = Recorder(sdk)
    await sandbox.drop_connections()
    await seen.wait_for("connection_restored")
    assert seen.of("identity_changed") == []


async def test_a_customer_page_updated_push_is_still_accepted(
    sandbox: Sandbox,
) -> None:
    # Dropped from v3.6 and from JS SDK v5; a v3.5 server may still send it.
    sdk = await logged_in(sandbox, "3.5")
    seen = Recorder(sdk)
    await sandbox.send_raw(
        b'{"action":"customer_page_updated","type":"push","version":"3.5",'
        b'"payload":{"url":"https://example.com/","title":"Home",'
        b'"opened_at":"2026-12-08T02:00:00.000000Z"}}'
    )
    (page,) = await seen.wait_for("customer_page_updated")
    assert page["url"] == "https://example.com/"
    assert seen.of("error") == []
    assert sdk.connected


async def test_v5_event_shapes_arrive_typed(sandbox: Sandbox) -> None:
    """The ecommerce template, ``form_type`` and the reason a user left."""
    sdk = await logged_in(sandbox, "3.6")
    jane = sandbox.agent("Jane")
    chat = await sdk.start_chat()
    await jane.join(chat.id)
    seen = Recorder(sdk)
    await jane.send_event(
        chat.id,
        {
            "type": "rich_message",
            "template_id": "ecommerce",
            "elements": [
                {
                    "title": "Trail shoe",
                    "ecommerce": {
                        "view_type": "swatch",
                        "product_id": "shoe-1",
                        "options": [
                            {"option_id": "red-42", "label": "Red", "price": 89.5}
                        ],
                        "addons": [{"addon_type": "price_range", "range_from": 80}],
                    },
                }
            ],
        },
    )
    await jane.send_event(
        chat.id,
        {
            "type": "filled_form",
            "form_id": "post-1",
            "form_type": "postchat",
            "fields": [{"type": "question", "id": "q", "label": "Q", "answer": "ok"}],
        },
    )
    first, second = await seen.wait_for("new_event", 2)
    rich, form = first.event, second.event
    assert isinstance(rich, RichMessage)
    assert rich.template_id == "ecommerce"
    assert rich.elements is not None
    ecommerce = rich.elements[0].ecommerce
    assert isinstance(ecommerce, RichMessageEcommerce)
    assert ecommerce.options is not None
    assert ecommerce.options[0] == EcommerceOption(
        option_id="red-42", label="Red", price=89.5
    )
    assert isinstance(form, FilledForm)
    assert form.form_type == "postchat"
    await jane.leave(chat.id)
    (left,) = await seen.wait_for("user_left_chat")
    assert (left.user, left.reason) == (jane.id, "manual")
