"""Unit tests: latency composition, the product rule, deployments, and bad input."""

from __future__ import annotations

import random

import pytest

from patterns.architecture import (
    DATACENTER,
    IN_PROCESS,
    SHOP_COMPONENTS,
    Call,
    Component,
    Latency,
    Network,
    SimulationResult,
    System,
    chain,
    exact_availability,
    exact_latency,
    fanout_slow_probability,
    network_hops,
    shop,
    simulate,
    units_touched,
)


def test_fixed_latencies_add_and_parallel_takes_the_slowest() -> None:
    a, b = Latency.fixed(2.0), Latency.fixed(3.5)
    assert (a + b).quantile(1.0) == pytest.approx(5.5)
    assert Latency.slowest([a, b]).quantile(0.5) == pytest.approx(3.5)


def test_convolution_of_two_coins() -> None:
    coin = Latency.from_points({0.0: 0.5, 10.0: 0.5})
    total = coin + coin
    assert total.cdf(0.0) == pytest.approx(0.25)
    assert total.cdf(10.0) == pytest.approx(0.75)
    assert total.mean() == pytest.approx(10.0)


def test_slowest_of_two_coins() -> None:
    coin = Latency.from_points({1.0: 0.5, 10.0: 0.5})
    assert Latency.slowest([coin, coin]).cdf(1.0) == pytest.approx(0.25)


def test_lognormal_hits_its_median_and_p99() -> None:
    lat = Latency.lognormal(2.0, 20.0, points=200)
    assert lat.quantile(0.5) == pytest.approx(2.0, abs=0.15)
    assert lat.quantile(0.99) == pytest.approx(20.0, rel=0.15)


def test_chain_availability_is_the_product_rule() -> None:
    system = chain(10, availability=0.999)
    assert exact_availability(system, "s0", IN_PROCESS) == pytest.approx(0.999 ** 10)
    assert exact_availability(system.as_monolith(), "s0", DATACENTER) == pytest.approx(0.999)


def test_network_failures_count_per_remote_hop() -> None:
    system = chain(4, availability=1.0)
    net = Network(hop=Latency.fixed(1.0), serialization_ms=0.0, failure_probability=0.01)
    assert network_hops(system, "s0") == 3
    assert exact_availability(system, "s0", net) == pytest.approx(0.99 ** 3)
    assert network_hops(system.as_monolith(), "s0") == 0


def test_a_unit_counts_once_even_when_called_twice() -> None:
    comps = [Component(n, Latency.fixed(1.0), 0.9) for n in "abc"]
    system = System(comps, [Call("a", "b", 0), Call("a", "c", 1), Call("c", "b")])
    assert units_touched(system, "a") == {"a", "b", "c"}
    assert exact_availability(system, "a", IN_PROCESS) == pytest.approx(0.9 ** 3)


def test_remote_calls_add_hop_and_serialization() -> None:
    system = chain(3, work=Latency.fixed(1.0))
    net = Network(hop=Latency.fixed(2.0), serialization_ms=0.5, failure_probability=0.0)
    assert exact_latency(system, "s0", net).quantile(1.0) == pytest.approx(3 * 1.0 + 2 * 2.5)
    assert exact_latency(system.as_monolith(), "s0", net).quantile(1.0) == pytest.approx(3.0)


def test_parallel_steps_are_faster_than_serial_ones() -> None:
    serial, parallel = exact_latency(shop(), "gateway"), exact_latency(shop(parallel_checks=True), "gateway")
    assert parallel.mean() < serial.mean()


def test_async_call_neither_delays_nor_fails_the_request() -> None:
    sync, asyn = shop(), shop(notifications_async=True)
    assert "notifications" not in units_touched(asyn, "gateway")
    assert exact_availability(asyn, "gateway") > exact_availability(sync, "gateway")
    assert exact_latency(asyn, "gateway").mean() < exact_latency(sync, "gateway").mean()


