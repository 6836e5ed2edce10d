"""The fleet simulation and the balls-into-bins experiment reproduce the chapter's results."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from patterns.balancing import (
    ConsistentHash,
    FleetConfig,
    LeastConnections,
    PowerOfTwoChoices,
    RandomChoice,
    RoundRobin,
    SimClock,
    WeightedRoundRobin,
    asymptotic_max_load,
    fluid_fractions,
    level_fractions,
    max_load,
    max_loads,
    predicted_max_load,
    simulate_fleet,
    supermarket_tail,
)
from patterns.faults import Outage

SLOW = FleetConfig(slowdown={0: 5.0}, requests=4000)


def test_a_run_is_reproducible_from_its_seed() -> None:
    a = simulate_fleet(PowerOfTwoChoices(random.Random(1)), SLOW, seed=3)
    b = simulate_fleet(PowerOfTwoChoices(random.Random(1)), SLOW, seed=3)
    assert a.served == b.served and np.array_equal(a.latencies, b.latencies)
    assert len(a.latencies) == 4000 and sum(a.served) == 4000


def test_capacity_and_arrival_rate() -> None:
    assert SLOW.capacity == pytest.approx(9 / 0.01 + 1 / 0.05)
    assert SLOW.arrival_rate == pytest.approx(0.7 * 920)


def test_round_robin_overloads_the_slow_server_and_load_aware_policies_do_not() -> None:
    rr = simulate_fleet(RoundRobin(), SLOW)
    lc = simulate_fleet(LeastConnections(), SLOW)
    p2c = simulate_fleet(PowerOfTwoChoices(random.Random(1)), SLOW)
    assert rr.shares[0] == pytest.approx(0.1, abs=0.001)
    assert rr.peak_in_flight[0] > 100  # 64 req/s offered to a server that serves 20
    for run in (lc, p2c):
        assert run.shares[0] < 0.05 and run.peak_in_flight[0] < 20
        assert run.p99 < rr.p99 / 10


def test_weights_that_match_capacity_fix_round_robin() -> None:
    config = FleetConfig(slowdown={0: 5.0}, weights={0: 1, **{i: 5 for i in range(1, 10)}}, requests=4000)
    run = simulate_fleet(WeightedRoundRobin(), config)
    assert run.shares[0] == pytest.approx(1 / 46, abs=0.002)
    assert run.p99 < simulate_fleet(RoundRobin(), SLOW).p99 / 10


def test_least_connections_feeds_a_black_hole_and_ejection_starves_it() -> None:
    failing = {0: Outage(1.0, 1e9)}
    rr = simulate_fleet(RoundRobin(), FleetConfig(failing=failing, requests=4000))
    lc = simulate_fleet(LeastConnections(), FleetConfig(failing=failing, requests=4000))
    assert lc.shares[0] > 1.5 * rr.shares[0]  # fast failures keep its in-flight count low
    assert lc.errors > 1.5 * rr.errors
    ejecting = simulate_fleet(LeastConnections(), FleetConfig(failing=failing, requests=4000, eject_after=5))
    assert ejecting.errors == 5 and len(ejecting.ejections) == 1
    checked = simulate_fleet(LeastConnections(), FleetConfig(failing=failing, requests=4000, health_interval=1.0))
    assert ejecting.errors < checked.errors < lc.errors


def test_consistent_hashing_raises_the_hit_ratio_and_bounded_loads_cap_the_hot_server() -> None:
    config = FleetConfig(keys=5000, cache_size=300, requests=6000)
    rr = simulate_fleet(RoundRobin(), config)
    ch = simulate_fleet(ConsistentHash(), config)
    bounded = simulate_fleet(ConsistentHash(load_factor=1.25), config)
    assert ch.hit_ratio > rr.hit_ratio + 0.15
    assert bounded.hit_ratio > rr.hit_ratio + 0.08
    assert max(bounded.peak_in_flight) < max(ch.peak_in_flight)


def test_layer_4_balances_connections_and_layer_7_requests() -> None:
    l4 = simulate_fleet(RoundRobin(), FleetConfig(connections=30, layer="L4", requests=4000))
    l7 = simulate_fleet(RoundRobin(), FleetConfig(connections=30, layer="L7", requests=4000))
    assert max(l7.shares) < 0.11
    assert max(l4.shares) > 0.2  # the heaviest connection's server
    assert l4.p99 > 10 * l7.p99


def test_stale_reports_make_least_connections_worse_than_two_choices() -> None:
    config = FleetConfig(report_every=0.5, requests=4000)
    lc = simulate_fleet(LeastConnections(), config)
    p2c = simulate_fleet(PowerOfTwoChoices(random.Random(1)), config)
    assert lc.p99 > 3 * p2c.p99


def test_no_eligible_backend_is_counted_not_raised() -> None:
    config = FleetConfig(servers=1, failing={0: Outage(0.0, 1e9)}, eject_after=1, requests=50)
    run = simulate_fleet(RoundRobin(), config)
    assert run.errors == 1 and run.refused > 0 and run.errors + run.refused + len(run.latencies) == 50


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"servers": 0}, ValueError),
        ({"slowdown": {10: 2.0}}, ValueError),
        ({"slowdown": {0: 0}}, ValueError),
        ({"utilisation": 0}, ValueError),
        ({"requests": 10**9}, ValueError),
        ({"failing": {0: "down"}}, TypeError),
        ({"cache_size": 10}, ValueError),
        ({"layer": "L3"}, ValueError),
        ({"weights": {0: -1}}, ValueError),
        ({"service_time": math.inf}, ValueError),
    ],
)
def test_bad_configurations(kwargs, error) -> None:
    with pytest.raises(error):
        FleetConfig(**kwargs)


def test_simulate_refuses_a_non_policy() -> None:
    with pytest.raises(TypeError):
        simulate_fleet("round robin")  # type: ignore[arg-type]


def test_sim_clock_cannot_sleep() -> None:
    import simpy

    with pytest.raises(RuntimeError):
        SimClock(simpy.Environment()).sleep(1)


# ---------------------------------------------------------------------------- balls into bins


def test_two_choices_cut_the_maximum_load() -> None:
    n = 1 << 14
    one = max_loads(n, 1, range(5))
    two = max_loads(n, 2, range(5))
    assert min(one) >= 6 and max(two) <= 4


def test_every_ball_lands_somewhere() -> None:
    fractions = level_fractions(1000, 2, seed=1)
    assert fractions[0] == 1.0
    assert round(fractions[1:].sum() * 1000) == 1000  # sum over i of #bins with >= i balls = balls


def test_fluid_limit_for_one_choice_is_the_poisson_tail() -> None:
    s = fluid_fractions(1, 1.0)
    poisson_tail = [1 - sum(math.exp(-1) / math.factorial(j) for j in range(i)) for i in range(6)]
    assert s[:6] == pytest.approx(poisson_tail, abs=1e-9)


def test_prediction_matches_the_measured_mean_within_half_a_ball() -> None:
    for n, d in ((1 << 10, 1), (1 << 10, 2), (1 << 14, 2), (1 << 12, 3)):
        measured = np.mean(max_loads(n, d, range(20)))
        assert abs(measured - predicted_max_load(n, d)) < 0.5, (n, d)


def test_asymptotic_terms() -> None:
    assert asymptotic_max_load(1 << 20, 1) == pytest.approx(math.log(2**20) / math.log(math.log(2**20)))
    assert asymptotic_max_load(1 << 20, 2) == pytest.approx(math.log(math.log(2**20)) / math.log(2))


def test_zero_balls_and_bad_sizes() -> None:
    assert max_load(10, 2, balls=0) == 0
    with pytest.raises(ValueError):
        max_load(0)
    with pytest.raises(ValueError):
        max_load(1 << 30)
    with pytest.raises(ValueError):
        fluid_fractions(2, load=-1)


def test_occupancy_of_one_server_is_the_mm1_tail() -> None:
    """One server, Poisson arrivals, exponential service: P(at least i requests) = rho**i."""
    run = simulate_fleet(RoundRobin(), FleetConfig(servers=1, utilisation=0.5, requests=20_000, warmup=1.0))
    assert run.occupancy[0] == 1.0
    assert list(run.occupancy) == sorted(run.occupancy, reverse=True)
    for i in (1, 2, 3):
        assert run.occupancy[i] == pytest.approx(0.5**i, abs=0.03)


def test_two_choices_make_the_queue_tail_doubly_exponential() -> None:
    config = FleetConfig(servers=20, utilisation=0.8, requests=20_000, warmup=1.0)
    one = simulate_fleet(RandomChoice(random.Random(1)), config)
    two = simulate_fleet(PowerOfTwoChoices(random.Random(1)), config)
    assert one.occupancy[4] == pytest.approx(supermarket_tail(0.8, 1, 4)[4], abs=0.05)
    assert two.occupancy[3] == pytest.approx(supermarket_tail(0.8, 2, 3)[3], abs=0.05)
    assert two.occupancy[4] < one.occupancy[4] / 5


def test_supermarket_tail() -> None:
    assert supermarket_tail(0.5, 1, 3) == [1.0, 0.5, 0.25, 0.125]
    assert supermarket_tail(0.5, 2, 3) == [1.0, 0.5, 0.125, 0.5**7]
    with pytest.raises(ValueError):
        supermarket_tail(1.0)
