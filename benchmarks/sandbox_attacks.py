"""The attacks of issues 14, 18 and 32 against a default ``Sandbox()``, with figures.

Not part of ``make bench``: run it alone (about a minute, mostly waiting out
the sandbox's timeouts) against this checkout, or against an older one to
compare (``PYTHONPATH=<old checkout> python benchmarks/sandbox_attacks.py``)::

    python benchmarks/sandbox_attacks.py [--frames 30] [--frame-mb 0.9]
        [--uploads 30] [--upload-mb 10] [--silent 200] [--wait 40]
        [--descriptors 1030] [--grants 20000] [--peeks 20000] [--only-32]

Prints one ``name: value`` line per measurement. The sandbox runs in this
process, so RSS is the sandbox's (plus the small raw clients').
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import os
import random
import resource
import socket
import sys
import time
import tracemalloc
from typing import Any

import aiohttp

from rxlivechat.protocol import methods as m
from rxlivechat.sandbox import Sandbox

MB = 1_000_000


def rss_mb() -> float:
    """This process's resident set size, in MB."""
    gc.collect()
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / MB
    return 0.0


def retained_mb() -> float:
    """MB still allocated from what was allocated since tracemalloc started."""
    gc.collect()
    return tracemalloc.get_traced_memory()[0] / MB


def report(name: str, value: Any) -> None:
    print(f"{name}: {value}", flush=True)


async def open_raw(port: int, rcvbuf: int | None = None) -> Any:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return await asyncio.open_connection(sock=sock)


async def still_open(reader: asyncio.StreamReader) -> bool:
    try:
        async with asyncio.timeout(0.01):
            return bool(await reader.read(1)) or not reader.at_eof()
    except TimeoutError:
        return True
    except ConnectionError:
        return False


def masked_text(payload: bytes) -> bytes:
    mask = os.urandom(4)
    size = len(payload)
    head = bytes([0x81, 0x80 | 126]) + size.to_bytes(2, "big")
    if size >= 1 << 16:
        head = bytes([0x81, 0x80 | 127]) + size.to_bytes(8, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def untemper(value: int) -> int:
    value ^= value >> 18
    value ^= (value << 15) & 0xEFC60000
    result = value
    for _ in range(5):
        result = value ^ ((result << 7) & 0x9D2C5680)
    value = result & 0xFFFFFFFF
    result = value
    for _ in range(3):
        result = value ^ (result >> 11)
    return result & 0xFFFFFFFF


async def flood_before_login(sandbox: Sandbox, frames: int, frame_mb: float) -> None:
    """Send big decodable frames on a socket that never logs in.

    A session of its own: what the client keeps of a refused frame (the
    exception's traceback holds it) goes with it.
    """
    frame = json.dumps(
        {
            "action": "send_event",
            "payload": {
                "chat_id": "X",
                "event": {"type": "message", "text": "x" * int(frame_mb * MB)},
            },
        }
    )
    async with aiohttp.ClientSession() as http:
        try:
            async with http.ws_connect(sandbox.ws_url, max_msg_size=0) as ws:
                for _ in range(frames):
                    await ws.send_str(frame)
                    reply = await ws.receive(timeout=10)
                    if reply.type is not aiohttp.WSMsgType.TEXT:
                        break
        except (aiohttp.ClientError, ConnectionError):  # refused: too big
            pass


async def descriptor_exhaustion(silent: int) -> None:
    """``silent`` idle connections to a sandbox limited to 1,024 descriptors.

    The sandbox runs as ``python -m rxlivechat sandbox`` in a child process (its
    descriptors are its own); can a new client still get a token?
    """

    def limit_descriptors() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))

    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rxlivechat",
        "sandbox",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        preexec_fn=limit_descriptors,
    )
    assert child.stdout is not None
    printed: dict[str, str] = {}
    while "access_token" not in printed:
        key, _, value = (await child.stdout.readline()).decode().partition(": ")
        printed[key] = value.strip()
    url = printed["api_url"]
    peers = [
        await asyncio.open_connection("127.0.0.1", int(url.rsplit(":", 1)[1]))
        for _ in range(silent)
    ]
    grant = {
        "grant_type": "cookie",
        "client_id": "c",
        "response_type": "token",
        "organization_id": printed["organization_id"],
    }
    try:
        async with (
            aiohttp.ClientSession() as http,
            asyncio.timeout(5),
            http.post(f"{url}/v2/customer/token", json=grant) as r,
        ):
            outcome = str(r.status)
    except TimeoutError:
        outcome = "timed out (5 s)"
    report(f"token_fetch_with_{silent}_silent_connections_1024_fds", outcome)
    for _, writer in peers:
        writer.close()
    child.terminate()
    await child.wait()


