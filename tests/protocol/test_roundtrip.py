"""Property: any value of any wire Struct encodes and decodes back to itself.

Values are drawn from msgspec's own description of each type
(``msgspec.inspect``), so every field, union member and nested Struct is covered.
"""

from __future__ import annotations

import datetime
from typing import Any

import msgspec.inspect as mi
import pytest
from hypothesis import given, settings, strategies as st

from rxlivechat.protocol import codec
from rxlivechat.protocol.base import METHODS, PUSHES

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
_datetimes = st.datetimes(
    min_value=datetime.datetime(1971, 1, 1),
    max_value=datetime.datetime(2100, 1, 1),
    timezones=st.just(datetime.UTC),
)


def strategy(t: mi.Type) -> st.SearchStrategy[Any]:
    """Values of the msgspec type ``t``."""
    match t:
        case mi.AnyType():
            return _json
        case mi.NoneType():
            return st.none()
        case mi.BoolType():
            return st.booleans()
        case mi.IntType():
            low = -(2**53) if t.ge is None else t.ge
            return st.integers(min_value=low, max_value=t.le or 2**53)
        case mi.FloatType():
            return st.floats(allow_nan=False, allow_infinity=False)
        case mi.StrType() if t.pattern is not None:
            return st.from_regex(t.pattern)
        case mi.StrType():
            return st.text(min_size=t.min_length or 0, max_size=8)
        case mi.DateTimeType():
            return _datetimes
        case mi.LiteralType():
            return st.sampled_from(t.values)
        case mi.ListType():
            return st.lists(
                strategy(t.item_type), min_size=t.min_length or 0, max_size=2
            )
        case mi.DictType():
            most = 2 if t.max_length is None else t.max_length
            return st.dictionaries(
                strategy(t.key_type),
                strategy(t.value_type),
                min_size=t.min_length or 0,
                max_size=most,
            )
        case mi.UnionType():
            return st.one_of([strategy(member) for member in t.types])
        case mi.StructType():
            fields = {f.name: strategy(f.type) for f in t.fields if f.required}
            optional = {f.name: strategy(f.type) for f in t.fields if not f.required}
            return st.builds(
                t.cls, **fields, **{k: st.none() | v for k, v in optional.items()}
            )
    raise NotImplementedError(t)


def _types() -> list[Any]:
    kinds: set[Any] = set(METHODS.values()) | set(PUSHES.values())
    kinds |= {method.result_type for method in METHODS.values()}
    return sorted(kinds, key=lambda t: getattr(t, "__name__", repr(t)))


@pytest.mark.parametrize("tp", _types(), ids=lambda t: getattr(t, "__name__", "?"))
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_encode_then_decode_gives_the_value_back(tp: Any, data: st.DataObject) -> None:
    value = data.draw(strategy(mi.type_info(tp)))
    assert codec.decode(codec.encode(value), tp) == value
