"""Chapter 13 (load balancing): the health state machines, and a recorded run of outlier ejection."""

from __future__ import annotations

from patterns.balancing import (
    EJECTION_TRANSITIONS,
    HEALTH_TRANSITIONS,
    OutlierDetector,
    Pool,
    RoundRobin,
    Transition,
)
from patterns.clock import ManualClock
from patterns.diagrams.dot import Diagram, Graph
from patterns.diagrams.sequence import Trace, sequence_diagram
from patterns.diagrams.state import describe_states

__all__ = ["health_states", "ejection_run"]


def _rows(table: tuple[Transition, ...]) -> list[tuple[str, str, str]]:
    return [(t.source, t.target, f"{t.event}\n[{t.guard}]") for t in table]


def _arrows(table: tuple[Transition, ...]) -> dict[tuple[str, str], str]:
    """One arrow per pair of states, its label every row between them (self-loops stay legible)."""
    arrows: dict[tuple[str, str], list[str]] = {}
    for source, target, label in _rows(table):
        arrows.setdefault((source, target), []).append(label)
    return {pair: "\n".join(labels) for pair, labels in arrows.items()}


def health_states() -> Diagram:
    """Active health checks and outlier ejection, side by side, from the tables the code moves by."""
    g = Graph(rankdir="TB", label="a backend's health, as the balancer sees it")
    g.attrs.update({"nodesep": "1.0", "ranksep": "0.8"})
    for name, title, table in (
        ("health", "active health checks (HealthChecker)", HEALTH_TRANSITIONS),
        ("eject", "outlier ejection (OutlierDetector)", EJECTION_TRANSITIONS),
    ):
        box = g.cluster(name, title)
        for (source, target), label in _arrows(table).items():
            box.node(f"{name}:{source}", source, kind="state")
            box.node(f"{name}:{target}", target, kind="state")
            box.edge(f"{name}:{source}", f"{name}:{target}", label)
    alt = (describe_states(_rows(HEALTH_TRANSITIONS), "active health checks", initial="healthy") + " "
           + describe_states(_rows(EJECTION_TRANSITIONS), "outlier ejection", initial="active"))
    return Diagram(g.source(), alt, "patterns.balancing.health (HEALTH_TRANSITIONS, EJECTION_TRANSITIONS)")


def ejection_run(requests: int = 8, consecutive_errors: int = 3) -> Diagram:
    """A recorded run: a client's Pool balances round robin over s0 (failing) and s1 (fine); after
    ``consecutive_errors`` failures in a row the OutlierDetector ejects s0 and every later request
    goes to s1."""
    clock = ManualClock()
    detector = OutlierDetector(consecutive_errors=consecutive_errors, base_ejection=30.0, clock=clock)
    pool = Pool(["s0", "s1"], RoundRobin(), outlier=detector, clock=clock)
    trace = Trace(["client (Pool)", "s0", "s1"], kinds={"client (Pool)": "client"})
    for i in range(1, requests + 1):
        clock.advance(0.01)
        name = pool.send()
        ok = name != "s0"  # s0 answers every request with an error
        trace.send("client (Pool)", name, f"request {i}")
        trace.reply(name, "client (Pool)", "200 OK" if ok else "503 error")
        ejected = len(detector.ejection_log)
        pool.finish(name, ok)
        if len(detector.ejection_log) > ejected:
            trace.note("client (Pool)", f"{consecutive_errors} errors in a row from s0:\neject s0 for 30 s")
    return sequence_diagram(trace, title="outlier ejection, recorded",
                            generated_from="patterns.balancing.Pool with OutlierDetector (a recorded run)")
