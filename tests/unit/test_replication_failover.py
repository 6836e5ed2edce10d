"""``simulate_failover``: chapter 11's experiment on the simulated primary and replicas."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patterns.replication import FailoverRun, simulate_failover


def test_a_plain_kill_loses_the_writes_still_in_flight() -> None:
    run = simulate_failover(replicas={"replica": 0.001}, interval=0.0001, kill_at=0.5)
    assert run.sent == run.acknowledged and run.unconfirmed == 0
    assert run.lost == pytest.approx(0.001 / 0.0001, abs=1)  # one lag's worth of writes
    assert simulate_failover(replicas={"replica": 0.0}).lost == 0


def test_a_stalled_replica_loses_the_stall_and_wait_turns_it_into_unconfirmed_writes() -> None:
    stalled = simulate_failover(stalled=["replica"])
    waited = simulate_failover(stalled=["replica"], wait=0.05)
    # async: everything acknowledged since the stall began (0.3 s .. 0.75 s, plus one lag) is gone
    assert stalled.lost == pytest.approx((0.75 - 0.3 + 0.001) / 0.0001, rel=0.01)
    assert waited.lost == 0 and waited.unconfirmed == pytest.approx(0.45 / 0.05, abs=1)
    assert waited.acknowledged < stalled.acknowledged  # WAIT costs throughput: one lag per write
    assert stalled == simulate_failover(stalled=["replica"])  # deterministic


def test_wait_for_one_replica_is_not_enough_when_that_replica_dies_too() -> None:
    run = simulate_failover(replicas={"r1": 0.001, "r2": 0.001}, stalled=["r2"], wait=0.05,
                            dies_with_primary=["r1"])
    assert run.promoted == "r2" and run.unconfirmed == 0 and run.lost > 0
    assert simulate_failover(replicas={"r1": 0.001, "r2": 0.001}, stalled=["r2"], wait=0.05).lost == 0


@settings(max_examples=40, deadline=None)
@given(lag=st.floats(0, 0.01), stall_at=st.floats(0, 0.05), stall_for=st.floats(0, 0.1),
       timeout=st.floats(0.001, 0.02), stall=st.booleans())
def test_with_one_replica_wait_never_loses_an_acknowledged_write(
    lag: float, stall_at: float, stall_for: float, timeout: float, stall: bool
) -> None:
    common = {"replicas": {"r": lag}, "stalled": ["r"] if stall else [], "stall_at": stall_at,
              "stall_for": stall_for, "kill_at": 0.08, "interval": 0.0005}
    waited = simulate_failover(wait=timeout, **common)  # type: ignore[arg-type]
    unsafe = simulate_failover(**common)  # type: ignore[arg-type]
    assert waited.lost == 0 and unsafe.lost >= 0
    assert isinstance(waited, FailoverRun) and waited.lost_share == 0.0


@pytest.mark.parametrize("kwargs, error, match", [
    ({"replicas": [("r", 0.1)]}, TypeError, "replicas"),
    ({"stalled": ["nobody"]}, ValueError, "replica names"),
    ({"dies_with_primary": ["replica"]}, ValueError, "survive"),
    ({"kill_at": 0}, ValueError, "kill_at"),
    ({"interval": float("inf")}, ValueError, "interval"),
    ({"kill_at": 1e6}, ValueError, "writes"),
    ({"wait": -1}, ValueError, "wait"),
    ({"label": 3}, TypeError, "label"),
])
def test_bad_arguments_are_refused(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        simulate_failover(**kwargs)
