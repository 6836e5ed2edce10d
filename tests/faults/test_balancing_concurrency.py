"""Shared state under threads: a Pool's counts and a Snowflake generator's uniqueness."""

from __future__ import annotations

import random

from patterns.balancing import LeastConnections, OutlierDetector, Pool, PowerOfTwoChoices
from patterns.clock import ManualClock
from patterns.ids import Snowflake, SteppableClock, ULIDGenerator, UUIDv7Generator
from tests.helpers import run_threads


def test_pool_counts_survive_eight_threads() -> None:
    clock = ManualClock()
    pool = Pool([f"s{i}" for i in range(5)], PowerOfTwoChoices(random.Random(1)),
                outlier=OutlierDetector(consecutive_errors=1000, clock=clock), clock=clock)
    peak = {"max": 0}

    def worker(i: int) -> None:
        rng = random.Random(i)
        for _ in range(2000):
            with pool.request() as name:
                assert name.startswith("s")
                if rng.random() < 0.01:
                    peak["max"] = max(peak["max"], sum(pool.in_flight().values()))
    assert run_threads(8, worker) == []
    assert pool.in_flight() == {f"s{i}": 0 for i in range(5)}
    assert peak["max"] <= 8


def test_least_connections_pool_with_membership_changes_under_threads() -> None:
    pool = Pool(["a", "b", "c"], LeastConnections(), clock=ManualClock())

    def worker(i: int) -> None:
        for j in range(1000):
            if i == 0 and j % 50 == 0:
                pool.update(["a", "b", "c"] if j % 100 else ["a", "b", "c", "d"])
            name = pool.send()
            pool.finish(name)
    assert run_threads(6, worker) == []
    assert set(pool.in_flight().values()) == {0}


def test_snowflake_ids_stay_unique_across_threads_and_exhausted_milliseconds() -> None:
    clock = SteppableClock()  # never advanced by hand: only sequence exhaustion moves it
    generator = Snowflake(3, clock=clock)
    ids: list[list[int]] = [[] for _ in range(8)]

    def worker(i: int) -> None:
        ids[i].extend(generator.next_id() for _ in range(3000))
    assert run_threads(8, worker) == []
    everything = [x for chunk in ids for x in chunk]
    assert len(set(everything)) == 24_000
    assert all(chunk == sorted(chunk) for chunk in ids)  # each thread saw increasing ids
    assert generator.waits >= 24_000 // 4096


def test_time_ordered_generators_are_unique_and_increasing_across_threads() -> None:
    clock = SteppableClock()
    for generator in (UUIDv7Generator(clock=clock, rng=random.Random(1)),
                      ULIDGenerator(clock=clock, rng=random.Random(1))):
        ids: list[list[object]] = [[] for _ in range(6)]

        def worker(i: int, generator=generator, ids=ids) -> None:
            for _ in range(2000):
                ids[i].append(generator.next())
        assert run_threads(6, worker) == []
        everything = [x for chunk in ids for x in chunk]
        assert len(set(everything)) == 12_000
        assert all(chunk == sorted(chunk) for chunk in ids)
