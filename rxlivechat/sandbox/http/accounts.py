"""The Accounts API's customer tokens: issue (``POST``) and revoke (``DELETE``)."""

from __future__ import annotations

import asyncio

import msgspec
from aiohttp import web

from ...exceptions import ServerError
from ..bounds import GrantRate
from ..faults import RecordedRequest
from ..tokens import strip_bearer
from .host import Host
from .replies import json_response, oauth_error, read_body

__all__ = ["IDENTITY_COOKIE_AGE", "TOKEN_PATH", "Accounts"]

TOKEN_PATH = "/v2/customer/token"
IDENTITY_COOKIE_AGE = 2 * 365 * 24 * 3600  # the Accounts API's cookies: 2 years


class _TokenRequest(msgspec.Struct, kw_only=True):
    grant_type: str = ""
    client_id: str | None = None
    organization_id: str | None = None
    response_type: str | None = None
    entity_id: str | None = None
    redirect_uri: str | None = None
    code: str | None = None
    expires_in: int | None = None


class Accounts:
    """The token endpoints (docs/protocol.md §7)."""

    def __init__(self, host: Host) -> None:
        self._host = host
        self._rate = GrantRate(host.store.bounds.token_grants_per_second)

    async def token(self, request: web.Request) -> web.StreamResponse:
        """``POST /v2/customer/token``: the cookie and agent_token grants."""
        if not self._rate.take(asyncio.get_running_loop().time()):
            return oauth_error(
                "too_many_requests", "Too many token requests", status=429
            )
        body = await read_body(self._host, request)
        try:
            if request.content_type == "application/x-www-form-urlencoded":
                form = await request.post()
                token_request = msgspec.convert(
                    {k: v for k, v in form.items() if isinstance(v, str)},
                    _TokenRequest,
                    strict=False,
                )
            else:
                token_request = msgspec.json.decode(body or b"{}", type=_TokenRequest)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
            return oauth_error("invalid_request", str(exc))
        organization_id = request.match_info.get(
            "organization_id", token_request.organization_id
        )
        self._host.requests.append(
            RecordedRequest(
                "accounts",
                token_request.grant_type,
                token_request,
                None,
                size=len(body),
            )
        )
        if not token_request.client_id:
            return oauth_error("invalid_request", "client_id is required")
        ttl = token_request.expires_in
        if ttl is not None and not 1 <= ttl <= self._host.tokens.max_ttl:
            return oauth_error(
                "invalid_request",
                f"expires_in must be 1 to {self._host.tokens.max_ttl} seconds",
            )
        if token_request.grant_type == "cookie":
            if organization_id != self._host.organization_id:
                return oauth_error("invalid_request", "unknown organization_id")
            # The customer id is no secret (it is in every chat): the identity
            # also needs its secret cookie, else this is a new customer.
            cookie_id = request.cookies.get("__lc_cid")
            known = self._host.tokens.check_identity(
                cookie_id, request.cookies.get("__lc_cst")
            )
            try:
                customer = self._host.new_customer(cookie_id if known else None)
            except ServerError as exc:  # limit_reached: no room for a customer
                return oauth_error(exc.error_type, exc.message, status=400)
        elif token_request.grant_type == "agent_token":
            agent_token = request.headers.get("Authorization", "")
            if self._host.tokens.check_agent(agent_token) is None:
                return oauth_error(
                    "unauthorized", "a sandbox agent's token is required", status=401
                )
            if organization_id not in (None, self._host.organization_id):
                return oauth_error("invalid_request", "unknown organization_id")
            entity_id = token_request.entity_id
            if entity_id is not None and entity_id not in self._host.store.customers:
                return oauth_error("invalid_request", "entity_id not found")
            try:
                customer = self._host.new_customer(entity_id)
            except ServerError as exc:  # limit_reached: no room for a customer
                return oauth_error(exc.error_type, exc.message, status=400)
        else:
            return oauth_error(
                "unsupported_grant_type",
                f"grant_type {token_request.grant_type!r} is not supported",
            )
        issued = self._host.tokens.issue(
            customer.id,
            self._host.organization_id,
            ttl=ttl,
            client_id=(
                token_request.client_id
                if token_request.grant_type == "agent_token"
                else None
            ),
        )
        response = json_response(issued)
        if token_request.grant_type == "cookie":
            # Both renewed on every call (docs/protocol.md §7); Secure only over TLS.
            for name, value in (
                ("__lc_cid", customer.id),
                ("__lc_cst", self._host.tokens.identity_secret(customer.id)),
            ):
                response.set_cookie(
                    name,
                    value,
                    httponly=True,
                    secure=self._host.tls,
                    max_age=IDENTITY_COOKIE_AGE,
                )
        return response

    async def revoke(self, request: web.Request) -> web.StreamResponse:
        """``DELETE /v2/customer/token``: revoke it; its sockets are disconnected."""
        token = strip_bearer(request.headers.get("Authorization", ""))
        if not self._host.tokens.revoke(token):
            return oauth_error("invalid_request", "unknown token", status=401)
        for conn in self._host.sockets:
            if conn.token == token:
                _ = self._host.spawn(conn.disconnect("access_token_revoked"))
        return web.Response(status=204)
