"""Who may talk to the sandbox, and how uploaded files are served back.

Pure checks, no I/O; :mod:`.http.middleware` applies them to every request.

* **Host** (DNS rebinding): a web page on ``evil.example`` whose name is made to
  resolve to 127.0.0.1 reaches the sandbox with ``Host: evil.example``. Only
  the sandbox's own names are served: ``127.0.0.1``, ``localhost``, ``[::1]``,
  with its port (or none).
* **Origin** (cross-site WebSocket and form posts): browsers send ``Origin``;
  other clients (our SDK, lc-sdk-python, node) do not. A request without one is
  served; with one, only the sandbox's own origin and the configured widget
  origins are.
* **Uploads** are stored with a clean content type (a usable charset or none)
  and served so a browser never runs them: active types as an attachment of
  type ``application/octet-stream``, always with ``nosniff`` and a sandboxing
  Content-Security-Policy.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import quote

__all__ = [
    "EXECUTABLE_EXTENSIONS",
    "FILE_HEADERS",
    "LOOPBACK_NAMES",
    "allowed_origin_set",
    "file_headers",
    "host_allowed",
    "is_executable",
    "normalize_origin",
    "own_origins",
    "upload_content_type",
    "upload_name",
]

EXECUTABLE_EXTENSIONS = frozenset(
    {
        "apk", "app", "bat", "cmd", "com", "cpl", "dll", "dmg", "elf",
        "exe", "gadget", "jar", "jse", "lnk", "msi", "msp", "pif", "ps1",
        "reg", "scr", "sh", "so", "vb", "vbe", "vbs", "ws", "wsf",
    }
)  # fmt: skip
"""File name extensions refused at upload (LiveChat: "executables rejected")."""

# What executables start with: PE (MZ), ELF, Mach-O (both byte orders, fat), a script.
_EXECUTABLE_MAGIC = (
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"#!",
)

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
"""The names the sandbox answers to (it binds loopback only)."""

FILE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cross-Origin-Resource-Policy": "same-site",
}
"""Headers on every served file, whatever its type."""

# Types a browser shows without running anything: served inline.
_PASSIVE = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/avif",
        "image/bmp",
        "text/plain",
        "text/csv",
    }
)
_PASSIVE_FAMILIES = ("audio/", "video/")
_TOKEN = r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}"
_MIME = re.compile(rf"{_TOKEN}/{_TOKEN}")
_CHARSET = re.compile(r"[a-z0-9][a-z0-9._:-]{0,39}")
# Bytes that matter to an HTML or header parser; an ASCII-compatible charset
# encodes them as themselves (UTF-7, UTF-16 and UTF-32 do not).
_PROBE = "<>&\"'+-=:;/\\ azAZ09"


def host_allowed(host: str | None, port: int) -> bool:
    """Whether a ``Host`` header names the sandbox (a missing one is allowed).

    Args:
        host: the header's value.
        port: the port the sandbox listens on.
    """
    if host is None:
        return True  # HTTP/1.0 without Host: no browser sends that
    host = host.strip().lower()
    if host.startswith("["):
        name, _, rest = host.partition("]")
        name += "]"
    else:
        name, _, rest = host.partition(":")
        rest = f":{rest}" if rest else ""
    return name in LOOPBACK_NAMES and rest in ("", f":{port}")


def own_origins(port: int, *, tls: bool) -> frozenset[str]:
    """The origins of pages the sandbox serves itself (its agent console)."""
    scheme = "https" if tls else "http"
    return frozenset(f"{scheme}://{name}:{port}" for name in LOOPBACK_NAMES)


def normalize_origin(origin: str) -> str:
    """An origin as browsers send it: lower case, no trailing slash."""
    return origin.strip().lower().rstrip("/")


def upload_content_type(declared: str | None, filename: str) -> str:
    """The content type to store for an upload.

    Args:
        declared: the part's ``Content-Type`` (guessed from ``filename`` when
            empty).
        filename: the uploaded file's name.

    Returns:
        ``type/subtype`` in lower case, with ``; charset=<name>`` when one was
        declared; other parameters are dropped.

    Raises:
        ValueError: the type is malformed, or its charset is unknown or not
            ASCII-compatible (UTF-7, UTF-16...: a browser could read markup that
            a filter did not see).
    """
    if not declared or not declared.strip():
        return mimetypes.guess_type(filename)[0] or "application/octet-stream"
    mime, *params = (p.strip() for p in declared.split(";"))
    mime = mime.lower()
    if not _MIME.fullmatch(mime):
        raise ValueError(f"malformed content type {declared!r}")
    charset = None
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    if charset is None:
        return mime
    if not _CHARSET.fullmatch(charset) or not _ascii_compatible(charset):
        raise ValueError(f"unusable charset {charset!r}")
    return f"{mime}; charset={charset}"


def file_headers(content_type: str, name: str) -> tuple[str, dict[str, str]]:
    """How to serve a stored file: its response content type and headers.

    Passive types (images, audio, video, plain text) are shown inline with
    their type; anything else is an ``application/octet-stream`` attachment.
    """
    mime = content_type.partition(";")[0]
    inline = mime in _PASSIVE or mime.startswith(_PASSIVE_FAMILIES)
    disposition = "inline" if inline else "attachment"
    fallback = re.sub(r"[^A-Za-z0-9._ -]", "_", name) or "file"
    headers = {
        **FILE_HEADERS,
        "Content-Disposition": (
            f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
        ),
    }
    return (content_type if inline else "application/octet-stream"), headers


def upload_name(name: str) -> str:
    """An uploaded file's name made safe to store and to put in one URL segment.

    Path separators and control or format characters (NUL, CR, LF, the
    right-to-left override...) become ``_``; a name that is empty or only dots
    (``..`` would climb out of its URL) becomes ``file``; at most 255 characters.
    """
    cleaned = "".join(
        "_" if c in "/\\" or unicodedata.category(c) in ("Cc", "Cf") else c
        for c in name
    ).strip()[:255]
    return "file" if not cleaned.strip(".") else cleaned


def is_executable(name: str, head: bytes) -> bool:
    """Whether an upload is an executable, by its name or its first bytes."""
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    return extension in EXECUTABLE_EXTENSIONS or head.startswith(_EXECUTABLE_MAGIC)


def allowed_origin_set(origins: Iterable[str]) -> frozenset[str]:
    """Configured widget origins, normalized."""
    return frozenset(normalize_origin(o) for o in origins)


def _ascii_compatible(charset: str) -> bool:
    try:
        return _PROBE.encode(charset) == _PROBE.encode("ascii")
    except (LookupError, UnicodeError):
        return False
