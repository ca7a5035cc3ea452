"""The public surface: ``rxlivechat.__all__`` is sorted and complete."""

from __future__ import annotations

import types

import rxlivechat


def test_all_is_sorted() -> None:
    assert rxlivechat.__all__ == sorted(rxlivechat.__all__)


def test_all_is_complete() -> None:
    public = {
        name
        for name, value in vars(rxlivechat).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and getattr(value, "__module__", "rxlivechat").startswith("rxlivechat")
    }
    assert public <= set(rxlivechat.__all__), public - set(rxlivechat.__all__)


def test_every_exported_name_exists() -> None:
    for name in rxlivechat.__all__:
        assert hasattr(rxlivechat, name), name
