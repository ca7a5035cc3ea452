"""The Web API: one HTTP request per action (JSON body; GET actions: the query)."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from ...exceptions import (
    AuthenticationError,
    CustomerBannedError,
    LicenseNotFoundError,
    ProtocolError,
    ServerError,
    UnsupportedVersionError,
    ValidationError,
)
from ...protocol.base import METHODS, Method
from ...protocol.codec import decode
from ..faults import RecordedRequest
from ..versions import LEGACY_UNTIL, SUPPORTED_VERSIONS, adapt_result, missing_action
from .files import Files
from .host import Host
from .replies import error_response, hold, json_response, raise_forced, read_body

__all__ = ["WebApi"]

# Web actions that need no customer token (docs/protocol.md §1.2; the widget
# configuration reads are made before a customer exists, so the sandbox lets them
# through too).
_ANONYMOUS = frozenset(
    {
        "list_license_properties",
        "list_group_properties",
        "get_dynamic_configuration",
        "get_configuration",
        "get_localization",
    }
)


# The docs mark `version` required here, but it only names a cached copy: the
# sandbox serves its current configuration whatever is asked, and without one.
_VERSIONED_READS = frozenset({"get_configuration", "get_localization"})


class WebApi:
    """The Web API endpoint; ``upload_file`` goes to :class:`~.files.Files`."""

    def __init__(self, host: Host, files: Files) -> None:
        self._host = host
        self._files = files

    async def serve(self, request: web.Request) -> web.StreamResponse:
        """One Web API request (``/v{version}/customer/action/{action}``)."""
        version = request.match_info["version"]
        response = await self._web_action(request, version)
        if version in LEGACY_UNTIL:
            response.headers["Legacy"] = LEGACY_UNTIL[version]
        return response

    async def _web_action(
        self, request: web.Request, version: str
    ) -> web.StreamResponse:
        action = request.match_info["action"]
        method_type = METHODS.get(action)
        customer_id: str | None = None
        try:
            if version not in SUPPORTED_VERSIONS:
                self._host.requests.append(RecordedRequest("web", action, None, None))
                raise UnsupportedVersionError("Cannot call unsupported API versions.")
            missing = missing_action(version, action)
            if method_type is None or method_type.web is None or missing:
                self._host.requests.append(RecordedRequest("web", action, None, None))
                # The Web API's error list has no not_found (customer-chat-api
                # index.mdx, "Possible errors"): validation, as over RTM.
                raise ValidationError(f"Unknown action: {missing or action}")
            if request.method != method_type.web:
                self._host.requests.append(RecordedRequest("web", action, None, None))
                raise ValidationError(f"Use {method_type.web} for {action}")
            if request.query.get("organization_id") != self._host.organization_id:
                self._host.requests.append(RecordedRequest("web", action, None, None))
                raise LicenseNotFoundError("License not found")
            customer_id = self._web_customer(request, action)
            if action == "upload_file":
                self._host.requests.append(
                    RecordedRequest("web", action, None, customer_id)
                )
                await hold(self._host, action)
                raise_forced(self._host, action)
                assert customer_id is not None
                result: Any = await self._files.upload(request, customer_id)
                return json_response(result)
            payload, size = await self._web_payload(request, method_type)
            self._host.requests.append(
                RecordedRequest("web", action, payload, customer_id, size=size)
            )
            await hold(self._host, action)
            raise_forced(self._host, action)
            outcome = self._host.handlers.handle(customer_id, payload)
        except ServerError as exc:
            return error_response(exc)
        await self._host.deliver(outcome.pushes)
        return json_response(adapt_result(action, outcome.result, version))

    def _web_customer(self, request: web.Request, action: str) -> str | None:
        header = request.headers.get("Authorization")
        customer_id = None
        if header:
            customer_id = self._host.tokens.check(header, self._host.organization_id)
        if customer_id is None and action not in _ANONYMOUS:
            raise AuthenticationError("Invalid access token")
        if customer_id is not None:
            customer = self._host.handlers.login_customer(customer_id)
            if customer.banned:
                raise CustomerBannedError("Customer is banned")
        return customer_id

    async def _web_payload(
        self, request: web.Request, method_type: type[Method[Any]]
    ) -> tuple[Method[Any], int]:
        """The request's method and its size in bytes."""
        if request.method == "GET":
            params = {k: v for k, v in request.query.items() if k != "organization_id"}
            if method_type.action in _VERSIONED_READS:
                params.setdefault("version", "latest")
            try:
                method: Method[Any] = msgspec.convert(params, method_type, strict=False)
                return method, len(request.query_string)
            except msgspec.ValidationError as exc:
                raise ValidationError(str(exc)) from None
        body = await read_body(self._host, request)
        try:
            return decode(body or b"{}", method_type), len(body)
        except (ProtocolError, RecursionError) as exc:
            raise ValidationError(str(exc)) from None
