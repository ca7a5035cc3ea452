"""The blocking outbox (rxlivechat/sync_outbox.py) from a plain thread."""

from __future__ import annotations

from pathlib import Path

import pytest

import rxlivechat
from rxlivechat import Message
from rxlivechat.exceptions import InvalidArgumentError
from rxlivechat.sync import Sandbox
from rxlivechat.sync_outbox import SyncOutbox


def test_put_blocks_until_queued_and_drain_until_sent(tmp_path: Path) -> None:
    with (
        Sandbox() as sandbox,
        rxlivechat.connect_sync(
            organization_id=sandbox.organization_id,
            client_id="test-client",
            api_url=sandbox.api_url,
            accounts_url=sandbox.accounts_url,
            store=str(tmp_path / "store.db"),
        ) as sdk,
    ):
        outbox = sdk.outbox
        assert isinstance(outbox, SyncOutbox)
        chat = sdk.start_chat()
        seen: list[str] = []
        outbox.results.subscribe(lambda result: seen.append(result[0].custom_id))
        entries = [
            outbox.put(chat.id, Message(text=f"s{i}", custom_id=f"s-{i}"))
            for i in range(5)
        ]
        assert [e.state for e in entries] == ["queued"] * 5
        outbox.drain(timeout=30)
        assert outbox.pending == 0
        assert seen == [f"s-{i}" for i in range(5)]
        assert "SQLite file" in repr(outbox)
        with pytest.raises(InvalidArgumentError):
            outbox.put("", Message(text="x"))
        thread = sdk.get_chat(chat.id).thread
        assert thread is not None
        texts = [e.text for e in thread.events or () if isinstance(e, Message)]
        assert texts == [f"s{i}" for i in range(5)]
