"""Properties: the simulation converges to the product rule, serial dependencies never help, and the
boundary checker finds every violation injected into a generated package."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from patterns.architecture import (
    Call,
    Component,
    Latency,
    Network,
    System,
    check_boundaries,
    exact_availability,
    exact_latency,
    simulate,
)

probabilities = st.floats(min_value=0.5, max_value=1.0)


@st.composite
def systems(draw: st.DrawFn) -> System:
    """A random DAG of 1..6 components (edges only go from lower to higher index)."""
    n = draw(st.integers(1, 6))
    comps = [Component(f"c{i}", Latency.fixed(draw(st.sampled_from([0.0, 1.0, 2.5]))), draw(probabilities))
             for i in range(n)]
    calls = [Call(f"c{i}", f"c{j}", draw(st.integers(0, 2)))
             for i in range(n) for j in range(i + 1, n) if draw(st.booleans())]
    units = {f"c{i}": f"u{draw(st.integers(0, n - 1))}" for i in range(n)}
    return System(comps, calls, units)


@settings(max_examples=40, deadline=None)
@given(systems(), st.floats(0.0, 0.2), st.integers(0, 2**32 - 1))
def test_simulated_availability_converges_to_the_product_rule(system, fail, seed) -> None:
    # Tolerance: 5 binomial standard errors of a 2,000-request estimate (+1/2000); a false alarm
    # has probability below 1e-6 per example.
    net = Network(hop=Latency.fixed(0.5), serialization_ms=0.1, failure_probability=fail)
    result = simulate(system, "c0", net, requests=2000, rng=random.Random(seed))
    exact = exact_availability(system, "c0", net)
    assert abs(result.availability - exact) <= result.tolerance(5.0)


@settings(deadline=None)
@given(systems(), st.floats(0.5, 1.0), st.floats(0.0, 0.2))
def test_adding_a_serial_dependency_never_increases_availability(system, availability, fail) -> None:
    net = Network(hop=Latency.fixed(0.5), failure_probability=fail)
    before = exact_availability(system, "c0", net)
    new = Component("extra", Latency.fixed(1.0), availability)
    for unit in (None, system.units["c0"]):              # its own service, or inside c0's unit
        units = dict(system.units, extra=unit or "extra-unit")
        grown = System([*system.components.values(), new], [*system.calls, Call("c0", "extra", 9)], units)
        assert exact_availability(grown, "c0", net) <= before + 1e-12
        assert exact_latency(grown, "c0", net).mean() >= exact_latency(system, "c0", net).mean() - 1e-9


@settings(max_examples=40, deadline=None)
@given(systems())
def test_exact_latency_matches_simulation_for_fixed_work(system) -> None:
    net = Network(hop=Latency.fixed(0.5), serialization_ms=0.1, failure_probability=0.0)
    exact = exact_latency(system, "c0", net)
    result = simulate(system, "c0", net, requests=5, rng=random.Random(1))
    # every latency is fixed, so the exact distribution is one point and every request takes it
    assert exact.quantile(1e-9) == exact.quantile(1.0)
    assert all(abs(x - exact.quantile(1.0)) < 1e-6 for x in result.latencies_ms)


MODULES = ["orders", "payments", "inventory", "shipping", "notifications"]


@st.composite
def injected(draw: st.DrawFn) -> tuple[list[tuple[str, str, str]], dict[str, list[str]]]:
    """Random imports (kind, source, target) and rules; kinds: allowed, undeclared, private."""
    rules = {m: sorted(draw(st.sets(st.sampled_from([x for x in MODULES if x != m]), max_size=2)))
             for m in MODULES}
    imports = []
    for _ in range(draw(st.integers(0, 8))):
        src = draw(st.sampled_from(MODULES))
        dst = draw(st.sampled_from([m for m in MODULES if m != src]))
        style = draw(st.sampled_from(["public", "private", "relative"]))
        imports.append((style, src, dst))
    return imports, rules


@settings(deadline=None)
@given(injected())
def test_boundary_checker_finds_every_injected_violation(case) -> None:
    imports, rules = case
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "shop"
        root.mkdir()
        (root / "__init__.py").write_text("")
        bodies: dict[str, list[str]] = {m: [] for m in MODULES}
        for style, src, dst in imports:
            line = {"public": f"from shop.{dst} import handle",
                    "private": f"from shop.{dst}.internal import helper",
                    "relative": f"from ..{dst} import handle"}[style]
            bodies[src].append(line)
        expected_undeclared, expected_private, graph = set(), set(), {m: set() for m in MODULES}
        for m in MODULES:
            (root / m).mkdir()
            (root / m / "__init__.py").write_text("def handle():\n    return 1\n")
            (root / m / "internal.py").write_text("def helper():\n    return 2\n")
            (root / m / "service.py").write_text("\n".join(bodies[m]) + "\n")
            for number, line in enumerate(bodies[m], start=1):
                dst = line.split()[1].replace("shop.", "").replace("..", "").split(".")[0]
                graph[m].add(dst)
                if dst not in rules[m]:
                    expected_undeclared.add((m, dst, number))
                if "internal" in line:
                    expected_private.add((m, dst, number))
        found = check_boundaries(root, rules)
        assert {(v.source, v.target, v.line) for v in found if v.kind == "undeclared"} == expected_undeclared
        assert {(v.source, v.target, v.line) for v in found if v.kind == "private"} == expected_private
        has_cycle = any(_reaches(graph, b, a) for a in graph for b in graph[a])
        assert any(v.kind == "cycle" for v in found) == has_cycle


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(graph[node])
    return False
