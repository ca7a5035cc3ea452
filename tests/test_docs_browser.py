"""The docs site in a real browser: the main pages at 1280 px, nothing clipped.

The site is built (``mkdocs build --strict``) into a temporary directory and served
on 127.0.0.1; Playwright for Python drives Debian's ``chromium`` (never a
downloaded browser) and screenshots each page into the test's ``tmp_path``.

What "nothing clipped" means here, at a 1280 px wide window:

- the page itself does not scroll sideways;
- no code block (diagrams are code blocks) needs a horizontal scrollbar: every
  line of every ``pre`` is visible. Material would let a wide block scroll; we
  decide that at 1280 px none may, so a diagram is never cut off;
- no image is wider than its column;
- the browser logs no error (a missing asset, a script error, a font fetched
  from another host).

Skipped, with the reason, where playwright or ``/usr/bin/chromium`` is missing
(``.ci/run`` installs chromium).
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

try:
    from playwright.async_api import Page, async_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    HAVE_PLAYWRIGHT = False
else:
    HAVE_PLAYWRIGHT = True

ROOT = Path(__file__).parent.parent
CHROMIUM = Path("/usr/bin/chromium")
WIDTH = 1280
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
PAGES = {
    "home": "",
    "concepts": "concepts/",
    "sdk-reference": "reference/sdk/",
    "js-sdk-mapping": "js-sdk-mapping/",
}

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

# Everything measured in one pass of the page's own layout.
_MEASURE = """() => {
  const clipped = (el) => el.scrollWidth > el.clientWidth;
  const column = document.querySelector('.md-content__inner');
  const columnRight = column.getBoundingClientRect().right;
  return {
    pageWidth: document.documentElement.scrollWidth,
    windowWidth: window.innerWidth,
    clippedCode: [...document.querySelectorAll('pre > code')]
      .filter(clipped)
      .map((code) => `${code.scrollWidth}px in ${code.clientWidth}px: `
        + code.textContent.split('\\n')
            .reduce((a, b) => (b.length > a.length ? b : a), '')),
    wideImages: [...document.querySelectorAll('.md-content img')]
      .filter((img) => img.getBoundingClientRect().right > columnRight + 1)
      .map((img) => img.src),
  };
}"""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # the test's output is the assertions, not an access log


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The docs, built as CI builds them (strict) into a temporary directory."""
    out = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", out],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=True,
        timeout=300,
    )
    return out


@pytest.fixture(scope="module")
def site_url(site: Path) -> Iterator[str]:
    """The built site served on a free port of 127.0.0.1."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
async def browser_page(tmp_path: Path) -> AsyncIterator[tuple[Page, list[str]]]:
    """A 1280 px page of a fresh headless chromium, and the errors it logs."""
    errors: list[str] = []
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            tmp_path / "profile",
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": WIDTH, "height": 900},
        )
        try:
            page = await context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on(
                "console",
                lambda message: (
                    errors.append(message.text) if message.type == "error" else None
                ),
            )
            page.on(
                "requestfailed",
                lambda request: errors.append(f"request failed: {request.url}"),
            )
            yield page, errors
        finally:
            await context.close()


@pytest.mark.parametrize("name", list(PAGES))
async def test_the_page_shows_everything_at_1280_px(
    name: str,
    site_url: str,
    browser_page: tuple[Page, list[str]],
    tmp_path: Path,
) -> None:
    page, errors = browser_page
    response = await page.goto(site_url + PAGES[name], wait_until="networkidle")
    assert response is not None
    assert response.ok
    await page.screenshot(path=tmp_path / f"{name}.png", full_page=True)

    seen = await page.evaluate(_MEASURE)

    assert seen["windowWidth"] == WIDTH
    assert seen["pageWidth"] <= seen["windowWidth"], "the page scrolls sideways"
    assert seen["clippedCode"] == [], "code blocks cut off at 1280 px"
    assert seen["wideImages"] == []
    assert errors == []


async def test_the_sdk_reference_shows_every_method(
    site_url: str, browser_page: tuple[Page, list[str]]
) -> None:
    """Each method group renders its methods, with cross-linked types."""
    page, errors = browser_page
    await page.goto(site_url + "reference/sdk/", wait_until="networkidle")
    names = set(await page.locator(".doc-heading .doc-object-name").all_inner_texts())
    # One of each group: the SDK's own, the seed's, the v3.6 actions, the generic.
    assert {"on", "start_chat", "list_threads", "check_goals", "call"} <= names
    # Types in signatures are links to their reference entries.
    for linked in ("Agent", "Chat", "Event", "ThreadsSummary", "EmptyResult"):
        link = page.locator(".doc-signature a", has_text=linked).first
        assert await link.get_attribute("href"), linked
    # So are the names the prose mentions (``:meth:`` roles in the docstrings).
    prose = page.locator(".doc-contents p a", has_text="list_chats").first
    assert (await prose.get_attribute("href") or "").endswith(
        "#rxlivechat.methods.actions.CustomerActions.list_chats"
    )
    # No module aliases or private names in what the page shows.
    text = await page.locator("article").inner_text()
    for leak in (" m.", "[m.", " abc.", "_streams", "self._"):
        assert leak not in text
    assert errors == []