async def main(args: argparse.Namespace) -> None:
    async with Sandbox() as sandbox, aiohttp.ClientSession() as http:
        token = (await sandbox.create_customer_token()).access_token
        auth = {"Authorization": f"Bearer {token}"}
        token_url = f"{sandbox.accounts_url}/v2/customer/token"
        grant = {
            "grant_type": "cookie",
            "client_id": "c",
            "response_type": "token",
            "organization_id": sandbox.organization_id,
        }

        async def upload(data: bytes, **kw: Any) -> tuple[int, str]:
            form = aiohttp.FormData()
            form.add_field("file", data, filename="f.bin", **kw)
            async with http.post(
                sandbox.action_url("upload_file"), data=form, headers=auth
            ) as r:
                body = await r.json()
                return r.status, body.get("url", "")

        # Who gets in -------------------------------------------------------------
        async with http.post(token_url, json=grant) as r:
            victim = (await r.json())["entity_id"]
        async with http.post(token_url, json=grant, cookies={"__lc_cid": victim}) as r:
            got = (await r.json()).get("entity_id")
            report("cookie_grant_with_id_only_gets_victim", got == victim)
        async with http.post(
            token_url,
            json={**grant, "grant_type": "agent_token"},
            headers={"Authorization": "Bearer dal:bogus"},
        ) as r:
            report("bogus_agent_token_status", r.status)
        async with http.post(token_url, json={**grant, "expires_in": 10**15}) as r:
            report("expires_in_1e15_status", r.status)
        async with http.post(token_url, json={**grant, "expires_in": -5}) as r:
            report("expires_in_negative_status", r.status)
        status, url = await upload(b"<script>1</script>", content_type="text/html")
        async with http.get(url) as r:
            served = r.headers.get("Content-Type")
            disposition = r.headers.get("Content-Disposition", "inline")
            report("html_upload_served_as", f"{served} / {disposition}")
        foreign = "00000000-0000-4000-8000-000000000000"
        other = url.replace(sandbox.organization_id, foreign)
        async with http.get(other) as r:
            report("file_under_foreign_org_status", r.status)
        status, _ = await upload(b"+ADw-", content_type="text/plain; charset=utf-7")
        report("utf7_upload_status", status)
        if status == 200:
            async with http.get(_) as r:
                report("utf7_file_status", r.status)
        async with http.post(
            sandbox.action_url("get_customer"),
            json={},
            headers={**auth, "Host": f"evil.example:{sandbox.port}"},
        ) as r:
            report("foreign_host_status", r.status)
        try:
            async with http.ws_connect(sandbox.ws_url, origin="https://evil.example"):
                report("foreign_origin_websocket", "served")
        except aiohttp.WSServerHandshakeError as exc:
            report("foreign_origin_websocket", f"refused {exc.status}")

        # Predictable secrets: 156 file keys give the Mersenne Twister's state.
        keys = []
        for _ in range(156):
            keys.append((await upload(b"x"))[1].rsplit("/", 2)[1])
        words = [(int(k, 16) >> (32 * i)) & 0xFFFFFFFF for k in keys for i in range(4)]
        clone = random.Random()
        clone.setstate((3, (*(untemper(w) for w in words[-624:]), 624), None))
        predicted = f"{clone.getrandbits(128):032x}"
        actual = (await upload(b"x"))[1].rsplit("/", 2)[1]
        report("next_file_key_predicted", predicted == actual)

        # Memory: RSS (client included, never shrinks) and what stays allocated
        # once the attack's objects are gone (tracemalloc: the sandbox's share).
        base = rss_mb()
        tracemalloc.start()
        await flood_before_login(sandbox, args.frames, args.frame_mb)
        await asyncio.sleep(0.5)
        name = f"{args.frames}x{args.frame_mb}MB_frames_before_login"
        report(f"rss_after_{name}_MB", f"{base:.0f} -> {rss_mb():.0f}")
        report(f"retained_after_{name}_MB", f"{retained_mb():.1f}")
        tracemalloc.stop()
        base = rss_mb()
        tracemalloc.start()
        payload = os.urandom(int(args.upload_mb * MB))
        for _ in range(args.uploads):
            await upload(payload)
        for _ in range(3000):
            async with http.post(token_url, json=grant) as r:
                await r.read()
        del payload
        name = f"{args.uploads}x{args.upload_mb}MB_uploads_3000_tokens"
        report(f"rss_after_{name}_MB", f"{base:.0f} -> {rss_mb():.0f}")
        report(f"retained_after_{name}_MB", f"{retained_mb():.1f}")
        tracemalloc.stop()

        # Connections --------------------------------------------------------------
        peers = [await open_raw(sandbox.port) for _ in range(args.silent)]
        for i, (_, writer) in enumerate(peers):
            writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1" if i % 2 else b"")
        reader, writer = await open_raw(sandbox.port, rcvbuf=4096)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET /v3.6/customer/rtm/ws?organization_id={sandbox.organization_id} "
            f"HTTP/1.1\r\nHost: {sandbox.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        await reader.readuntil(b"\r\n\r\n")
        login = {"action": "login", "payload": {"token": f"Bearer {token}"}}
        writer.write(masked_text(json.dumps(login).encode().ljust(200)))
        await sandbox.wait_for_login()

        async def flood_all() -> None:
            big = {"t": "x" * 200_000}
            await asyncio.gather(*(sandbox.multicast(big) for _ in range(40)))

        flood = asyncio.create_task(flood_all())
        started = time.monotonic()
        await asyncio.sleep(args.wait)
        open_now = sum([await still_open(r) for r, _ in peers])
        report(
            f"silent_or_half_open_still_open_after_{args.wait}s",
            f"{open_now}/{args.silent}",
        )
        report(
            f"stuck_reader_connected_after_{args.wait}s",
            len(sandbox.sockets) > 0,  # closing ones too: still open
        )
        report("flood_finished", flood.done())
        async with asyncio.timeout(10), http.post(token_url, json=grant) as r:
            report("token_fetch_meanwhile_status", r.status)
        for _, w in [*peers, (reader, writer)]:
            w.close()
        flood.cancel()
        await asyncio.gather(flood, return_exceptions=True)
        report("elapsed_s", round(time.monotonic() - started, 1))
    if args.descriptors:
        await descriptor_exhaustion(args.descriptors)