def test_simulation_is_deterministic_and_near_exact() -> None:
    system = shop()
    one = simulate(system, "gateway", requests=4000, rng=random.Random(3))
    two = simulate(system, "gateway", requests=4000, rng=random.Random(3))
    assert one == two
    exact = exact_latency(system, "gateway")
    assert abs(one.availability - exact_availability(system, "gateway")) <= one.tolerance()
    assert one.latency_percentile(0.5) == pytest.approx(exact.quantile(0.5), rel=0.05)


def test_fanout_slow_probability() -> None:
    assert fanout_slow_probability(1) == pytest.approx(0.01)
    assert fanout_slow_probability(100) == pytest.approx(1 - 0.99 ** 100)


def test_latency_percentile_is_nearest_rank_of_a_fraction() -> None:
    run = SimulationResult(requests=4, successes=4, latencies_ms=(5.0, 1.0, 3.0, 2.0))
    assert run.latency_percentile(0.5) == 2.0 and run.latency_percentile(1.0) == 5.0
    with pytest.raises(ValueError, match="q must be a number in"):
        run.latency_percentile(99)  # a fraction, not a percent


@pytest.mark.parametrize(("build", "word"), [
    (lambda: Component("a", availability=1.5), "availability"),
    (lambda: Component("a", availability=-0.1), "availability"),
    (lambda: Component("a", availability="high"), "availability"),
    (lambda: Network(failure_probability=2.0), "failure_probability"),
    (lambda: Network(serialization_ms=-1.0), "serialization_ms"),
    (lambda: Call("a", "b", step=-1), "step"),
    (lambda: Call("a", "a"), "itself"),
    (lambda: System([Component("a")], [Call("a", "ghost")]), "unknown component 'ghost'"),
    (lambda: System([Component("a"), Component("a")]), "duplicate"),
    (lambda: System([Component("a"), Component("b")], [Call("a", "b"), Call("b", "a")]), "DAG"),
    (lambda: System([Component("a")], units={"b": "x"}), "units"),
    (lambda: Latency.lognormal(5.0, 1.0), "p99_ms"),
    (lambda: Latency.fixed(-1.0), "ms"),
    (lambda: Latency([0.5, 0.2]), "sum to 1"),
    (lambda: Latency.fixed(1.0).quantile(0.0), "q"),
    (lambda: chain(0), "n"),
    (lambda: simulate(chain(2), "s0", requests=0, rng=random.Random(1)), "requests"),
    (lambda: exact_availability(chain(2), "nope"), "entry"),
    (lambda: fanout_slow_probability(3, 1.0), "quantile"),
])
def test_bad_input_names_the_parameter(build, word) -> None:
    with pytest.raises((ValueError, TypeError), match=word):
        build()


def test_async_cycle_is_allowed() -> None:
    system = System([Component("a"), Component("b")], [Call("a", "b"), Call("b", "a", asynchronous=True)])
    assert units_touched(system, "a") == {"a", "b"}


def test_like_for_like_the_monolith_keeps_its_lead() -> None:
    """Chapter 1 compares deployments like for like: the design fixes that rescue the split
    (parallel lookups, an asynchronous notification) need no network, so the monolith gets them too,
    and then it beats every split deployment on availability and on p99 (99.90 %, 31.9 ms)."""
    improved = shop(parallel_checks=True, notifications_async=True)
    core = {c: "core" for c in SHOP_COMPONENTS} | {"gateway": "edge", "payments": "payments",
                                                    "notifications": "notifications"}
    monolith = improved.as_monolith()
    mono_p99 = exact_latency(monolith, "gateway").quantile(0.99)
    assert exact_availability(monolith, "gateway") == pytest.approx(0.999)
    assert mono_p99 == pytest.approx(31.9)
    for split in (improved, improved.deployed(core)):
        assert exact_availability(split, "gateway") < exact_availability(monolith, "gateway")
        assert exact_latency(split, "gateway").quantile(0.99) > mono_p99
