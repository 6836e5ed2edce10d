"""Diagrams drawn from the package's own models: a system's call graph, a request's path through it.

These read the objects the chapters compute with (``patterns.architecture.System``), so a change to
the running example changes the picture too.
"""

from __future__ import annotations

from collections import defaultdict

from patterns.architecture.topology import Call, System
from patterns.diagrams.dot import Diagram, Graph
from patterns.diagrams.sequence import Trace, sequence_diagram

__all__ = ["call_graph", "request_sequence", "step_labels"]


def step_labels(system: System) -> dict[Call, str]:
    """Each synchronous call's position in its caller's handling ("1", "2", ...); parallel calls share one."""
    out: dict[Call, str] = {}
    by_caller: dict[str, list[Call]] = defaultdict(list)
    for call in system.calls:
        if not call.asynchronous:
            by_caller[call.caller].append(call)
    for calls in by_caller.values():
        steps = sorted({c.step for c in calls})
        for c in calls:
            out[c] = str(steps.index(c.step) + 1)
    return out


def call_graph(system: System, *, title: str | None = None, generated_from: str | None = None,
               caption: str | None = None) -> Diagram:
    """Components as boxes, deployment units as dashed frames (none when every unit is one component).

    Synchronous calls are solid arrows numbered by step (equal numbers run in parallel); a call that
    crosses a unit boundary (the network) is bold, one inside a unit thin; asynchronous calls
    (events) are dashed.
    """
    if not isinstance(system, System):
        raise TypeError(f"system must be a patterns.architecture.System, got {type(system).__name__}")
    g = Graph(rankdir="LR", label=title)
    members: dict[str, list[str]] = defaultdict(list)
    for component, unit in system.units.items():
        members[unit].append(component)
    framed = any(len(names) > 1 for names in members.values())  # else every box is its own unit
    for unit, names in members.items():
        target = g.cluster(unit, f"unit: {unit}") if framed else g
        for name in names:
            target.node(name, name)
    steps = step_labels(system)
    remote_count = 0
    for call in system.calls:
        if call.asynchronous:
            g.edge(call.caller, call.callee, "event", style="dashed")
            continue
        remote = system.is_remote(call)
        remote_count += remote
        g.edge(call.caller, call.callee, steps[call], penwidth="2.0" if remote else "1.0")
    units = len(members)
    sync = [c for c in system.calls if not c.asynchronous]
    described = "; ".join(
        f"{c.caller} calls {c.callee} (step {steps[c]}, {'over the network' if system.is_remote(c) else 'in process'})"
        for c in sync)
    events = "; ".join(f"{c.caller} tells {c.callee} by an event" for c in system.calls if c.asynchronous)
    grouped = "; ".join(f"unit {u}: {', '.join(n)}" for u, n in members.items() if len(n) > 1)
    alt = (f"Call graph{': ' + title if title else ''}. {len(system.components)} components in {units} "
           f"deployment unit{'s' if units != 1 else ''}{' (' + grouped + ')' if grouped else ''}; {remote_count} of {len(sync)} "
           f"synchronous calls cross the network. {described}." + (f" {events}." if events else ""))
    return Diagram(g.source(), alt, generated_from, caption)


def request_sequence(system: System, entry: str, *, title: str | None = None,
                     generated_from: str | None = None, caption: str | None = None) -> Diagram:
    """The calls one request to ``entry`` makes, depth first in step order (as ``request_tree``).

    Each call is an arrow labelled with its step (and "network" when it crosses units), each
    return a dashed arrow; same-step calls are marked "parallel"; an event is a dashed arrow with
    no reply (nobody waits for it).
    """
    system.check_entry(entry)
    trace = Trace()
    trace.participant("client", kind="client")
    steps = step_labels(system)
    parallel = {c for c in system.calls if not c.asynchronous
                and sum(1 for o in system.sync_calls(c.caller) if o.step == c.step) > 1}

    def label(call: Call) -> str:
        where = "network" if system.is_remote(call) else "in process"
        return f"{steps[call]}. call{' (parallel)' if call in parallel else ''}, {where}"

    trace.send("client", entry, "request")

    def walk(name: str) -> None:
        for call in sorted((c for c in system.calls if c.caller == name), key=lambda c: c.step):
            if call.asynchronous:  # sent, not waited for: no reply, and nothing it calls delays us
                trace.send(call.caller, call.callee, "event (not awaited)", reply=True)
                continue
            trace.send(call.caller, call.callee, label(call))
            walk(call.callee)
            trace.reply(call.callee, call.caller, "ok")

    walk(entry)
    trace.reply(entry, "client", "response")
    return sequence_diagram(trace, title=title, generated_from=generated_from, caption=caption)
