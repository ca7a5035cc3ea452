"""How a customer reaches LiveChat: its HTTP session, its token, its API host.

:class:`Access` owns what every way in shares: the HTTP session (a pool's
shared one, or the customer's own), the token provider, the Web API client and
the API host, which a ``misdirected_*`` reply moves to the organization's
region. :class:`ConnectGate` is one pass through a pool's login gate.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import aiohttp

from ..exceptions import ConnectionLost
from ..protocol.tokens import Token
from .auth import CustomerTokenProvider, TokenProvider
from .options import Options
from .transport import rtm_url
from .web import HttpTap, WebClient

if TYPE_CHECKING:
    from ..telemetry import CustomerTelemetry

__all__ = ["Access", "ConnectGate"]

log = logging.getLogger("rxlivechat")


class Access:
    """The customer's HTTP session, token and API host.

    Args:
        options: the engine's options.
        cookies: the accounts cookies that are the customer's identity; the
            default token provider sends and updates this dict.
        record: told of every HTTP exchange (a cassette's recorder).
    """

    __slots__ = ("_cookies", "_http", "_options", "_record", "token_provider", "web")

    def __init__(
        self,
        options: Options,
        cookies: dict[str, str],
        *,
        record: HttpTap | None = None,
    ) -> None:
        self._options = options
        self._record = record
        self._cookies = cookies
        self.token_provider: TokenProvider | None = options.token_provider
        """Where tokens come from; the default one is made on first use."""
        self._http: aiohttp.ClientSession | None = None
        """The customer's own HTTP session, when it has no shared one."""
        self.web = WebClient(
            self.http,
            self.token,
            api_url=options.api_url,
            version=options.api_version,
            follow_region=self.move_to_region,
            organization_id=options.organization_id,
            timeout=options.request_timeout,
            record=record,
        )
        """The Web API client; its ``api_url`` is the host in use, the socket's too."""

    def http(self) -> aiohttp.ClientSession:
        """The HTTP session: the shared one, or the customer's own (made now)."""
        shared = self._options.http_session
        if shared is not None:
            return shared
        if self._http is None:
            # ssl=True: verify certificates (lc-sdk-python turns that off).
            # force_close: no idle keep-alive connection per customer; tokens
            # and Web API calls are rare, an idle socket each is not. No jar:
            # the identity is the cookies dict.
            connector = aiohttp.TCPConnector(
                ssl=self._options.ssl or True, force_close=True
            )
            self._http = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar()
            )
        return self._http

    async def token(self) -> Token:
        """A valid customer token, from the provider (cached by the default one)."""
        options = self._options
        if self.token_provider is None:
            self.token_provider = CustomerTokenProvider(
                self.http,  # asked each time: a closed own session is remade
                accounts_url=options.accounts_url,
                client_id=options.client_id,
                organization_id=options.organization_id,
                timeout=options.request_timeout,
                cookies=self._cookies,
                record=self._record,
            )
        try:
            async with asyncio.timeout(options.request_timeout):
                token = await self.token_provider()
        except TimeoutError:
            raise ConnectionLost(
                f"no customer token within {options.request_timeout} s"
            ) from None
        if isinstance(token, str):  # a provider that hands out bare tokens
            return Token(access_token=token)
        return token

    def invalidate_token(self) -> None:
        """Fetch a new token next time (when the provider caches one)."""
        invalidate = getattr(self.token_provider, "invalidate", None)
        if callable(invalidate):
            invalidate()

    def rtm_url(self) -> str:
        """The socket's URL on the host in use."""
        options = self._options
        return rtm_url(self.web.api_url, options.organization_id, options.api_version)

    def move_to_region(self, region: object) -> str | None:
        """Use ``region``'s API host from now on; ``None`` if none is known.

        Never the host in use: a second misdirection there stops the SDK
        instead of looping.
        """
        pattern = self._options.region_url
        if pattern is None or not isinstance(region, str) or not region:
            log.warning(
                "misdirected: the organization is in region %r, and no region_url "
                "says where that is (api_url %s)",
                region,
                self.web.api_url,
            )
            return None
        target = pattern.format(region=region)
        if target.rstrip("/") == self.web.api_url.rstrip("/"):
            log.warning("misdirected again at %s (region %r): stopping", target, region)
            return None
        log.info("moving to region %r: %s", region, target)
        self.web.api_url = target  # the socket's URL too, from the next attempt
        return target

    async def close(self) -> None:
        """Close the customer's own HTTP session (a shared one stays open)."""
        if self._http is not None:
            http, self._http = self._http, None
            await http.close()


class ConnectGate:
    """One pass through a pool's connect gate: entered once, left once.

    Held from the token fetch to the end of the login, so a pool restarting
    many customers logs in a bounded number at once.
    """

    __slots__ = ("_inside", "_semaphore", "_telemetry")

    def __init__(
        self, semaphore: asyncio.Semaphore | None, telemetry: CustomerTelemetry | None
    ) -> None:
        self._semaphore = semaphore
        self._telemetry = telemetry
        self._inside = False

    async def enter(self) -> None:
        """Wait for a place (at once without a gate)."""
        if self._semaphore is None:
            return
        if self._telemetry is None:
            await self._semaphore.acquire()
        else:
            started = asyncio.get_running_loop().time()
            await self._semaphore.acquire()
            waited = asyncio.get_running_loop().time() - started
            self._telemetry.queue_waited("connect", waited)
        self._inside = True

    def leave(self) -> None:
        """Give the place back (once; later calls do nothing)."""
        if self._inside:
            self._inside = False
            assert self._semaphore is not None
            self._semaphore.release()
