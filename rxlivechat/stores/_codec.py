"""How the durable stores write values: JSON, and times that sort as text."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

import msgspec

from ..exceptions import StoreCorruptError
from .base import ChatCheckpoint, Identity

__all__ = [
    "decode_checkpoint",
    "decode_identity",
    "decode_side_storage",
    "encode",
    "time_text",
]


class StoredCheckpoint(msgspec.Struct, forbid_unknown_fields=False):
    """A checkpoint as stored (Redis: one JSON value per chat)."""

    event_id: str
    created_at: str
    thread_id: str
    recent_ids: list[str]


_encoder = msgspec.json.Encoder()
encode = _encoder.encode


def time_text(moment: datetime.datetime) -> str:
    """``moment`` in UTC, fixed width (``2026-12-02T11:12:03.000000+00:00``).

    Texts of this form sort as the times do, so SQLite and Lua compare them as text.
    """
    return moment.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def _time(text: str, where: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise StoreCorruptError(f"{where}: not a time: {text!r}") from None
    if moment.tzinfo is None:
        raise StoreCorruptError(f"{where}: a time without zone: {text!r}")
    return moment


def decode_identity(data: bytes | str, where: str) -> Identity:
    """Read a stored identity.

    Raises:
        StoreCorruptError: it is not one.
    """
    try:
        return msgspec.json.decode(data, type=Identity)
    except msgspec.DecodeError as exc:
        raise StoreCorruptError(f"{where}: unreadable identity: {exc}") from None


def decode_side_storage(data: bytes | str, where: str) -> dict[str, str]:
    """Read a stored side storage.

    Raises:
        StoreCorruptError: it is not one.
    """
    try:
        return msgspec.json.decode(data, type=dict[str, str])
    except msgspec.DecodeError as exc:
        raise StoreCorruptError(f"{where}: unreadable side storage: {exc}") from None


def decode_checkpoint(chat_id: str, data: bytes | str, where: str) -> ChatCheckpoint:
    """Read a checkpoint stored as one JSON value.

    Raises:
        StoreCorruptError: it is not one.
    """
    try:
        stored = msgspec.json.decode(data, type=StoredCheckpoint)
    except msgspec.DecodeError as exc:
        raise StoreCorruptError(f"{where}: unreadable checkpoint: {exc}") from None
    return ChatCheckpoint(
        chat_id=chat_id,
        event_id=stored.event_id,
        created_at=_time(stored.created_at, where),
        thread_id=stored.thread_id,
        recent_ids=tuple(stored.recent_ids),
    )


def checkpoint_from_row(chat_id: str, row: Sequence[Any], where: str) -> ChatCheckpoint:
    """Read a checkpoint stored as an SQLite row.

    Args:
        chat_id: the chat.
        row: ``(event_id, created_at, thread_id, recent_ids)``.
        where: names the store in errors.

    Raises:
        StoreCorruptError: it is not one.
    """
    event_id, created_at, thread_id, recent_ids = row
    if not all(isinstance(v, str) for v in row):
        raise StoreCorruptError(f"{where}: a checkpoint row of the wrong types")
    try:
        ids = msgspec.json.decode(recent_ids, type=list[str])
    except msgspec.DecodeError as exc:
        raise StoreCorruptError(f"{where}: unreadable recent ids: {exc}") from None
    return ChatCheckpoint(
        chat_id=chat_id,
        event_id=event_id,
        created_at=_time(created_at, where),
        thread_id=thread_id,
        recent_ids=tuple(ids),
    )
