"""A system as components, calls and deployment units, with exact availability and latency.

The same business capability (the components and who calls whom) can be *deployed* in different
ways: every component in one process (a monolith), every component in its own service, or anything
between. ``System.units`` maps each component to its deployment unit. A call inside a unit is a
function call; a call across units crosses the network and pays ``Network``: a hop latency, a
serialization cost and a probability that the call fails on the way (partial failure).

Semantics of one request entering at a component, guaranteed by ``exact_*`` and ``simulate``:
- a unit is up or down for the whole request (independently, with its ``availability``); the
  request succeeds iff every unit its synchronous call tree touches is up and no network hop fails;
- a component does its own ``work`` first, then its synchronous calls step by step; calls with the
  same ``step`` run in parallel (fan-out: the step takes as long as the slowest call);
- ``asynchronous`` calls (events) neither delay nor fail the request; they are delivered later.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from patterns._validate import require_instance
from patterns.architecture.latency import ZERO, Latency

__all__ = ["Component", "Call", "Network", "System", "IN_PROCESS", "DATACENTER", "exact_availability", "exact_latency",
           "request_tree", "network_hops", "units_touched"]


def check_probability(name: str, value: float) -> float:
    """Return ``value`` as a float, or raise naming ``name`` if it is not a probability."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number in [0, 1], got {type(value).__name__}")
    if not (0.0 <= value <= 1.0):
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Component:
    """A piece of business capability: its own processing time and, when deployed alone, availability."""

    name: str
    work: Latency = field(default_factory=lambda: Latency.fixed(1.0))
    availability: float = 0.999

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.work, Latency):
            raise TypeError(f"work must be a Latency, got {type(self.work).__name__}")
        check_probability("availability", self.availability)


@dataclass(frozen=True)
class Call:
    """``caller`` calls ``callee`` at ``step`` of its handling; same-step calls run in parallel."""

    caller: str
    callee: str
    step: int = 0
    asynchronous: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.step, bool) or not isinstance(self.step, int) or self.step < 0:
            raise ValueError(f"step must be an integer >= 0, got {self.step!r}")
        if self.caller == self.callee:
            raise ValueError(f"a component cannot call itself: caller == callee == {self.caller!r}")


@dataclass(frozen=True)
class Network:
    """What crossing a unit boundary costs: hop latency, (de)serialization, and failure odds per call."""

    hop: Latency = field(default_factory=lambda: Latency.lognormal(0.5, 4.0))
    serialization_ms: float = 0.2
    failure_probability: float = 0.0005

    def __post_init__(self) -> None:
        if not isinstance(self.hop, Latency):
            raise TypeError(f"hop must be a Latency, got {type(self.hop).__name__}")
        if isinstance(self.serialization_ms, bool) or not isinstance(self.serialization_ms, (int, float)) \
                or not math.isfinite(self.serialization_ms) or self.serialization_ms < 0:
            raise ValueError(f"serialization_ms must be a finite number >= 0, got {self.serialization_ms!r}")
        check_probability("failure_probability", self.failure_probability)

    def cost(self) -> Latency:
        """The latency a remote call adds to the callee's own time."""
        return self.hop + Latency.fixed(self.serialization_ms)


IN_PROCESS = Network(hop=ZERO, serialization_ms=0.0, failure_probability=0.0)
DATACENTER = Network()  # a typical same-datacenter hop: median 0.5 ms, p99 4 ms, 0.05% failed calls


