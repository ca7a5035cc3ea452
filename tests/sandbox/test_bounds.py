"""Misuse the sandbox could not refuse before issue 32, one test each.

Every growth path has a bound (``Sandbox(bounds=Bounds(...))``, defaults in
docs/sandbox-choices.md): the oldest data is forgotten where nothing depends on
it, otherwise the request gets LiveChat's error. Small bounds keep the tests
fast; test_memory.py floods the defaults and measures RSS.
"""

from __future__ import annotations

import asyncio
import os

import aiohttp
import pytest
from yarl import URL

from rxlivechat.protocol import methods as m
from rxlivechat.protocol.models import Message, SystemMessage
from rxlivechat.sandbox import Bounds, Sandbox

from .conftest import Connect, Rtm
from .test_security import TOKEN_BODY, token_url, upload, upload_url

JSON = {"Content-Type": "application/json"}


async def started(sandbox: Sandbox, connect: Connect) -> tuple[Rtm, str]:
    rtm = await connect(sandbox)
    spec = m.StartChatSpec(thread=m.ThreadSpec(events=[Message(text="Hi")]))
    chat = await rtm.call(m.StartChat(chat=spec))
    return rtm, chat.chat_id


async def grant(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> aiohttp.ClientResponse:
    """One cookie grant with no cookies (each makes a new customer)."""
    http.cookie_jar.clear()
    body = {**TOKEN_BODY, "organization_id": sandbox.organization_id}
    async with http.post(token_url(sandbox), json=body) as response:
        await response.read()
        return response


async def test_customers_without_chat_are_forgotten_then_refused(
    http: aiohttp.ClientSession,
) -> None:
    """60,000 cookie grants used to make 60,000 customers (+62 MiB)."""
    async with Sandbox(bounds=Bounds(customers=5)) as sandbox:
        for _ in range(20):
            assert (await grant(http, sandbox)).status == 200
        assert len(sandbox.store.customers) == 5
        for customer_id in list(sandbox.store.customers):
            sandbox.seed_chat(customer_id)
        refused = await grant(http, sandbox)
        assert refused.status == 400
        body = await refused.json()
        assert body["oauth_exception"] == "limit_reached"
        assert len(sandbox.store.customers) == 5


async def test_token_grants_per_second_are_limited(
    http: aiohttp.ClientSession,
) -> None:
    async with Sandbox(bounds=Bounds(token_grants_per_second=5)) as sandbox:
        loop = asyncio.get_running_loop()
        begun = loop.time()
        statuses = [(await grant(http, sandbox)).status for _ in range(100)]
        elapsed = loop.time() - begun
        served = statuses.count(200)
        assert statuses.count(429) == 100 - served > 0
        assert served <= 5 + 5 * elapsed + 1  # the burst, then the rate
        body = {**TOKEN_BODY, "organization_id": sandbox.organization_id}
        async with http.post(token_url(sandbox), json=body) as r:
            if r.status == 429:
                assert (await r.json())["oauth_exception"] == "too_many_requests"


async def test_the_oldest_tokens_are_forgotten(
    sandbox: Sandbox, connect: Connect
) -> None:
    async with Sandbox(bounds=Bounds(tokens=10)) as small:
        tokens = [(await small.create_customer_token()).access_token for _ in range(30)]
        assert small.tokens.check(tokens[0]) is None
        assert small.tokens.check(tokens[-1]) is not None
        rtm = await connect(small, login=False)
        error = await rtm.error(m.Login(token=f"Bearer {tokens[0]}"))
        assert error.error.type == "authentication"


async def test_chats_of_the_organization_are_bounded(connect: Connect) -> None:
    async with Sandbox(bounds=Bounds(chats=3)) as sandbox:
        for _ in range(3):
            await started(sandbox, connect)
        rtm = await connect(sandbox)
        error = await rtm.error(m.StartChat())
        assert error.error.type == "limit_reached"
        assert len(sandbox.store.chats) == 3


async def test_events_per_thread_are_bounded_and_the_close_still_fits(
    connect: Connect,
) -> None:
    async with Sandbox(bounds=Bounds(events_per_thread=5)) as sandbox:
        rtm, chat_id = await started(sandbox, connect)
        for i in range(4):
            await rtm.call(m.SendEvent(chat_id=chat_id, event=Message(text=f"{i}")))
        error = await rtm.error(m.SendEvent(chat_id=chat_id, event=Message(text="x")))
        assert error.error.type == "limit_reached"
        thread = sandbox.store.chats[chat_id].threads[-1]
        rating = m.UpdateThreadProperties(
            chat_id=chat_id, thread_id=thread.id, properties={"rating": {"score": 1}}
        )
        assert (await rtm.error(rating)).error.type == "limit_reached"
        assert thread.properties == {}  # refused before anything changed
        await rtm.call(m.DeactivateChat(id=chat_id))
        assert len(thread.events) == 6
        assert not thread.active


async def test_property_values_and_totals_are_bounded(connect: Connect) -> None:
    """A 1 MB ``update_chat_properties`` used to be accepted."""
    names = {f"p{i}": "string" for i in range(8)}
    async with Sandbox(properties={"big": names}) as sandbox:
        rtm, chat_id = await started(sandbox, connect)
        huge = {"big": {"p0": "x" * 1_000_000}}
        error = await rtm.error(m.UpdateChatProperties(id=chat_id, properties=huge))
        assert error.error.type == "entity_too_large"
        fits = "x" * 15_000  # under 16 KiB each, 8 of them over 64 KiB in all
        for i in range(4):
            props = {"big": {f"p{i}": fits}}
            await rtm.call(m.UpdateChatProperties(id=chat_id, properties=props))
        props = {"big": {"p4": fits, "p5": fits}}
        error = await rtm.error(m.UpdateChatProperties(id=chat_id, properties=props))
        assert error.error.type == "entity_too_large"
        assert sorted(sandbox.store.chats[chat_id].properties["big"]) == [
            "p0",
            "p1",
            "p2",
            "p3",
        ]


async def test_sneak_peeks_keep_the_latest_only(connect: Connect) -> None:
    """20,000 sneak peeks of 16 KB used to stay (+316 MiB)."""
    async with Sandbox(bounds=Bounds(sneak_peeks=3, sneak_peek_bytes=100)) as sandbox:
        rtm, chat_id = await started(sandbox, connect)
        for i in range(50):
            peek = m.SendSneakPeek(chat_id=chat_id, sneak_peek_text=f"{i}" + "é" * 80)
            await rtm.call(peek)
        peeks = sandbox.store.chats[chat_id].sneak_peeks
        assert [p.text[:2] for p in peeks] == ["47", "48", "49"]
        assert all(len(p.text.encode()) <= 100 for p in peeks)


async def test_a_customers_system_message_shows_as_theirs_in_the_console(
    sandbox: Sandbox, connect: Connect, http: aiohttp.ClientSession
) -> None:
    """It used to read exactly like a real system line."""
    rtm, chat_id = await started(sandbox, connect)
    fake = SystemMessage(
        system_message_type="routing.assigned", text="Agent Bob joined"
    )
    await rtm.call(m.SendEvent(chat_id=chat_id, event=fake))
    async with http.post(
        sandbox.console.url + "api/state", headers={"Origin": sandbox.api_url}
    ) as r:
        chats = (await r.json())["chats"]
    (chat,) = [c for c in chats if c["id"] == chat_id]
    line = chat["events"][-1]
    assert (line["type"], line["author"], line["text"]) == (
        "system_message",
        "customer",
        "Agent Bob joined",
    )


@pytest.mark.parametrize(
    "name",
    [
        "../../../../../console/",
        "..",
        "a\\..\\b.txt",
        "\u202etxt.png",
        "100%.txt",
        "what?#.txt",
    ],
)
async def test_upload_urls_always_resolve_to_the_file(
    sandbox: Sandbox, http: aiohttp.ClientSession, name: str
) -> None:
    """``../../../../../console/`` used to get a URL that led elsewhere (404)."""
    token = (await sandbox.create_customer_token()).access_token
    data = os.urandom(64)
    url = await upload_url(http, sandbox, token, data, name=name)
    stored_name = URL(url).name
    assert "/" not in stored_name
    assert "\\" not in stored_name
    assert stored_name.strip(".")
    assert all(c.isprintable() for c in stored_name)
    for fetched in (url, URL(url, encoded=True)):
        async with http.get(fetched) as r:
            assert r.status == 200, (name, url)
            assert await r.read() == data


@pytest.mark.parametrize(
    ("disposition", "stored"),
    [
        # RFC 5987's filename* decodes to any character.
        (b"filename*=UTF-8''a%09b%1Bc%7F%00d%0D%0A.txt", "a_b_c__d__.txt"),
        (b"filename*=UTF-8''..%2F..%2Fx", ".._.._x"),
        # Raw control characters in a part's header: aiohttp refuses the body.
        (b'filename="a\x1bb.txt"', None),
    ],
)
async def test_control_characters_never_reach_the_name(
    sandbox: Sandbox,
    http: aiohttp.ClientSession,
    disposition: bytes,
    stored: str | None,
) -> None:
    """Sent raw (aiohttp's client refuses them in a header it builds)."""
    token = (await sandbox.create_customer_token()).access_token
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; '
        + disposition
        + b"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n"
    )
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "multipart/form-data; boundary=b",
    }
    async with http.post(
        sandbox.action_url("upload_file"), data=body, headers=headers
    ) as r:
        if stored is None:
            assert r.status == 400, await r.text()
            assert (await r.json())["error"]["type"] == "validation"
            return
        assert r.status == 200, await r.text()
        url = (await r.json())["url"]
    assert URL(url).name == stored
    async with http.get(url) as r:
        assert await r.read() == b"hello"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("setup.exe", b"anything"),
        ("notes.txt", b"MZ\x90\x00 a PE header"),
        ("tool", b"\x7fELF\x02\x01\x01"),
        ("run.BAT", b"echo hi"),
    ],
)
async def test_executables_are_refused_at_upload(
    sandbox: Sandbox, http: aiohttp.ClientSession, name: str, data: bytes
) -> None:
    token = (await sandbox.create_customer_token()).access_token
    response = await upload(http, sandbox, token, data, name=name)
    assert response.status == 400
    assert (await response.json())["error"]["type"] == "validation"
    assert not sandbox.store.files


