"""Causal delivery with vector clocks: the rule, the replica, the chat experiment, sticky sessions;
and the latency price of consistency on a healthy network (PACELC's "else")."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patterns.clock import ManualClock
from patterns.consistency import (
    CausalReplica,
    CausalSession,
    Update,
    apply_on_arrival,
    causally_ready,
    chat_experiment,
    latency_vs_consistency,
)


def update(origin: str, seq: int, **deps: int) -> Update:
    return Update(origin, seq, tuple(sorted({**deps, origin: seq}.items())), f"{origin}{seq}")


def test_the_delivery_rule() -> None:
    assert causally_ready({}, update("a", 1))  # the first update from a, depending on nothing
    assert not causally_ready({}, update("a", 2))  # a gap: a's first update has not arrived
    assert not causally_ready({"a": 1}, update("a", 1))  # already applied
    assert not causally_ready({}, update("b", 1, a=1))  # b had seen a's first update; we have not
    assert causally_ready({"a": 1}, update("b", 1, a=1))
    assert causally_ready({"a": 3}, update("b", 1, a=1))  # having seen more is fine
    assert apply_on_arrival({}, update("b", 1, a=1))


def test_a_replica_holds_an_effect_until_its_cause_arrives() -> None:
    clock = ManualClock()
    alice, bob, carol = (CausalReplica(n, clock=clock) for n in ("alice", "bob", "carol"))
    question = alice.write("lost my ring")
    assert bob.receive(question) == [question]
    reply = bob.write("found it", reply_to=question.dot)
    assert reply.deps == (("alice", 1), ("bob", 1))
    assert carol.receive(reply) == [] and carol.held == 1  # the reply overtook the question
    clock.advance(0.03)
    assert carol.receive(question) == [question, reply]  # the question unblocks the reply
    assert carol.log == [question, reply] and carol.anomalies() == 0
    assert carol.held_back == 1 and carol.waits == [pytest.approx(0.03)]
    assert carol.receive(reply) == []  # a duplicate changes nothing
    # without causal delivery the same arrivals show the reply first
    eager = CausalReplica("carol", apply_on_arrival, clock=clock)
    eager.receive(reply)
    eager.receive(question)
    assert eager.anomalies() == 1


def test_chat_experiment_anomalies_only_without_causal_delivery() -> None:
    eager = chat_experiment(apply_on_arrival, conversations=200, seed=0)
    causal = chat_experiment(causally_ready, conversations=200, seed=0)
    assert eager.anomalies == 28 and eager.held == 0  # the figures chapter 11 quotes
    assert causal.anomalies == 0 and causal.held == eager.anomalies
    assert 0 < causal.mean_wait <= causal.max_wait < 0.05
    assert eager.converged and causal.converged


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), slow=st.floats(0.002, 0.2))
def test_causal_delivery_never_shows_an_effect_before_its_cause(seed: int, slow: float) -> None:
    report = chat_experiment(causally_ready, conversations=30, seed=seed, delay=(0.001, slow))
    assert report.anomalies == 0 and report.converged


def test_only_a_sticky_client_keeps_causality_and_availability() -> None:
    clock = ManualClock()
    alice, bob, carol = (CausalReplica(n, clock=clock) for n in ("alice", "bob", "carol"))
    question = alice.write("lost my ring")
    bob.receive(question)
    bob.write("found it", reply_to=question.dot)  # carol is cut off: it has applied nothing
    dave = CausalSession()
    assert [u.text for u in dave.read(bob) or []] == ["lost my ring", "found it"]
    assert dave.read(bob) is not None  # sticky: served
    assert dave.read(carol) is None  # moved: must wait, or see the reply vanish
    fresh = CausalSession()
    assert fresh.read(carol) == []  # a client that saw nothing may read anywhere


def test_validation() -> None:
    with pytest.raises(ValueError, match="replicas"):
        chat_experiment(replicas=("a", "b"))
    with pytest.raises(ValueError, match="conversations"):
        chat_experiment(conversations=0)
    with pytest.raises(TypeError, match="rule"):
        chat_experiment(rule="causal")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="clock"):
        CausalReplica("a", clock=None)  # type: ignore[arg-type]


def test_latency_vs_consistency_prices_the_else_branch() -> None:
    rows = {(r.r, r.w): r for r in latency_vs_consistency()}
    local, quorum = rows[(1, 1)], rows[(2, 2)]
    assert local.read_p99_ms == local.write_p99_ms == 0.0 and local.stale_read_rate > 0.5
    assert quorum.stale_read_rate == 0.0 and quorum.read_p50_ms > 10 and quorum.write_p50_ms > 10
    assert rows[(3, 1)].stale_read_rate == 0.0 and rows[(3, 1)].write_p99_ms == 0.0
    assert 0 < rows[(2, 1)].stale_read_rate < local.stale_read_rate
    with pytest.raises(ValueError, match="R"):
        latency_vs_consistency(3, [(4, 1)])


def test_the_pacelc_table_and_the_quorum_grid_tell_the_same_story() -> None:
    """Chapter 11 prints both; with the same seed and workload their stale-read rates agree."""
    from patterns.consistency import stale_read_rate

    for row in latency_vs_consistency():
        assert row.stale_read_rate == pytest.approx(stale_read_rate(3, row.r, row.w))
