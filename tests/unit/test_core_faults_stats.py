"""One ``Outage`` and one nearest-rank ``percentile`` for every family (issue 16, items 2 and 8)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

import patterns.capstone
import patterns.resilience.simulation
from patterns.capstone import Ledger, ProviderError, ProviderSpec, SimulatedProvider
from patterns.clock import ManualClock
from patterns.faults import Outage
from patterns.stats import percentile


def test_one_outage_class_everywhere() -> None:
    assert patterns.capstone.Outage is Outage is patterns.resilience.simulation.Outage


def test_outage_window_and_rate() -> None:
    outage = Outage(10, 20)
    assert (outage.covers(9.99), outage.covers(10), outage.covers(19.99), outage.covers(20)) == (
        False, True, True, False
    )
    rng = random.Random(3)
    assert all(outage.strikes(rng) for _ in range(100))
    assert rng.random() == random.Random(3).random()  # a full outage draws nothing
    partial = Outage(0, 1, 0.25)
    strikes = sum(partial.strikes(rng) for _ in range(4000))
    assert 800 < strikes < 1200
    with pytest.raises(ValueError, match="start < end"):
        Outage(5, 5)


def test_a_capstone_provider_honours_a_partial_outage() -> None:
    clock, ledger = ManualClock(), Ledger()
    spec = ProviderSpec("p", "email", error_rate=0.0, outages=(Outage(0, 100, 0.5),))
    provider = SimulatedProvider(spec, clock=clock, rng=random.Random(1), ledger=ledger)
    failed = 0
    for i in range(400):
        try:
            provider.send(f"r{i}", "email")
        except ProviderError as error:
            assert error.reason == "timeout (provider down)"
            failed += 1
    assert 150 < failed < 250 and len(ledger) == 400 - failed


def test_percentile_is_nearest_rank() -> None:
    values = list(range(1, 101))
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (50, 99, 100)
    assert percentile([5.0, 1.0, 3.0, 2.0], 50) == 2.0
    assert percentile((x for x in [3.0, 1.0]), 100) == 3.0
    assert percentile([], 99, empty=0.0) == 0.0
    with pytest.raises(ValueError, match="empty"):
        percentile([], 99)
    with pytest.raises(ValueError, match="q must be"):
        percentile(values, 0)


@given(st.lists(st.floats(-1e9, 1e9), min_size=1, max_size=200), st.floats(0.01, 100))
def test_percentile_is_an_observation_with_q_percent_at_or_below(values: list[float], q: float) -> None:
    p = percentile(values, q)
    assert p in values
    at_or_below = sum(v <= p for v in values)
    assert at_or_below >= q / 100 * len(values) - 1e-9
    assert sum(v < p for v in values) < q / 100 * len(values) + 1e-9  # the smallest such value


def test_estimate_is_a_mean_with_a_student_t_interval() -> None:
    from patterns.stats import Estimate, t_975

    e = Estimate.of([1.0, 2.0, 3.0, 4.0])
    assert e.mean == 2.5 and e.runs == 4
    assert e.half_width == pytest.approx(3.182 * 1.2909944 / 2, rel=1e-6)
    assert e.contains(2.5) and not e.contains(5.0) and str(e) == "2.500 +- 2.054"
    assert (t_975(1), t_975(9), t_975(1000)) == (12.706, 2.262, 1.96)
    with pytest.raises(ValueError, match="values must have 2"):
        Estimate.of([1.0])