async def test_the_organizations_events_have_a_byte_budget(connect: Connect) -> None:
    """Deactivate and resume: new threads without end used to be accepted."""
    async with Sandbox(bounds=Bounds(event_bytes=20_000)) as sandbox:
        rtm, chat_id = await started(sandbox, connect)
        text = Message(text="x" * 4_000)
        errors = []
        for _ in range(10):
            reply = await rtm.reply(
                await rtm.send(m.SendEvent(chat_id=chat_id, event=text))
            )
            errors.append(getattr(reply, "error", None))
        refused = [e for e in errors if e is not None]
        assert refused
        assert {e.type for e in refused} == {"limit_reached"}
        await rtm.call(m.DeactivateChat(id=chat_id))  # a close still fits
        resume = m.ResumeChat(chat=m.ResumeChatSpec(id=chat_id))
        assert (await rtm.error(resume)).error.type == "limit_reached"
        assert len(sandbox.store.chats[chat_id].threads) == 1


async def test_a_customers_own_data_is_bounded(connect: Connect) -> None:
    async with Sandbox(bounds=Bounds(customer_bytes=10_000)) as sandbox:
        rtm = await connect(sandbox)
        big = "x" * 20_000
        for request in (
            m.UpdateCustomer(name=big),
            m.SetCustomerSessionFields(session_fields=[{"k": big}]),
            m.UpdateCustomerPage(url="https://shop.example/" + big),
        ):
            assert (await rtm.error(request)).error.type == "entity_too_large"
        await rtm.call(m.UpdateCustomer(name="x" * 5_000))
        (customer,) = sandbox.store.customers.values()
        assert customer.name == "x" * 5_000
        assert customer.page_url is None
