"""patterns._validate: one argument order, clear messages, bounds that stop late overflows."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patterns import _validate as v


@pytest.mark.parametrize("bad", [True, 1.5, "3", None])
def test_require_int_rejects_non_integers_naming_the_parameter(bad: object) -> None:
    with pytest.raises(TypeError, match="limit must be an integer"):
        v.require_int(bad, "limit", minimum=1)


def test_require_int_bounds() -> None:
    assert v.require_int(5, "n", minimum=1, maximum=5) == 5
    with pytest.raises(ValueError, match=r"n must be an integer in \[1, 5\], got 6"):
        v.require_int(6, "n", minimum=1, maximum=5)
    with pytest.raises(ValueError, match="got 10000000000000000000"):
        v.require_int(10**19, "limit", minimum=1)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 1e300])
def test_require_seconds_rejects_non_finite_and_absurd(bad: float) -> None:
    with pytest.raises(ValueError, match="timeout must be a finite number of seconds"):
        v.require_seconds(bad, "timeout")


def test_require_seconds_positive_or_not() -> None:
    assert v.require_seconds(0, "wait", positive=False) == 0.0
    with pytest.raises(ValueError, match=r"wait must be .* in \(0, "):
        v.require_seconds(0, "wait")
    assert v.require_optional_seconds(None, "wait") is None
    with pytest.raises(TypeError, match="wait must be"):
        v.require_seconds("1", "wait")


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_require_number_accepts_exactly_the_finite_values_in_range(x: float) -> None:
    ok = math.isfinite(x) and 0 <= x <= 10
    if ok:
        assert v.require_number(x, "x", minimum=0, maximum=10) == x
    else:
        with pytest.raises(ValueError, match="^x must be"):
            v.require_number(x, "x", minimum=0, maximum=10)


def test_probability_text_and_identifier() -> None:
    assert v.require_probability(0.5, "p") == 0.5
    with pytest.raises(ValueError, match=r"p must be a number in \(0, 1\]"):
        v.require_probability(0, "p", allow_zero=False)
    with pytest.raises(ValueError, match="p must be"):
        v.require_probability(math.nan, "p")
    assert v.require_text("abc", "name") == "abc"
    with pytest.raises(ValueError, match="name must not contain"):
        v.require_text("a*b", "name", forbidden="*?")
    with pytest.raises(ValueError, match="reserved word"):
        v.require_identifier("select", "column", reserved={"SELECT"})
    with pytest.raises(ValueError, match="identifier"):
        v.require_identifier("1abc", "column")


def test_instance_callable_choice_mapping_sequence() -> None:
    assert v.require_instance(3, "n", int) == 3
    with pytest.raises(TypeError, match="clock must be a Clock, got str"):
        v.require_instance("x", "clock", int, what="a Clock")
    with pytest.raises(TypeError, match="fn must be callable"):
        v.require_callable(3, "fn")
    assert v.require_one_of("raise", "on_error", ["raise", "allow"]) == "raise"
    with pytest.raises(ValueError, match="on_error must be one of 'raise', 'allow', got 'x'"):
        v.require_one_of("x", "on_error", ["raise", "allow"])
    with pytest.raises(ValueError):
        v.require_one_of(True, "flag", [1])
    with pytest.raises(TypeError, match="weights must be a mapping"):
        v.require_mapping([("a", 1)], "weights")
    with pytest.raises(TypeError, match="nodes must be a list or tuple"):
        v.require_sequence("abc", "nodes")
    with pytest.raises(ValueError, match="nodes must have 1 to"):
        v.require_sequence([], "nodes")
