"""Properties of the casebook (Hypothesis): rubric verdicts, diagrams, estimates, experiment invariants."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patterns.casebook import case
from patterns.casebook.idservice import late_ids
from patterns.casebook.model import VERDICTS, diagram
from patterns.casebook.newsfeed import fanout_costs, follower_graph
from patterns.casebook.ratelimiter import shared_limit
from patterns.diagrams.figures.casebook import draw

RUBRIC = case("shortener").rubric
ORDER = [name for _, name in reversed(VERDICTS)]  # worst first
marks = st.fixed_dictionaries({area: st.integers(0, 3) for area in RUBRIC.areas})
GRAPH = follower_graph(users=1_500, average_follows=15, seed=9)


@given(marks)
def test_verdict_follows_the_mean_and_a_red_flag_caps_it(m: dict[str, int]) -> None:
    score = RUBRIC.score(m)
    assert score.total == sum(m.values()) and score.maximum == 15
    expected = next(name for threshold, name in VERDICTS if score.mean >= threshold)
    if 0 in m.values() and expected in ("hire", "strong hire"):
        expected = "lean no hire"
    assert score.verdict == expected
    assert set(score.red_flags) == {a for a, v in m.items() if v == 0}


@given(marks, st.sampled_from(RUBRIC.areas))
def test_a_better_mark_never_worsens_the_verdict(m: dict[str, int], area: str) -> None:
    better = {**m, area: min(3, m[area] + 1)}
    assert ORDER.index(RUBRIC.score(better).verdict) >= ORDER.index(RUBRIC.score(m).verdict)


ids = st.text(alphabet="abcdefgh", min_size=1, max_size=4).map(lambda s: "n" + s)


@given(st.lists(ids, min_size=1, max_size=8, unique=True), st.data())
def test_drawing_and_alt_text_name_every_node_and_edge(names: list[str], data: st.DataObject) -> None:
    nodes = [(n, f"box {n}", "service") for n in names]
    edges = data.draw(st.lists(st.tuples(st.sampled_from(names), st.sampled_from(names),
                                         st.sampled_from(["", "calls"])), max_size=10))
    d = diagram("t", nodes, edges)
    dot, alt = draw(d, "a property").dot, d.alt_text()
    assert all(f'"{n}" [' in dot and f'label="box {n}"' in dot for n in names)
    assert dot.count(" -> ") == len(edges)
    assert all(f"box {s} to box {t}" in alt for s, t, _ in edges)


@given(st.floats(min_value=1e3, max_value=1e10))
def test_peak_numbers_are_proportional_to_users(users: float) -> None:
    base = case("chat", 1e6).design.estimate
    scaled = case("chat", users).design.estimate
    for name in ("average_msgs", "peak_msgs", "storage_per_year", "heartbeats"):
        assert scaled[name] == pytest.approx(base[name] * users / 1e6, rel=1e-9)


@settings(max_examples=40)
@given(st.floats(min_value=0, max_value=2_000))
def test_hybrid_fanout_respects_its_threshold(threshold: float) -> None:
    push, pull, hybrid = fanout_costs(GRAPH, thresholds=(threshold,))
    if threshold > 0:
        assert hybrid.worst_post < threshold
    assert pull.write_ops <= hybrid.write_ops <= push.write_ops
    assert push.read_ops <= hybrid.read_ops <= pull.read_ops + push.read_ops  # + its own timeline read
    assert hybrid.p99_read >= 1


@settings(max_examples=40)
@given(st.floats(min_value=0, max_value=2_000), st.floats(min_value=0, max_value=2_000))
def test_a_higher_threshold_pushes_more_and_pulls_less(a: float, b: float) -> None:
    low, high = sorted((a, b))
    _, _, lo, hi = fanout_costs(GRAPH, thresholds=(low, high))
    assert lo.write_ops <= hi.write_ops and lo.read_ops >= hi.read_ops and lo.worst_post <= hi.worst_post


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=200), st.floats(min_value=0, max_value=5))
def test_sorted_ids_are_never_late(values: list[int], window: float) -> None:
    times = [i * 0.01 for i in range(len(values))]
    assert late_ids(times, sorted(values), window) == 0.0
    assert 0.0 <= late_ids(times, values, window) <= 1.0


@settings(max_examples=30)
@given(st.integers(1, 2**32), st.integers(100, 3_000), st.integers(1, 20), st.floats(0.01, 1.0))
def test_only_the_synced_limit_can_over_admit(seed: int, rate: int, batch: int, sync: float) -> None:
    rng = random.Random(seed)
    trace = []
    t = 0.0
    while True:
        t += rng.expovariate(rate)
        if t >= 3.0:
            break
        trace.append((t, rng.randrange(10)))
    rows = {r.strategy: r for r in shared_limit(trace, limit=200, servers=10, batch=batch, sync=sync, duration=3.0)}
    assert rows["central"].admitted == rows["central"].exact
    for name, row in rows.items():
        assert row.admitted <= row.offered and row.exact <= row.offered
        if name != "synced":
            assert row.over_admitted == 0, name
    assert rows["central"].wrongly_refused == 0 and rows["synced"].wrongly_refused == 0
