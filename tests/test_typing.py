"""What mypy sees of the entry points: ``init``, ``on``/``once``, ``send_event``,
async and blocking (``rxlivechat.sync``: its generated stub).

One mypy run (the mypy API, ``--strict``) over a small user script; each line
tagged ``# [tag]`` is checked for what mypy revealed or refused there.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from mypy import api

SCRIPT = textwrap.dedent(
    """
    import rxlivechat
    import rxlivechat.protocol.methods
    import rxlivechat.sync
    from rxlivechat import Message, NewEvent

    def on_new(new: NewEvent) -> None: ...
    def on_text(text: str) -> None: ...
    def on_any(payload: object) -> None: ...

    async def main() -> None:
        sdk = rxlivechat.init(organization_id="o", client_id="c")
        reveal_type(sdk)  # [init]
        reveal_type(sdk.on("new_event", on_new))  # [on]
        # A lambda's parameter is the event's payload type:
        sdk.on("new_event", lambda new: new.event.id)
        sdk.on("connected", lambda c: c.chats_summary)
        sdk.on("error", lambda exc: exc.args)
        sdk.once("user_is_typing", lambda t: t.user)
        sdk.on("incoming_greeting", lambda g: g.anything)  # typed Any
        sdk.on("new_event", lambda new: new.customer_id)  # [lambda_attribute]
        sdk.on("connected", on_new)  # [wrong_event]
        name: rxlivechat.EventName = "new_event"
        sdk.on(name, on_any)  # a name known at run time, a handler of any payload
        reveal_type(sdk.send_event("C", Message(text="hi")))  # [send_event]
        reveal_type(await sdk.send_event("C", Message(text="hi")))  # [awaited]
        reveal_type(sdk.send_event("C", {"type": "message"}))  # [send_dict]
        rxlivechat.init(organization_id="o", clientId="typo")  # [typo]
        sdk.on("new_events", on_new)  # [unknown_name]
        sdk.on("new_event", on_text)  # [wrong_handler]

    def blocking(sdk: rxlivechat.sync.SyncCustomerSDK) -> None:
        reveal_type(sdk.start_chat(timeout=5))  # [sync_start_chat]
        reveal_type(sdk.send_event("C", Message(text="hi")))  # [sync_send_event]
        reveal_type(sdk.send_event("C", {"type": "message"}))  # [sync_send_dict]
        reveal_type(sdk.on("new_event", on_new))  # [sync_on]
        sdk.on("new_event", lambda new: new.event.id)
        sdk.once("user_is_typing", lambda t: t.user)
        sdk.on("new_event", on_text)  # [sync_wrong_handler]
        sdk.on("new_events", on_new)  # [sync_unknown_name]
        sdk.get_chat("C", timeout="soon")  # [sync_timeout]
        sdk.get_chat("C", chatId="typo")  # [sync_typo]
        reveal_type(sdk.call(rxlivechat.protocol.methods.GetCustomer()))  # [sync_call]

    def connecting() -> None:
        rxlivechat.connect_sync(organization_id="o", clientId="c")  # [sync_connect]
    """
)


@pytest.fixture(scope="module")
def mypy_says(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each tag's mypy messages, joined."""
    folder = tmp_path_factory.mktemp("typing")
    script = folder / "user_script.py"
    script.write_text(SCRIPT)
    out, err, _ = api.run(
        [
            "--strict",
            "--no-error-summary",
            "--cache-dir",
            str(Path(".mypy_cache").resolve()),
            "--config-file",
            "",
            str(script),
        ]
    )
    assert not err, err
    lines = SCRIPT.splitlines()
    said: dict[str, str] = {}
    for message in out.splitlines():
        found = re.match(r".*user_script\.py:(\d+): (.*)", message)
        assert found, message
        number, text = int(found[1]), found[2]
        tag = re.search(r"# \[(\w+)\]", lines[number - 1])
        assert tag, f"unexpected mypy message: {message}"
        said[tag[1]] = f"{said.get(tag[1], '')}{text}\n"
    return said


@pytest.mark.parametrize(
    ("tag", "revealed"),
    [
        ("init", "rxlivechat.sdk.CustomerSDK"),
        ("on", "reactivex.abc.disposable.DisposableBase"),
        ("send_event", "reactivex.observable.observable.Observable[rxlivechat"),
        ("awaited", "rxlivechat.protocol.models.Message"),
        ("sync_start_chat", "rxlivechat.protocol.models.Chat"),
        ("sync_send_event", "rxlivechat.protocol.models.Message"),
        ("sync_on", "reactivex.abc.disposable.DisposableBase"),
        ("sync_call", "rxlivechat.protocol.models.Customer"),
    ],
)
def test_revealed_types(mypy_says: dict[str, str], tag: str, revealed: str) -> None:
    assert f'Revealed type is "{revealed}' in mypy_says[tag], mypy_says[tag]


def test_send_event_is_typed_by_the_event_it_sends(mypy_says: dict[str, str]) -> None:
    assert "Observable[rxlivechat.protocol.models.Message]" in mypy_says["send_event"]
    # A plain dict could be any event: the whole union.
    assert "models.Message | rxlivechat.protocol.models.File" in mypy_says["send_dict"]
    # The blocking facade returns what the async one resolves to, as precisely.
    assert (
        "models.Message | rxlivechat.protocol.models.File"
        in mypy_says["sync_send_dict"]
    )


@pytest.mark.parametrize(
    ("tag", "refused"),
    [
        ("typo", 'Unexpected keyword argument "clientId" for "init"'),
        ("unknown_name", 'No overload variant of "on"'),
        ("wrong_handler", 'No overload variant of "on"'),
        ("wrong_event", 'No overload variant of "on"'),
        ("lambda_attribute", 'No overload variant of "on"'),
        ("sync_wrong_handler", 'No overload variant of "on"'),
        ("sync_unknown_name", 'No overload variant of "on"'),
        ("sync_timeout", 'Argument "timeout" to "get_chat"'),
        ("sync_typo", 'Unexpected keyword argument "chatId" for "get_chat"'),
        ("sync_connect", 'Unexpected keyword argument "clientId" for "connect_sync"'),
    ],
)
def test_mistakes_are_type_errors(
    mypy_says: dict[str, str], tag: str, refused: str
) -> None:
    assert "error:" in mypy_says.get(tag, ""), mypy_says
    assert refused in mypy_says[tag]
