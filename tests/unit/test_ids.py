"""Snowflake, UUIDv7 and ULID: layouts, ordering, and the explicit failure policies."""

from __future__ import annotations

import random
import uuid

import pytest

from patterns.ids import (
    TWITTER_EPOCH_MS,
    ClockMovedBackwards,
    SequenceExhausted,
    Snowflake,
    SteppableClock,
    ULIDGenerator,
    ULIDOverflow,
    UUIDv7Generator,
    appends,
    decode_ulid,
    encode_ulid,
    leaves_touched,
    out_of_order,
    parse_snowflake,
    time_inversion,
    ulid_time_ms,
    uuid7_time_ms,
)

START = 1_700_000_000.0


def test_snowflake_layout_round_trips() -> None:
    clock = SteppableClock(START)
    gen = Snowflake(513, clock=clock)
    first, second = gen.next_id(), gen.next_id()
    parts = parse_snowflake(second)
    assert (parts.timestamp_ms, parts.worker, parts.sequence) == (1_700_000_000_000, 513, 1)
    assert first.bit_length() <= 63 and second == first + 1
    clock.advance(0.001)
    assert gen.parse(gen.next_id()).sequence == 0


def test_snowflake_ids_from_two_workers_never_collide_and_sort_by_time() -> None:
    clock = SteppableClock(START)
    a, b = Snowflake(1, clock=clock), Snowflake(2, clock=clock)
    ids = []
    for _ in range(50):
        ids += [a.next_id(), b.next_id()]
        clock.advance(0.0005)
    assert len(set(ids)) == 100
    times = [parse_snowflake(x).timestamp_ms for x in sorted(ids)]
    assert times == sorted(times)


def test_exhausted_sequence_waits_for_the_next_millisecond() -> None:
    clock = SteppableClock(START)
    gen = Snowflake(0, clock=clock)
    ids = [gen.next_id() for _ in range(4097)]
    assert gen.waits == 1 and len(set(ids)) == 4097
    assert parse_snowflake(ids[-1]).timestamp_ms == 1_700_000_000_001
    assert parse_snowflake(ids[-1]).sequence == 0


def test_exhausted_sequence_can_raise_instead() -> None:
    gen = Snowflake(0, clock=SteppableClock(START), on_exhausted="raise")
    for _ in range(4096):
        gen.next_id()
    with pytest.raises(SequenceExhausted):
        gen.next_id()


def test_clock_backwards_raises_by_default_until_time_catches_up() -> None:
    clock = SteppableClock(START)
    gen = Snowflake(0, clock=clock)
    last = gen.next_id()
    clock.step(-0.005)
    with pytest.raises(ClockMovedBackwards) as caught:
        gen.next_id()
    assert caught.value.behind_ms == 5 and gen.backwards == 1
    clock.advance(0.005)
    assert gen.next_id() > last


def test_clock_backwards_can_wait_a_short_step_out() -> None:
    clock = SteppableClock(START)
    gen = Snowflake(0, clock=clock, on_backwards="wait", max_wait=0.01)
    last = gen.next_id()
    clock.step(-0.005)
    assert gen.next_id() > last and gen.waits == 1
    clock.step(-1.0)
    with pytest.raises(ClockMovedBackwards):  # longer than max_wait: raise rather than hang
        gen.next_id()


def test_logical_mode_keeps_issuing_ahead_of_a_clock_that_went_back() -> None:
    clock = SteppableClock(START)
    gen = Snowflake(0, clock=clock, on_backwards="logical")
    ids = [gen.next_id() for _ in range(10)]
    clock.step(-0.5)
    ids += [gen.next_id() for _ in range(5000)]  # exhausts a millisecond: borrows the next
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert gen.waits == 0
    assert parse_snowflake(ids[-1]).timestamp_ms == 1_700_000_000_001


def test_without_a_policy_a_backwards_clock_would_repeat_ids() -> None:
    """Why the policies exist: the naive rule (reset the sequence when the timestamp differs)
    issues the same ids again after a step back."""
    clock = SteppableClock(START)
    seen = set()
    last_ms, sequence = -1, 0
    for step in (0.0, 0.001, -0.001):
        clock.step(step)
        ms = int(clock.now() * 1000) - TWITTER_EPOCH_MS
        sequence = sequence + 1 if ms == last_ms else 0
        last_ms = ms
        seen.add((ms, sequence))
    assert len(seen) == 2  # the third id repeats the first


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"worker": 1024}, ValueError),
        ({"worker": -1}, ValueError),
        ({"worker": True}, TypeError),
        ({"worker": 1, "on_backwards": "ignore"}, ValueError),
        ({"worker": 1, "on_exhausted": "drop"}, ValueError),
        ({"worker": 1, "max_wait": -1}, ValueError),
        ({"worker": 1, "epoch_ms": -5}, ValueError),
    ],
)
def test_snowflake_bad_arguments(kwargs, error) -> None:
    with pytest.raises(error):
        Snowflake(**kwargs)


