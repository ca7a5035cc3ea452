"""The upload store's budget, without a server (over HTTP: test_resources.py)."""

from __future__ import annotations

import pytest

from rxlivechat.sandbox.store import StoredFile
from rxlivechat.sandbox.uploads import OVERHEAD, Uploads


def stored(key: str, size: int) -> StoredFile:
    return StoredFile(key, f"{key}.bin", "application/octet-stream", b"x" * size, "c")


def test_the_oldest_files_make_room() -> None:
    files: dict[str, StoredFile] = {}
    uploads = Uploads(files, budget=3 * (100 + OVERHEAD))
    for key in "abc":
        assert uploads.add(f"url-{key}", stored(key, 100)) == []
    assert uploads.add("url-d", stored("d", 150)) == ["url-a", "url-b"]
    assert list(files) == ["url-c", "url-d"]
    assert uploads.size == 250 + 2 * OVERHEAD
    assert uploads.find("a", "a.bin") is None
    assert uploads.find("d", "d.bin") is files["url-d"]


def test_a_file_is_found_by_its_key_and_name_only() -> None:
    uploads = Uploads({}, budget=10_000)
    uploads.add("url", stored("k", 1))
    assert uploads.find("k", "other.bin") is None
    assert uploads.find("other", "k.bin") is None


def test_a_file_larger_than_the_budget_is_refused() -> None:
    files: dict[str, StoredFile] = {}
    uploads = Uploads(files, budget=OVERHEAD + 10)
    with pytest.raises(ValueError, match="budget"):
        uploads.add("url", stored("k", 11))
    assert files == {}
