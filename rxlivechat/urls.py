"""The URLs a customer is given, checked before anything is sent."""

from __future__ import annotations

from urllib.parse import urlsplit

from .engine import TokenProvider
from .engine.options import DEFAULT_REGION_URL
from .exceptions import InvalidArgumentError
from .methods.validate import require_str

__all__ = [
    "DEFAULT_ACCOUNTS_URL",
    "DEFAULT_API_URL",
    "check_region_url",
    "check_url",
    "check_urls",
]

DEFAULT_API_URL = "https://api.livechatinc.com"
DEFAULT_ACCOUNTS_URL = "https://accounts.livechat.com"


def check_urls(
    api_url: str, accounts_url: str | None, token_provider: TokenProvider | None
) -> str:
    """Refuse URLs that cannot work; the accounts URL to use."""
    check_url("api_url", api_url)
    if accounts_url is not None:
        check_url("accounts_url", accounts_url)
        return accounts_url
    if token_provider is None and api_url.rstrip("/") != DEFAULT_API_URL:
        raise InvalidArgumentError(
            f"api_url is {api_url!r} but accounts_url is missing: customer tokens "
            f"would come from LiveChat's own {DEFAULT_ACCOUNTS_URL}, which does "
            "not know this server. Pass accounts_url= (a sandbox's "
            "sandbox.accounts_url), or token_provider="
        )
    return DEFAULT_ACCOUNTS_URL


def check_url(name: str, url: str) -> None:
    """Refuse ``url`` unless it is ``http(s)://`` with a host and a valid port."""
    require_str(name, url)
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (raises on a port out of range)
    except ValueError as exc:
        raise InvalidArgumentError(f"{name} {url!r} has a bad port: {exc}") from None
    if parts.scheme in ("http", "https") and parts.hostname:
        return
    if parts.scheme in ("ws", "wss"):
        why = "use http(s): the socket's ws(s) URL is made from it"
    elif "://" not in url:
        why = "no scheme: add http:// or https://"
    else:
        why = "an http:// or https:// URL with a host is needed"
    raise InvalidArgumentError(
        f"{name} {url!r} is not usable ({why}), e.g. 'https://api.livechatinc.com' "
        "or 'http://127.0.0.1:8080'"
    )


def check_region_url(api_url: str, region_url: str | None) -> str | None:
    """The regional URL pattern to use: LiveChat's own by default with its API."""
    if region_url is None and api_url.rstrip("/") == DEFAULT_API_URL:
        return DEFAULT_REGION_URL
    if region_url is not None and "{region}" not in region_url:
        raise InvalidArgumentError(
            "region_url must hold {region}, e.g. 'https://api-{region}.example'"
        )
    return region_url
