"""Chapter 1 (architectural styles): the shop's call graph and one order's path through it."""

from __future__ import annotations

from patterns.architecture import SHOP_COMPONENTS, shop
from patterns.diagrams.dot import Diagram
from patterns.diagrams.views import call_graph, request_sequence

__all__ = ["shop_services", "shop_units", "order_request"]


def shop_services() -> Diagram:
    """The running example as eight services: every box its own deployment unit."""
    return call_graph(shop(), title="the shop as 8 services (numbers: the order of calls)",
                      generated_from="patterns.architecture.shop")


def shop_units() -> Diagram:
    """The chapter's best design: parallel lookups, an async notification, four coarser units."""
    core = {c: "core" for c in SHOP_COMPONENTS} | {"gateway": "edge", "payments": "payments",
                                                    "notifications": "notifications"}
    system = shop(parallel_checks=True, notifications_async=True).deployed(core)
    return call_graph(system, title="parallel lookups, async notifications, 4 units",
                      generated_from="patterns.architecture.shop")


def order_request() -> Diagram:
    """One order through the eight-service shop, call by call (as ``request_tree`` walks it)."""
    return request_sequence(shop(), "gateway", title="placing one order, 8 services",
                            generated_from="patterns.architecture.request_tree")