def test_snowflake_refuses_a_clock_before_its_epoch() -> None:
    with pytest.raises(ValueError, match="41-bit range"):
        Snowflake(0, clock=SteppableClock(1_000.0)).next_id()


def test_uuid7_fields_and_ordering() -> None:
    clock = SteppableClock(START)
    gen = UUIDv7Generator(clock=clock, rng=random.Random(1))
    ids = []
    for _ in range(300):
        ids += [gen.next() for _ in range(3)]
        clock.advance(0.0004)
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in ids)
    assert uuid7_time_ms(ids[0]) == 1_700_000_000_000
    assert ids == sorted(ids) and [str(u) for u in ids] == sorted(str(u) for u in ids)
    assert len(set(ids)) == 900


def test_uuid7_without_monotonic_orders_only_across_milliseconds() -> None:
    clock = SteppableClock(START)
    gen = UUIDv7Generator(clock=clock, rng=random.Random(2), monotonic=False)
    same_ms = [gen.next() for _ in range(200)]
    assert 0.3 < out_of_order(same_ms) < 0.7
    clock.advance(0.001)
    assert gen.next() > max(same_ms)


def test_uuid7_overflow_moves_to_the_next_millisecond() -> None:
    clock = SteppableClock(START)
    gen = UUIDv7Generator(clock=clock, rng=random.Random(1))
    gen.next()
    gen._last_random = (1 << 74) - 1  # the last possible value of this millisecond
    nxt = gen.next()
    assert uuid7_time_ms(nxt) == 1_700_000_000_001


def test_uuid7_rejects_other_versions() -> None:
    with pytest.raises(ValueError):
        uuid7_time_ms(uuid.uuid4())


def test_ulid_encoding_round_trips_and_sorts() -> None:
    assert encode_ulid(0, 0) == "0" * 26
    assert encode_ulid((1 << 48) - 1, (1 << 80) - 1) == "7" + "Z" * 25
    clock = SteppableClock(START)
    gen = ULIDGenerator(clock=clock, rng=random.Random(1))
    ids = []
    for _ in range(100):
        ids += [gen.next(), gen.next()]
        clock.advance(0.0007)
    assert ids == sorted(ids) and len(set(ids)) == 200
    assert ulid_time_ms(ids[0]) == 1_700_000_000_000
    ms, rand = decode_ulid(ids[5].lower())
    assert encode_ulid(ms, rand) == ids[5]
    assert decode_ulid("0123456789ABCDEFGHJKMNPQRS") == decode_ulid("O123456789abcdefghjkmnpqrs")


def test_ulid_overflow_fails_as_the_spec_says() -> None:
    gen = ULIDGenerator(clock=SteppableClock(START), rng=random.Random(1))
    gen.next()
    gen._last_random = (1 << 80) - 1
    with pytest.raises(ULIDOverflow):
        gen.next()


@pytest.mark.parametrize("text", ["8" + "0" * 25, "U" * 26, "short"])
def test_ulid_decode_refuses_bad_text(text: str) -> None:
    with pytest.raises(ValueError):
        decode_ulid(text)


def test_ordering_measures() -> None:
    assert out_of_order([1, 2, 3, 4]) == 0 and out_of_order([4, 3, 2, 1]) == 1
    assert appends([1, 2, 0, 3]) == pytest.approx(2 / 3)
    increasing = list(range(10_000))
    shuffled = increasing[:]
    random.Random(1).shuffle(shuffled)
    assert leaves_touched(increasing, leaf_size=100, window=1000) == 10
    assert leaves_touched(shuffled, leaf_size=100, window=1000) > 30


def test_steppable_clock() -> None:
    clock = SteppableClock(10.0)
    clock.sleep(1)
    assert clock.step(-5) == 6.0
    with pytest.raises(ValueError):
        clock.step(-7)
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_time_inversion() -> None:
    assert time_inversion([1, 2, 3], [0.0, 1.0, 2.0]) == 0.0
    assert time_inversion([3, 1, 2], [0.0, 1.0, 2.5]) == 2.5  # id 3, made first, sorts last
    assert time_inversion([2, 1], [5.0, 3.0]) == 0.0  # sorted by id: made at 3 then at 5
    with pytest.raises(ValueError):
        time_inversion([1, 2], [1.0])
