"""Invariants of the balancing policies and the pool, for any fleet Hypothesis can think of."""

from __future__ import annotations

import math
import random
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from patterns.balancing import (
    Backend,
    ConsistentHash,
    LeastConnections,
    Pool,
    PowerOfTwoChoices,
    WeightedRoundRobin,
)
from patterns.clock import ManualClock

weights = st.lists(st.integers(1, 9), min_size=1, max_size=8)
loads = st.lists(st.integers(0, 50), min_size=1, max_size=12)


@given(weights)
def test_smooth_wrr_gives_each_backend_exactly_its_weight_per_cycle(ws: list[int]) -> None:
    backends = [Backend(f"s{i}", w) for i, w in enumerate(ws)]
    policy = WeightedRoundRobin()
    for _ in range(3):  # every cycle of sum(weights) picks, not just the first
        counts = Counter(policy.choose(backends).name for _ in range(sum(ws)))
        assert counts == {f"s{i}": w for i, w in enumerate(ws)}


@given(loads)
def test_least_connections_always_picks_a_minimum(ls: list[int]) -> None:
    backends = [Backend(f"s{i}", 1.0, n) for i, n in enumerate(ls)]
    policy = LeastConnections()
    for _ in range(len(ls)):
        assert policy.choose(backends).in_flight == min(ls)


@given(loads, st.integers(0, 2**32))
def test_two_choices_never_pick_the_unique_maximum(ls: list[int], seed: int) -> None:
    backends = [Backend(f"s{i}", 1.0, n) for i, n in enumerate(ls)]
    policy = PowerOfTwoChoices(random.Random(seed))
    top = max(ls)
    for _ in range(20):
        chosen = policy.choose(backends)
        if len(ls) >= 2 and ls.count(top) == 1:
            assert chosen.in_flight < top


@given(st.integers(2, 12), st.floats(1.05, 3.0), st.lists(st.integers(0, 30), min_size=1, max_size=300),
       st.integers(0, 2**32))
def test_bounded_loads_hold_under_any_arrivals_and_departures(n: int, c: float, keys: list[int], seed: int) -> None:
    """Whatever arrives and leaves, no backend receives a request while at ceil(c * (total + 1) / n)."""
    backends = [Backend(f"s{i}") for i in range(n)]
    policy = ConsistentHash(load_factor=c, vnodes=20)
    rng = random.Random(seed)
    for key in keys:
        total = sum(b.in_flight for b in backends)
        chosen = policy.choose(backends, key)
        assert chosen.in_flight < math.ceil(c * (total + 1) / n)
        chosen.in_flight += 1
        if rng.random() < 0.3:  # a request finishes somewhere
            busy = [b for b in backends if b.in_flight]
            rng.choice(busy).in_flight -= 1


@given(st.lists(st.tuples(st.sampled_from(["send", "ok", "fail"]), st.integers(0, 3)), max_size=60))
def test_pool_in_flight_counts_never_go_negative_and_match_the_outstanding_requests(ops) -> None:
    pool = Pool(["a", "b", "c", "d"], LeastConnections(), clock=ManualClock())
    outstanding: list[str] = []
    for op, i in ops:
        if op == "send":
            outstanding.append(pool.send())
        elif outstanding:
            pool.finish(outstanding.pop(i % len(outstanding)), ok=op == "ok")
        counts = pool.in_flight()
        assert min(counts.values()) >= 0
        assert counts == {name: outstanding.count(name) for name in "abcd"}
