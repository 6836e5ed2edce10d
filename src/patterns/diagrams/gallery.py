"""The diagrams the chapters show, one function each (named in a chapter's ``{diagram}`` block).

Each function builds its picture from the package: a transition table, a recorded run of a
pattern, a model the chapter computes with. It returns a ``Diagram`` whose ``generated_from``
names that source and whose alt text is computed from the same data. Scenarios are deterministic
(``ManualClock``, fixed seeds, in-memory backends), so the book build draws the same picture every
time, offline.
"""

from __future__ import annotations

from patterns.architecture import SHOP_COMPONENTS, shop
from patterns.diagrams.dot import Diagram
from patterns.diagrams.state import state_diagram
from patterns.diagrams.views import call_graph, request_sequence

__all__ = ["shop_units", "order_request", "breaker_states", "saga_states"]


def shop_units() -> Diagram:
    """Chapter 1: the shop's call graph deployed as four coarser units (the chapter's best design)."""
    core = {c: "core" for c in SHOP_COMPONENTS} | {"gateway": "edge", "payments": "payments",
                                                    "notifications": "notifications"}
    system = shop(parallel_checks=True, notifications_async=True).deployed(core)
    return call_graph(system, title="the shop: parallel lookups, async notifications, 4 units",
                      generated_from="patterns.architecture.shop")


def order_request() -> Diagram:
    """Chapter 1: one order through the eight-service shop, call by call."""
    return request_sequence(shop(), "gateway", title="placing one order, 8 services",
                            generated_from="patterns.architecture.shop + request_tree")


def breaker_states() -> Diagram:
    """Chapter 6: the circuit breaker's states, from the table its code enforces."""
    from patterns.resilience.breaker import CLOSED, TRANSITIONS

    return state_diagram(TRANSITIONS, initial=CLOSED, title="circuit breaker",
                         generated_from="patterns.resilience.breaker.TRANSITIONS")


def saga_states() -> Diagram:
    """Chapter 5: a saga's states in the orchestrator's log, from the table ``SagaLog`` enforces."""
    from patterns.sagas.log import CANCELLED, COMPLETED, RUNNING, TRANSITIONS

    return state_diagram(TRANSITIONS, initial=RUNNING, finals=(COMPLETED, CANCELLED), title="saga",
                         generated_from="patterns.sagas.log.TRANSITIONS")
