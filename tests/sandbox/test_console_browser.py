"""The agent console in a real browser: a person answers a customer through the page.

Playwright for Python drives Debian's ``chromium`` (never a downloaded browser);
the customer is our SDK connected to the sandbox. Skipped, with the reason, where
playwright or ``/usr/bin/chromium`` is missing (``.ci/run`` installs chromium).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from rxlivechat import Message
from rxlivechat.sandbox import Sandbox

from ..helpers import Recorder, connect

try:
    from playwright.async_api import Page, async_playwright, expect
except ImportError:  # pragma: no cover - the dev extra installs it
    HAVE_PLAYWRIGHT = False
else:
    HAVE_PLAYWRIGHT = True

CHROMIUM = Path("/usr/bin/chromium")
WAIT_MS = 15_000  # how long the page may take to show something (a busy machine)
FLAGS = [
    "--headless",
    "--no-sandbox",  # needed as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.skipif(
        not HAVE_PLAYWRIGHT,
        reason="playwright is not installed (pip install -e '.[dev]')",
    ),
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no browser: {CHROMIUM} is missing (apt-get install chromium)",
    ),
    pytest.mark.slow,
]


@pytest.fixture
async def page(tmp_path: Path) -> AsyncIterator[Page]:
    """A page of a fresh headless chromium (its own profile in ``tmp_path``).

    The test fails if the page logs an error or throws (a refused request, a
    Content-Security-Policy violation, a script error).
    """
    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch_persistent_context(
            tmp_path / "profile",
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1100, "height": 680},
        )
        try:
            page = await browser.new_page()
            page.set_default_timeout(WAIT_MS)
            expect.set_options(timeout=WAIT_MS)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on(
                "console",
                lambda message: (
                    errors.append(message.text) if message.type == "error" else None
                ),
            )
            yield page
        finally:
            await browser.close()
    assert errors == []


async def test_a_person_answers_a_customer_through_the_console(
    sandbox: Sandbox, page: Page, tmp_path: Path
) -> None:
    sdk = connect(sandbox, customer={"name": "Ada Lovelace"})
    await sdk.wait_connected(timeout=10)
    customer = Recorder(sdk)

    await page.goto(sandbox.console.url)
    await expect(page.locator("#link")).to_have_text("live")
    await expect(page.locator("#no-chats")).to_be_visible()

    # The customer starts a chat: it shows in the list, live, and opens.
    chat = await sdk.start_chat([Message(text="Do you ship to Norway?")])
    item = page.locator(f'.chat-item[data-chat-id="{chat.id}"]')
    await expect(item.locator(".name")).to_have_text("Ada Lovelace")
    await expect(item).to_contain_text("Do you ship to Norway?")
    await item.click()
    events = page.locator("#events .event")
    await expect(events.last).to_contain_text("Do you ship to Norway?")
    await expect(page.locator("#chat-status")).to_have_text("active")

    # What the customer types shows as a sneak peek, in the chat and the list.
    sdk.set_sneak_peek(chat.id, "And to Oslo, by Friday")
    await expect(page.locator("#sneak-peek")).to_have_text(
        "Ada Lovelace is typing: And to Oslo, by Friday"
    )
    await expect(item.locator(".peek")).to_have_text("typing: And to Oslo, by Friday")
    await page.screenshot(path=tmp_path / "console.png")

    # The person types a reply (the customer sees them typing), and sends it.
    await page.locator("#reply").press_sequentially("Yes, in 3 to 5 days.")
    await customer.wait_for("user_is_typing")
    await page.locator("#send").click()
    await expect(page.locator("#reply")).to_have_value("")
    await expect(page.locator("#events .event.me").last).to_contain_text(
        "Yes, in 3 to 5 days."
    )

    # The customer's SDK got the agent's message as a new_event.
    agent_id = sandbox.console.agent.id
    await customer.wait_for("new_event", count=1)
    await asyncio.wait_for(_until_said(customer, agent_id, "Yes, in 3 to 5 days."), 10)
    await page.screenshot(path=tmp_path / "console-answered.png")

    # Closing from the page ends the customer's chat.
    await page.locator("#close").click()
    await customer.wait_for("thread_closed")
    await expect(page.locator("#reply")).to_be_disabled()
    await expect(item.locator(".badge")).to_have_text("closed")
    await sdk.destroy()


async def _until_said(recorder: Recorder, author_id: str, text: str) -> None:
    while text not in recorder.texts_by(author_id):
        await asyncio.sleep(0.01)


ATTACK = """<!doctype html>
<title>another site</title>
<script>
  window.settled = 0;
  const done = () => { window.settled += 1; };
  const img = new Image();
  img.onload = done;
  img.onerror = done;
  img.src = "CONSOLE/api/state";
  fetch("CONSOLE/api/state", {method: "POST", mode: "no-cors"}).then(done, done);
  fetch("CONSOLE/api/chats/CHAT/join", {
    method: "POST", mode: "no-cors", body: "{}",
  }).then(done, done);
  const ws = new WebSocket("CONSOLE/api/ws".replace("http", "ws"));
  ws.onclose = done;
</script>
"""


async def test_a_page_on_another_origin_cannot_turn_the_console_on(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """An ``<img>``, no-cors POSTs and a WebSocket from another origin: all refused.

    Before, the ``<img>``'s GET of ``api/state`` (no Origin sent) started the
    console, and its agent joined every waiting chat.
    """
    from aiohttp import web

    customer = sandbox.new_customer()
    chat_id = sandbox.seed_chat(customer.id, active=True)
    roster = dict(sandbox.store.agents)
    console = sandbox.console.url.rstrip("/")
    html = ATTACK.replace("CONSOLE", console).replace("CHAT", chat_id)

    async def attack(request: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", attack)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch_persistent_context(
                tmp_path / "profile",
                executable_path=CHROMIUM,
                headless=True,
                args=FLAGS,
            )
            try:
                page = await browser.new_page()
                await page.goto(f"http://127.0.0.1:{port}/")
                await page.wait_for_function("window.settled === 4", timeout=WAIT_MS)
            finally:
                await browser.close()
    finally:
        await runner.cleanup()
    await asyncio.sleep(0.3)  # a started console joins waiting chats at once
    assert sandbox.store.agents == roster
    assert sandbox.store.chats[chat_id].present == {customer.id}
