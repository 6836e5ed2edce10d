"""JSON vs msgpack helpers: exact sizes, faithful round trips, timing with an injected timer."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patterns.communication.codec import CODECS, JSON, MSGPACK, compare, payload_sizes, roundtrips

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=20,
)


@given(json_values)
def test_both_codecs_round_trip_json_values(value) -> None:
    for codec in CODECS.values():
        assert roundtrips(value, codec), codec.name


no_float_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=20,
)


@given(no_float_values)
def test_msgpack_is_never_larger_without_floats(value) -> None:
    sizes = payload_sizes(value)
    assert sizes["msgpack"] <= sizes["json"]


def test_short_floats_are_smaller_in_json() -> None:
    # msgpack stores every Python float as a 9-byte float64; "0.5" is 3 characters
    assert payload_sizes(0.5) == {"json": 3, "msgpack": 9}


def test_sizes_are_exact_and_deterministic() -> None:
    order = {"order_id": "o-1", "total": 42, "paid": True}
    # json: {"order_id":"o-1","total":42,"paid":true} = 41 characters
    # msgpack: map header 1 + "order_id" 9 + "o-1" 4 + "total" 6 + 42 1 + "paid" 5 + true 1 = 27
    assert payload_sizes(order) == {"json": 41, "msgpack": 27}
    assert payload_sizes([1, 2, 3], [JSON]) == {"json": 7}


def test_what_does_not_survive() -> None:
    assert not roundtrips({"a": (1, 2)}, JSON)  # tuple comes back as a list
    assert not roundtrips({1: "x"}, JSON)  # int key comes back as "1"
    assert not roundtrips(b"\x00\x01", JSON)  # bytes cannot be encoded at all
    assert roundtrips(b"\x00\x01", MSGPACK)  # binary is native in msgpack
    assert not roundtrips(float("nan"), JSON)  # NaN is not JSON


def test_compare_uses_the_injected_timer() -> None:
    ticks = itertools.count(0.0, 0.5)  # every call advances "time" by 0.5 s
    reports = compare({"k": "v"}, number=10, codecs=[JSON, MSGPACK], timer=lambda: next(ticks))
    assert [r.codec for r in reports] == ["json", "msgpack"]
    assert all(r.encode_us == pytest.approx(0.5 / 10 * 1e6) for r in reports)
    assert all(r.decode_us == pytest.approx(0.5 / 10 * 1e6) for r in reports)
    assert [r.size for r in reports] == [9, 5]


@pytest.mark.parametrize("number, exc", [(0, ValueError), (1.5, TypeError), (True, TypeError)])
def test_compare_rejects_bad_number(number, exc) -> None:
    with pytest.raises(exc, match="number"):
        compare({}, number=number)


def test_codecs_must_be_codecs() -> None:
    with pytest.raises(TypeError, match="codecs"):
        payload_sizes({}, ["json"])
    with pytest.raises(TypeError, match="codecs"):
        payload_sizes({}, [])