class System:
    """Components, calls between them, and the deployment unit of each component.

    ``units`` defaults to one unit per component (microservices); use ``as_monolith()`` or
    ``deployed(units)`` for other deployments of the same call graph. ``unit_availability`` gives the
    availability of a unit shared by several components (default: the lowest of its components').
    Raises ValueError for unknown components, duplicate names and cycles of synchronous calls.
    """

    def __init__(self, components: Iterable[Component], calls: Iterable[Call] = (),
                 units: Mapping[str, str] | None = None,
                 unit_availability: Mapping[str, float] | None = None) -> None:
        require_instance(components, "components", Iterable, what="an iterable of Component")
        require_instance(calls, "calls", Iterable, what="an iterable of Call")
        self.components: dict[str, Component] = {}
        for component in components:
            if not isinstance(component, Component):
                raise TypeError(f"components must be Component objects, got {type(component).__name__}")
            if component.name in self.components:
                raise ValueError(f"components: duplicate name {component.name!r}")
            self.components[component.name] = component
        if not self.components:
            raise ValueError("components must not be empty")
        self.calls: tuple[Call, ...] = tuple(calls)
        for call in self.calls:
            if not isinstance(call, Call):
                raise TypeError(f"calls must be Call objects, got {type(call).__name__}")
            for end in (call.caller, call.callee):
                if end not in self.components:
                    raise ValueError(f"calls: unknown component {end!r} in {call}")
        self.units: dict[str, str] = dict(units) if units is not None else {n: n for n in self.components}
        missing = set(self.components) - set(self.units)
        unknown = set(self.units) - set(self.components)
        if missing or unknown:
            raise ValueError(f"units must map every component exactly: missing {sorted(missing)}, "
                             f"unknown {sorted(unknown)}")
        self.unit_availability: dict[str, float] = {}
        for unit in sorted(set(self.units.values())):
            members = [self.components[c].availability for c, u in self.units.items() if u == unit]
            self.unit_availability[unit] = min(members)
        for unit, value in (unit_availability or {}).items():
            if unit not in self.unit_availability:
                raise ValueError(f"unit_availability: unknown unit {unit!r}")
            self.unit_availability[unit] = check_probability(f"unit_availability[{unit!r}]", value)
        self._check_acyclic()

    def _check_acyclic(self) -> None:
        state: dict[str, int] = {}

        def visit(node: str, path: list[str]) -> None:
            state[node] = 1
            for call in self.sync_calls(node):
                if state.get(call.callee) == 1:
                    cycle = path[path.index(call.callee):] + [call.callee] if call.callee in path else [node]
                    raise ValueError(f"calls: synchronous calls must form a DAG, found cycle {' -> '.join(cycle)}")
                if call.callee not in state:
                    visit(call.callee, path + [call.callee])
            state[node] = 2

        for name in self.components:
            if name not in state:
                visit(name, [name])

    def sync_calls(self, caller: str) -> list[Call]:
        """The synchronous calls ``caller`` makes, in step order."""
        return sorted((c for c in self.calls if c.caller == caller and not c.asynchronous), key=lambda c: c.step)

    def check_entry(self, entry: str) -> None:
        if entry not in self.components:
            raise ValueError(f"entry must be a component of the system, got unknown {entry!r}")

    def is_remote(self, call: Call) -> bool:
        """True when the call crosses a deployment-unit boundary (goes over the network)."""
        return self.units[call.caller] != self.units[call.callee]

    def deployed(self, units: Mapping[str, str], unit_availability: Mapping[str, float] | None = None) -> System:
        """The same components and calls, deployed into other units."""
        return System(self.components.values(), self.calls, units, unit_availability)

    def as_monolith(self, availability: float | None = None, name: str = "monolith") -> System:
        """Every component in one deployment unit (optionally with its own availability)."""
        extra = None if availability is None else {name: availability}
        return self.deployed({c: name for c in self.components}, extra)

    def as_services(self) -> System:
        """One deployment unit per component."""
        return self.deployed({c: c for c in self.components})


def request_tree(system: System, entry: str) -> list[tuple[str, Call | None]]:
    """Every (component, call that reached it) a request to ``entry`` executes, depth first.

    A component reached twice runs twice (two calls), so it appears twice.
    """
    require_instance(system, "system", System)
    system.check_entry(entry)
    out: list[tuple[str, Call | None]] = []

    def walk(name: str, via: Call | None) -> None:
        out.append((name, via))
        for call in system.sync_calls(name):
            walk(call.callee, call)

    walk(entry, None)
    return out


def units_touched(system: System, entry: str) -> set[str]:
    """The deployment units a request to ``entry`` needs (synchronously)."""
    return {system.units[name] for name, _ in request_tree(system, entry)}


def network_hops(system: System, entry: str) -> int:
    """How many remote calls one request to ``entry`` makes (synchronously)."""
    return sum(1 for _, via in request_tree(system, entry) if via is not None and system.is_remote(via))


def exact_availability(system: System, entry: str, network: Network = DATACENTER) -> float:
    """P(a request to ``entry`` succeeds): the product rule over units touched and network hops."""
    require_instance(network, "network", Network)
    result = 1.0
    for unit in units_touched(system, entry):
        result *= system.unit_availability[unit]
    return result * (1.0 - network.failure_probability) ** network_hops(system, entry)


def exact_latency(system: System, entry: str, network: Network = DATACENTER,
                  in_process: Network = IN_PROCESS) -> Latency:
    """The exact (0.1 ms grid) latency distribution of a request to ``entry``.

    Remote calls add ``network.cost()``, in-process calls ``in_process.cost()`` (zero by default).
    """
    require_instance(system, "system", System)
    require_instance(network, "network", Network)
    require_instance(in_process, "in_process", Network)
    system.check_entry(entry)
    remote_cost, local_cost = network.cost(), in_process.cost()
    memo: dict[str, Latency] = {}

    def handle(name: str) -> Latency:
        if name not in memo:
            total = system.components[name].work
            calls = system.sync_calls(name)
            for step in sorted({c.step for c in calls}):
                legs = [handle(c.callee) + (remote_cost if system.is_remote(c) else local_cost)
                        for c in calls if c.step == step]
                total = total + Latency.slowest(legs)
            memo[name] = total
        return memo[name]

    return handle(entry)
