"""The latency ladder: reference data shape and sources, and the measured rungs' structure and order.

No test asserts an absolute wall time: only structure and orderings that hold by orders of magnitude.
"""

from __future__ import annotations

import math
import threading

import pytest

from patterns.estimate.latency import (
    DEAN_2009,
    DEAN_SOURCE,
    MEASURED_RUNGS,
    SCOTT_2020,
    SCOTT_SOURCE,
    ladder,
    measure,
    measure_ladder,
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
