"""The Web API (HTTP) side of the Customer Chat API: calls and uploads, one client.

``POST <api_url>/v3.6/customer/action/<action>?organization_id=…`` with the payload
as the JSON body, or ``GET`` with it as query parameters for the five GET actions
(docs/protocol.md §1.2); ``Authorization: Bearer <customer token>``, the same
token as the socket's. ``upload_file`` is a multipart POST. Errors come back as
an HTTP status and ``{"error": {...}}``.

Every exchange has the request timeout and a size limit on the reply. A
version in LiveChat's legacy stage answers with a ``Legacy: YYYY-MM-DD`` header
(the socket's handshake too): :func:`warn_if_legacy` logs it once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias, TypeVar

import aiohttp
import aiohttp.abc
import aiohttp.payload
import msgspec

from ..exceptions import (
    InvalidArgumentError,
    MisdirectedRequestError,
    ProtocolError,
    server_error,
)
from ..protocol import codec
from ..protocol.base import Method
from ..protocol.frames import API_VERSION, WebError
from ..protocol.methods import UploadFileResult
from ..protocol.tokens import Token
from .transport import MAX_HTTP_BODY, map_errors, read_limited, web_url

__all__ = [
    "CHUNK",
    "NO_AUTH",
    "HttpTap",
    "PreparedFile",
    "WebClient",
    "warn_if_legacy",
    "web_error",
]

log = logging.getLogger("rxlivechat")

R = TypeVar("R")

HttpTap: TypeAlias = Callable[[str, str, Any, int, bytes], None]
"""Told of each HTTP exchange: ``(method, url, request body, status, reply)``
(the request as bytes or fields; never a header)."""

NO_AUTH = frozenset({"list_license_properties", "list_group_properties"})
"""Actions the Web API serves without a token (docs/protocol.md §1.2)."""

CHUNK = 64 * 1024
"""Bytes an upload writes at a time (and reports progress after)."""


class PreparedFile(msgspec.Struct, frozen=True):
    """A file read into memory and checked, ready to upload."""

    name: str
    content_type: str
    data: bytes


_warned: set[tuple[str, str]] = set()  # (version, end date): logged already


def warn_if_legacy(version: str, legacy: str | None) -> None:
    """Log a WARNING, once a process, that ``version`` is legacy until ``legacy``.

    Args:
        version: the API version spoken.
        legacy: the reply's ``Legacy`` header (its end date), if any.
    """
    if legacy is None or (version, legacy) in _warned:
        return
    _warned.add((version, legacy))  # one entry per version and date: bounded
    log.warning(
        "Customer Chat API v%s is legacy: LiveChat supports it until %s "
        "(critical and security fixes only); move to a newer api_version",
        version,
        legacy,
    )


def web_error(body: bytes, status: int, action: str) -> Exception:
    """The exception for a Web API error reply."""
    try:
        error = msgspec.json.decode(body, type=WebError).error
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return ProtocolError(f"{action} failed with HTTP {status}", action=action)
    return server_error(error.type, error.message, data=error.data, action=action)


class WebClient:
    """Calls Web API actions, and uploads files, with the customer's token.

    Args:
        http: returns the engine's HTTP session (made on first use).
        token: returns a valid customer token.
        api_url: the API's base URL.
        version: the API version of the URLs.
        follow_region: given ``misdirected_request``'s region, moves
            :attr:`api_url` there and returns it (the request is sent again,
            once), or returns ``None`` (the error is raised).
        organization_id: the LiveChat organization.
        timeout: seconds a call may take; an upload may wait this long for
            each read or connect (its total time grows with the file).
        record: told of each exchange (a cassette's recorder), if given.
    """

    def __init__(
        self,
        http: Callable[[], aiohttp.ClientSession],
        token: Callable[[], Awaitable[Token]],
        *,
        api_url: str,
        organization_id: str,
        timeout: float,
        version: str = API_VERSION,
        follow_region: Callable[[object], str | None] = lambda region: None,
        record: HttpTap | None = None,
    ) -> None:
        self._http = http
        self._record = record
        self._token = token
        self._version = version
        self.api_url = api_url
        """The API's base URL in use (the socket's too: it moves with a region)."""
        self._follow_region = follow_region
        self._organization_id = organization_id
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._upload_timeout = aiohttp.ClientTimeout(
            sock_connect=timeout, sock_read=timeout
        )

    async def call(self, method: Method[R]) -> R:
        """Send ``method`` over HTTP and decode its typed result.

        Raises:
            InvalidArgumentError: the action has no Web API form.
            ServerError: the server answered with an error (its subclass).
            ConnectError: the request could not be made, or timed out.
            ProtocolError: the reply does not decode, or is too large.
        """
        try:
            return await self._call(method)
        except MisdirectedRequestError as exc:
            # customer-chat-api: "misdirected_request ... data.region": the
            # organization lives elsewhere; send it there, once.
            if self._follow_region((exc.data or {}).get("region")) is None:
                raise
            return await self._call(method)

    async def _call(self, method: Method[R]) -> R:
        verb = method.web
        action = method.action
        if verb is None:
            raise InvalidArgumentError(f"{action!r} has no Web API form; use RTM")
        headers: dict[str, str] = {}
        if action not in NO_AUTH:
            headers["Authorization"] = (await self._token()).authorization
        url = web_url(self.api_url, action, self._organization_id, self._version)
        with map_errors(f"{action} failed"):
            sent: bytes | dict[str, str]
            if verb == "GET":
                sent = _query(method)
                request = self._http().get(
                    url, params=sent, headers=headers, timeout=self._timeout
                )
            else:
                headers["Content-Type"] = "application/json"
                sent = codec.encode(method)
                request = self._http().post(
                    url, data=sent, headers=headers, timeout=self._timeout
                )
            async with request as response:
                body = await read_limited(response, MAX_HTTP_BODY)
                status = response.status
                warn_if_legacy(self._version, response.headers.get("Legacy"))
        if self._record is not None:
            self._record(verb, url, sent, status, body)
        if status != 200:
            raise web_error(body, status, action)
        result: R = codec.decode(body, method.result_type)
        return result

    async def upload(self, file: PreparedFile, report: Callable[[float], None]) -> str:
        """Upload ``file`` with ``upload_file``; returns its URL.

        Args:
            file: the checked file.
            report: called with the fraction of the file handed to the socket.

        Raises:
            ServerError: the server refused the file (its subclass).
            ConnectError: the upload could not be made, or stalled.
            ProtocolError: the reply does not decode.
        """
        token = await self._token()
        form = aiohttp.FormData()
        form.add_field(
            "file",
            # The payload's own type: aiohttp ignores add_field's for a Payload.
            _ProgressPayload(file.data, report, content_type=file.content_type),
            filename=file.name,
            content_type=file.content_type,
        )
        url = web_url(self.api_url, "upload_file", self._organization_id, self._version)
        with map_errors("upload failed"):
            async with self._http().post(
                url,
                data=form,
                headers={"Authorization": token.authorization},
                timeout=self._upload_timeout,
            ) as response:
                body = await read_limited(response, MAX_HTTP_BODY)
                status = response.status
                warn_if_legacy(self._version, response.headers.get("Legacy"))
        if self._record is not None:
            sent: dict[str, Any] = {"name": file.name}
            sent["content_type"] = file.content_type
            sent["size"] = len(file.data)
            self._record("POST", url, {"file": sent}, status, body)
        if status != 200:
            raise web_error(body, status, "upload_file")
        try:
            return msgspec.json.decode(body, type=UploadFileResult).url
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
            raise ProtocolError(f"unexpected upload_file reply: {exc}") from None


class _ProgressPayload(aiohttp.payload.Payload):
    """The file's bytes, written in chunks, reporting the fraction written."""

    def __init__(self, data: bytes, report: Callable[[float], None], **kwargs: Any):
        super().__init__(data, **kwargs)
        self._data = data
        self._size = len(data)
        self._report = report

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return self._data.decode(encoding, errors)

    async def write(self, writer: aiohttp.abc.AbstractStreamWriter) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(
        self, writer: aiohttp.abc.AbstractStreamWriter, content_length: int | None
    ) -> None:
        view = memoryview(self._data)
        if content_length is not None:
            view = view[:content_length]
        total = max(len(view), 1)
        for start in range(0, len(view), CHUNK):
            chunk = view[start : start + CHUNK]
            await writer.write(chunk)
            self._report((start + len(chunk)) / total)


def _query(method: Method[Any]) -> dict[str, str]:
    """A GET action's fields as query parameters (booleans as true/false)."""
    params: dict[str, str] = {}
    for key, value in msgspec.to_builtins(method).items():
        if isinstance(value, bool):
            params[key] = "true" if value else "false"
        elif value is not None:
            params[key] = str(value)
    return params
