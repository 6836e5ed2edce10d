"""The latency ladder: reference data shape and sources, and the measured rungs' structure and order.

No test asserts an absolute wall time: only structure and orderings that hold by orders of magnitude.
"""

from __future__ import annotations

import math
import threading

import pytest

from patterns.estimate.latency import (
    COMPARABLE_RUNGS,
    DEAN_2009,
    DEAN_SOURCE,
    MEASURED_RUNGS,
    SCOTT_2020,
    SCOTT_SOURCE,
    ladder,
    measure,
    measure_ladder,
    published_vs_measured,
)


@pytest.mark.parametrize("table", [DEAN_2009, SCOTT_2020])
def test_reference_tables_are_well_formed(table: tuple) -> None:
    names = [r.name for r in table]
    assert len(names) == len(set(names))
    assert all(r.seconds > 0 and math.isfinite(r.seconds) for r in table)
    assert all(r.source for r in table)


def test_reference_values_the_chapter_quotes() -> None:
    dean = {r.name: r.seconds for r in DEAN_2009}
    assert dean["main memory reference"] == pytest.approx(100e-9)
    assert dean["round trip within a datacenter"] == pytest.approx(500e-6)
    assert dean["disk seek"] == pytest.approx(10e-3)
    assert dean["packet California -> Netherlands -> California"] == pytest.approx(150e-3)
    assert all(r.source == DEAN_SOURCE for r in DEAN_2009)
    assert all(r.source == SCOTT_SOURCE for r in SCOTT_2020)


def test_ladder_is_sorted_and_classic_orderings_hold() -> None:
    for which in ("2009", "2020"):
        rungs = ladder(which)
        seconds = [r.seconds for r in rungs]
        assert seconds == sorted(seconds)
        order = [r.name for r in rungs]
        assert order.index("main memory reference") < order.index("round trip within a datacenter")
        assert order.index("round trip within a datacenter") < order.index(
            "packet California -> Netherlands -> California")
        assert order[0] == "L1 cache reference"
    with pytest.raises(ValueError, match="which"):
        ladder("2030")


def test_the_2020_column_is_a_projection_whose_implied_rates_the_chapter_quotes() -> None:
    """Scott's page extrapolates 2012 trends: 1 MB from memory in 3 us is 333 GB/s, 1 MB from disk in
    825 us is 1.2 GB/s, and the datacenter round trip is Dean's 500 us, not projected at all."""
    scott = {r.name: r.seconds for r in SCOTT_2020}
    assert 1e6 / scott["read 1 MB sequentially from memory"] == pytest.approx(333e9, rel=0.01)
    assert 1e6 / scott["read 1 MB sequentially from disk"] == pytest.approx(1.21e9, rel=0.01)
    assert scott["round trip within a datacenter"] == {r.name: r.seconds for r in DEAN_2009}[
        "round trip within a datacenter"]
    assert "2012" in SCOTT_SOURCE and "projection" in SCOTT_SOURCE


def test_published_vs_measured_sets_each_rung_beside_its_references() -> None:
    rows = published_vs_measured({"copy 1 MB in memory": 50e-6, "loopback TCP round trip": 20e-6,
                                  "dict lookup": 40e-9})
    assert [r.measured_name for r in rows] == list(COMPARABLE_RUNGS)
    copy, trip = rows
    assert (copy.dean_2009, copy.scott_2020, copy.measured) == (250e-6, 3e-6, 50e-6)
    assert copy.bandwidth(copy.measured) == pytest.approx(20e9)
    assert trip.payload_bytes is None and trip.bandwidth(trip.measured) is None
    assert trip.dean_2009 == trip.scott_2020 == 500e-6
    # in the browser there is no loopback rung: it is left out, not invented
    assert [r.measured_name for r in published_vs_measured({"copy 1 MB in memory": 1e-5})] == [
        "copy 1 MB in memory"]
    with pytest.raises(TypeError, match="measured"):
        published_vs_measured([("copy 1 MB in memory", 1e-5)])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="copy 1 MB in memory"):
        published_vs_measured({"copy 1 MB in memory": 0.0})


@pytest.fixture(scope="module")
def measured() -> dict[str, float]:
    return measure_ladder(repeat=3, min_batch_seconds=0.001)


def test_measure_ladder_structure(measured: dict[str, float]) -> None:
    assert list(measured) == list(MEASURED_RUNGS)
    assert all(isinstance(v, float) and v > 0 and math.isfinite(v) for v in measured.values())


def test_measure_ladder_robust_orderings(measured: dict[str, float]) -> None:
    # Each pair differs by well over an order of magnitude on any machine.
    assert measured["copy 1 MB in memory"] > measured["dict lookup"]
    assert measured["loopback TCP round trip"] > measured["dict lookup"]
    assert measured["SQLite point query"] > measured["dict lookup"]
    assert measured["fakeredis GET"] > measured["dict lookup"]


def test_measure_ladder_cleans_up_its_echo_server(measured: dict[str, float]) -> None:
    assert not any(t.name == "estimate-echo" and t.is_alive() for t in threading.enumerate())


def test_measure_returns_a_per_call_median() -> None:
    calls = []
    result = measure(lambda: calls.append(1), repeat=3, min_batch_seconds=0.0005)
    assert result > 0
    assert len(calls) >= 3  # at least one call per timed batch


def test_measure_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="repeat"):
        measure(lambda: None, repeat=0)
    with pytest.raises(ValueError, match="min_batch_seconds"):
        measure(lambda: None, min_batch_seconds=0)


def test_without_sockets_the_loopback_rung_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """In the browser (forced here) there are no sockets or threads: no echo server is started."""
    monkeypatch.setenv("PATTERNS_BROWSER_MODE", "1")
    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda self: started.append(self))
    result = measure_ladder(repeat=1, min_batch_seconds=0.0005)
    assert list(result) == [name for name in MEASURED_RUNGS if name != "loopback TCP round trip"]
    assert not started
