"""Architectural styles: the same capability as a monolith, a modular monolith or microservices.

- ``latency``: exact latency distributions (serial = convolution, parallel = max).
- ``topology``: components, calls, deployment units; exact availability and latency of a request.
- ``simulation``: seeded Monte-Carlo of the same model; the book's running ``shop`` example.
- ``boundaries``: a modular-monolith import checker (undeclared deps, private imports, cycles).
- ``coupling``: change coupling from commit history, to spot a distributed monolith.
- ``teams``: Brooks's communication paths and Conway's law on a call graph.
"""

from patterns.architecture.boundaries import (
    Import,
    Violation,
    check_boundaries,
    find_cycles,
    find_imports,
    module_graph,
)
from patterns.architecture.coupling import PairCoupling, change_coupling, coupled_pairs, synthetic_history
from patterns.architecture.latency import GRID_MS, Latency
from patterns.architecture.simulation import (
    SHOP_COMPONENTS,
    SimulationResult,
    chain,
    fanout_slow_probability,
    shop,
    simulate,
)
from patterns.architecture.teams import OwnershipReport, communication_paths, ownership_report
from patterns.architecture.topology import (
    DATACENTER,
    IN_PROCESS,
    Call,
    Component,
    Network,
    System,
    exact_availability,
    exact_latency,
    network_hops,
    request_tree,
    units_touched,
)

__all__ = [
    "GRID_MS", "Latency", "Component", "Call", "Network", "System", "IN_PROCESS", "DATACENTER", "exact_availability",
    "exact_latency", "request_tree", "network_hops", "units_touched", "SimulationResult", "simulate",
    "chain", "shop", "SHOP_COMPONENTS", "fanout_slow_probability", "Import", "Violation",
    "find_imports", "check_boundaries", "module_graph", "find_cycles", "PairCoupling", "change_coupling",
    "coupled_pairs", "synthetic_history", "OwnershipReport", "communication_paths", "ownership_report",
]
