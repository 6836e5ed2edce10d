"""Guarantees of the chapter-03 simulations: exact results on degenerate inputs, invariants, theory."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from patterns.communication.simulation import (
    LatencyModel,
    mm1,
    p_any_slow,
    simulate_chain,
    simulate_fanout,
    simulate_queue,
)

FIXED = LatencyModel(median=0.01, sigma=0.0, slow_probability=0.0, slow_latency=0.0)


# ---- latency model -------------------------------------------------------------------------


def test_latency_model_is_seeded_and_has_a_slow_path() -> None:
    model = LatencyModel(median=0.01, sigma=0.0, slow_probability=1.0, slow_latency=0.2)
    assert model.sample(random.Random(1)) == pytest.approx(0.21)
    noisy = LatencyModel()
    assert [noisy.sample(random.Random(7)) for _ in range(3)] == [
        noisy.sample(random.Random(7)) for _ in range(3)
    ]


@pytest.mark.parametrize(
    "kwargs, exc, word",
    [
        ((("median", 0),), ValueError, "median"),
        ((("sigma", -1),), ValueError, "sigma"),
        ((("slow_probability", 1.5),), ValueError, "slow_probability"),
        ((("slow_latency", "x"),), TypeError, "slow_latency"),
    ],
)
def test_latency_model_rejects_bad_parameters(kwargs: tuple, exc: type, word: str) -> None:
    with pytest.raises(exc, match=word):
        LatencyModel(**dict(kwargs))


# ---- chains and fan-out ----------------------------------------------------------------------


@given(depth=st.integers(1, 8))
def test_chain_latency_adds_up_hop_by_hop(depth: int) -> None:
    stats = simulate_chain(depth, 5, FIXED)
    assert np.allclose(stats.latencies, depth * 0.01)
    assert stats.ok.all() and stats.calls_per_level == [5] * depth


def test_timeout_caps_the_wait_and_fails_the_request() -> None:
    # top call takes 3 x 10 ms = 30 ms > 25 ms; the two inner calls are on time
    stats = simulate_chain(3, 4, FIXED, timeout=0.025, retries=2)
    assert not stats.ok.any()
    assert np.allclose(stats.latencies, 3 * 0.025)
    assert stats.calls_per_level == [12, 12, 12]


@given(depth=st.integers(1, 5), retries=st.integers(0, 3))
def test_retries_amplify_geometrically_with_depth(depth: int, retries: int) -> None:
    # every call times out, so every caller retries: level i receives (r + 1) ** (i + 1) calls
    stats = simulate_chain(depth, 1, FIXED, timeout=0.001, retries=retries)
    assert stats.calls_per_level == [(retries + 1) ** (i + 1) for i in range(depth)]
    assert stats.latencies[0] == pytest.approx((retries + 1) * 0.001)


def test_chain_tail_grows_with_depth() -> None:
    one = simulate_chain(1, 4000, seed=3)
    ten = simulate_chain(10, 4000, seed=3)
    assert ten.percentile(99) > one.percentile(99)
    assert ten.percentile(50) > 5 * one.percentile(50)


def test_fanout_of_one_is_a_chain_of_one() -> None:
    a = simulate_fanout(1, 200, seed=5)
    b = simulate_chain(1, 200, seed=5)
    assert np.array_equal(a.latencies, b.latencies)


def test_fanout_hits_a_slow_call_as_often_as_theory_says() -> None:
    model = LatencyModel(median=0.01, sigma=0.1, slow_probability=0.02, slow_latency=0.5)
    stats = simulate_fanout(20, 20_000, model, seed=11)
    measured = float((stats.latencies > 0.25).mean())
    assert measured == pytest.approx(p_any_slow(0.02, 20), abs=0.015)


def test_fanout_timeout_bounds_the_wait() -> None:
    model = LatencyModel(slow_probability=0.5, slow_latency=1.0)
    stats = simulate_fanout(4, 500, model, seed=2, timeout=0.2)
    assert stats.latencies.max() <= 0.2
    assert np.all(stats.latencies[~stats.ok] == 0.2)
    assert 0 < stats.failure_rate < 1


@given(p=st.floats(0, 1), n=st.integers(0, 200))
def test_p_any_slow_is_a_probability_growing_with_n(p: float, n: int) -> None:
    value = p_any_slow(p, n)
    assert 0.0 <= value <= 1.0
    assert p_any_slow(p, n + 1) >= value
    assert p_any_slow(p, 1) == pytest.approx(p)


@pytest.mark.parametrize(
    "call, word",
    [
        (lambda: simulate_chain(0, 1), "depth"),
        (lambda: simulate_chain(2, 1, timeout=0), "timeout"),
        (lambda: simulate_chain(2, 1, retries=-1), "retries"),
        (lambda: simulate_fanout(0, 1), "width"),
        (lambda: p_any_slow(2, 3), "p"),
        (lambda: simulate_chain(2, 1).percentile(101), "q"),
    ],
)
def test_bad_chain_arguments_are_named(call, word: str) -> None:
    with pytest.raises(ValueError, match=word):
        call()


# ---- M/M/1 and the SimPy queue -----------------------------------------------------------


def test_mm1_textbook_values() -> None:
    q = mm1(8, 10)
    assert (q.rho, q.W, q.Wq, q.L, q.Lq) == pytest.approx((0.8, 0.5, 0.4, 4.0, 3.2))


@given(lam=st.floats(0.01, 100), gap=st.floats(0.01, 100))
def test_mm1_obeys_littles_law(lam: float, gap: float) -> None:
    q = mm1(lam, lam + gap)
    assert math.isclose(q.L, lam * q.W, rel_tol=1e-9)
    assert math.isclose(q.Lq, lam * q.Wq, rel_tol=1e-9)
    assert math.isclose(q.W, q.Wq + 1 / (lam + gap), rel_tol=1e-9)


@pytest.mark.parametrize("lam, mu", [(10, 10), (11, 10)])
def test_mm1_refuses_an_unstable_queue(lam: float, mu: float) -> None:
    with pytest.raises(ValueError, match="arrival_rate must be < service_rate"):
        mm1(lam, mu)


def test_simulated_mm1_matches_theory_and_littles_law() -> None:
    stats = simulate_queue(5, 10, duration=3000, warmup=100, seed=1)
    theory = mm1(5, 10)
    assert stats.mean_sojourn == pytest.approx(theory.W, rel=0.1)
    assert stats.mean_wait == pytest.approx(theory.Wq, rel=0.15)
    assert stats.mean_in_system == pytest.approx(stats.arrival_rate * stats.mean_sojourn, rel=0.05)


@given(
    rate=st.floats(0.5, 30),
    mu=st.floats(1, 20),
    workers=st.integers(1, 4),
    capacity=st.one_of(st.none(), st.integers(0, 5)),
    seed=st.integers(0, 10_000),
)
def test_queue_conserves_jobs_and_respects_capacity(rate, mu, workers, capacity, seed) -> None:
    stats = simulate_queue(rate, mu, duration=20, workers=workers, capacity=capacity, seed=seed)
    still_inside = int(stats.trace_n[-1])
    assert stats.arrived == stats.rejected + stats.completed + still_inside
    assert stats.trace_n.min() >= 0
    assert np.all(stats.sojourns >= stats.waits) and np.all(stats.waits >= 0)
    if capacity is not None:
        assert stats.trace_n.max() <= workers + capacity
    else:
        assert stats.rejected == 0
    if capacity == 0:
        assert np.all(stats.waits == 0)


def test_queue_absorbs_a_spike_that_a_bufferless_service_rejects() -> None:
    spike = [(0, 5), (30, 25), (45, 5)]
    queued = simulate_queue(spike, 10, duration=200, seed=4)
    direct = simulate_queue(spike, 10, duration=200, capacity=0, seed=4)
    assert queued.rejected == 0 and queued.completed == queued.arrived
    assert direct.rejected > 0.3 * direct.arrived
    assert queued.trace_n.max() > 100  # the backlog the queue held


def test_arrival_steps_change_the_rate() -> None:
    stats = simulate_queue([(0, 0), (50, 20)], 100, duration=100, seed=9)
    assert stats.trace_t[1] >= 50  # nothing arrives while the rate is zero
    assert stats.arrived == pytest.approx(1000, rel=0.15)


def test_queue_is_deterministic_per_seed() -> None:
    a = simulate_queue(8, 10, duration=50, seed=3)
    b = simulate_queue(8, 10, duration=50, seed=3)
    assert np.array_equal(a.sojourns, b.sojourns) and a.mean_in_system == b.mean_in_system


@pytest.mark.parametrize(
    "kwargs, exc, word",
    [
        ((("arrivals", ((1, 5),)),), ValueError, "start at time 0"),
        ((("arrivals", ((0, 5), (0, 6))),), ValueError, "increasing"),
        ((("arrivals", "fast"),), TypeError, "arrivals"),
        ((("arrivals", -1),), ValueError, "arrivals"),
        ((("workers", 0),), ValueError, "workers"),
        ((("capacity", -1),), ValueError, "capacity"),
        ((("warmup", 10),), ValueError, "warmup"),
        ((("service_rate", math.inf),), ValueError, "service_rate"),
    ],
)
def test_bad_queue_arguments_are_named(kwargs: tuple, exc: type, word: str) -> None:
    # (name, value) pairs, not dicts: parameters must be hashable for tests/conftest.py
    args = {"arrivals": 5, "service_rate": 10, "duration": 10} | dict(kwargs)
    with pytest.raises(exc, match=word):
        simulate_queue(**args)


def test_jobs_arriving_during_warmup_are_not_measured() -> None:
    stats = simulate_queue(((0, 20), (50, 0)), 30, duration=100, warmup=60, seed=1)
    assert stats.arrived == 0 and stats.completed == 0 and stats.waits.size == 0
    assert stats.mean_in_system == 0.0  # the warm-up backlog has drained by t = 60


def test_per_hop_timeouts_and_retries() -> None:
    # calls into level 2 take 10 ms (limit 5 ms: always late); levels 0 and 1 have no limit
    stats = simulate_chain(3, 2, FIXED, timeout=(None, None, 0.005), retries=(0, 0, 2))
    assert stats.calls_per_level == [2, 2, 6]
    assert not stats.ok.any()
    assert np.allclose(stats.latencies, 0.01 + 0.01 + 3 * 0.005)
    # a budget that shrinks with depth never times out a healthy fixed-latency chain
    ok = simulate_chain(3, 2, FIXED, timeout=(0.035, 0.025, 0.015), retries=1)
    assert ok.ok.all() and ok.calls_per_level == [2, 2, 2]


def test_per_hop_sequences_must_match_depth() -> None:
    with pytest.raises(ValueError, match="depth=3"):
        simulate_chain(3, 1, timeout=(0.1, 0.1))
    with pytest.raises(ValueError, match="retries"):
        simulate_chain(2, 1, retries=(0, -1))


def test_replications_put_the_mm1_theory_inside_their_interval() -> None:
    from patterns.communication import mean_time_in_system

    estimate = mean_time_in_system(5.0, 10.0, duration=400.0, warmup=40.0, seeds=range(6))
    assert estimate.runs == 6 and estimate.half_width > 0
    assert estimate.contains(mm1(5.0, 10.0).W)
    with pytest.raises(ValueError, match="seeds must have 2"):
        mean_time_in_system(5.0, 10.0, duration=400.0, warmup=40.0, seeds=[1])
