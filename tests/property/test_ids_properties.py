"""Under any sequence of clock moves (forward, backward, bursts), no generator repeats an id, and
the monotonic ones only go up."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from patterns.ids import (
    ClockMovedBackwards,
    Snowflake,
    SteppableClock,
    ULIDGenerator,
    UUIDv7Generator,
    decode_ulid,
    encode_ulid,
)

# (clock step in microseconds, possibly negative; ids to draw after it)
moves = st.lists(st.tuples(st.integers(-5_000, 5_000), st.integers(0, 300)), min_size=1, max_size=25)


@given(moves)
def test_logical_snowflake_is_strictly_increasing_whatever_the_clock_does(plan) -> None:
    clock = SteppableClock(1_700_000_000.0)
    gen = Snowflake(9, clock=clock, on_backwards="logical")
    ids = []
    for step_us, count in plan:
        clock.step(step_us / 1e6)
        ids += [gen.next_id() for _ in range(count)]
    assert all(a < b for a, b in zip(ids, ids[1:], strict=False))


@given(moves)
def test_raising_snowflake_never_repeats_an_id(plan) -> None:
    clock = SteppableClock(1_700_000_000.0)
    gen = Snowflake(9, clock=clock)
    ids = []
    for step_us, count in plan:
        clock.step(step_us / 1e6)
        for _ in range(count):
            try:
                ids.append(gen.next_id())
            except ClockMovedBackwards:
                break
    assert len(set(ids)) == len(ids) and ids == sorted(ids)


@given(moves, st.integers(0, 2**32))
def test_monotonic_uuid7_and_ulid_only_go_up(plan, seed) -> None:
    for make in (UUIDv7Generator, ULIDGenerator):
        clock = SteppableClock(1_700_000_000.0)
        gen = make(clock=clock, rng=random.Random(seed))
        ids = []
        for step_us, count in plan:
            clock.step(step_us / 1e6)
            ids += [gen.next() for _ in range(min(count, 50))]
        assert all(a < b for a, b in zip(ids, ids[1:], strict=False))


@given(st.integers(0, 2**48 - 1), st.integers(0, 2**80 - 1), st.integers(0, 2**48 - 1), st.integers(0, 2**80 - 1))
def test_ulid_text_order_is_numeric_order(ms1, r1, ms2, r2) -> None:
    a, b = encode_ulid(ms1, r1), encode_ulid(ms2, r2)
    assert decode_ulid(a) == (ms1, r1)
    assert (a < b) == ((ms1, r1) < (ms2, r2))