async def issue_32(args: argparse.Namespace) -> None:
    """The misuse of issue 32: the console, token floods, sizes, names."""
    async with Sandbox() as sandbox, aiohttp.ClientSession() as http:
        customer = sandbox.new_customer()
        chat_id = sandbox.seed_chat(customer.id, active=True)
        roster = len(sandbox.store.agents)
        async with http.get(f"{sandbox.console.url}api/state") as r:
            await r.read()  # what an <img> on any page sends: no Origin
        await asyncio.sleep(0.3)
        report(
            "cross_site_get_console_state_started_console",
            len(sandbox.store.agents) != roster
            or len(sandbox.store.chats[chat_id].present) > 1,
        )
        grant = {
            "grant_type": "cookie",
            "client_id": "c",
            "organization_id": sandbox.organization_id,
        }
        base = rss_mb()
        started = time.monotonic()
        statuses: dict[int, int] = {}
        for _ in range(args.grants):
            http.cookie_jar.clear()
            async with http.post(
                f"{sandbox.accounts_url}/v2/customer/token", json=grant
            ) as r:
                await r.read()
                statuses[r.status] = statuses.get(r.status, 0) + 1
        seconds = time.monotonic() - started
        report(f"{args.grants}_cookie_grants_statuses", statuses)
        report(f"{args.grants}_cookie_grants_s", round(seconds, 1))
        report("customers_after_grants", len(sandbox.store.customers))
        report(f"rss_after_{args.grants}_grants_MB", f"{base:.0f} -> {rss_mb():.0f}")

        token = await sandbox.create_customer_token()
        auth = {"Authorization": f"Bearer {token.access_token}"}
        async with http.post(
            sandbox.action_url("start_chat"), json={}, headers=auth
        ) as r:
            own_chat = (await r.json())["chat_id"]
        big = {"id": own_chat, "properties": {"rating": {"comment": "x" * MB}}}
        async with http.post(
            sandbox.action_url("update_chat_properties"), json=big, headers=auth
        ) as r:
            report("1MB_update_chat_properties_status", r.status)
        base = rss_mb()
        peek = m.SendSneakPeek(chat_id=own_chat, sneak_peek_text="x" * 16_000)
        for _ in range(args.peeks):
            # A new string each time, as each request's text is.
            text = peek.sneak_peek_text[:-1] + "y"
            sandbox.handlers.handle(
                token.entity_id, m.SendSneakPeek(chat_id=own_chat, sneak_peek_text=text)
            )
        report(
            f"rss_after_{args.peeks}_16KB_sneak_peeks_MB",
            f"{base:.0f} -> {rss_mb():.0f}",
        )
        report("sneak_peeks_kept", len(sandbox.store.chats[own_chat].sneak_peeks))
        fake = {"type": "system_message", "system_message_type": "x", "text": "Bob"}
        async with http.post(
            sandbox.action_url("send_event"),
            json={"chat_id": own_chat, "event": fake},
            headers=auth,
        ) as r:
            report("customer_system_message_status", r.status)
        line = sandbox.console.chat(own_chat).events[-1]
        report("customer_system_message_shown_as", line.author)
        form = aiohttp.FormData()
        form.add_field("file", b"data", filename="../../../../../console/")
        async with http.post(
            sandbox.action_url("upload_file"), data=form, headers=auth
        ) as r:
            url = (await r.json())["url"]
        async with http.get(url) as r:
            report("traversal_named_upload_url_status", r.status)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--frame-mb", type=float, default=0.9)
    parser.add_argument("--uploads", type=int, default=30)
    parser.add_argument("--upload-mb", type=float, default=10)
    parser.add_argument("--silent", type=int, default=200)
    parser.add_argument("--wait", type=float, default=40)
    parser.add_argument("--descriptors", type=int, default=1030)
    parser.add_argument("--grants", type=int, default=20_000)
    parser.add_argument("--peeks", type=int, default=20_000)
    parser.add_argument("--only-32", action="store_true", help="issue 32's only")
    options = parser.parse_args()
    if not options.only_32:
        asyncio.run(main(options))
    asyncio.run(issue_32(options))
