"""Chapter 12 (the interview framework): the steps as a flow, and the worked design's boxes."""

from __future__ import annotations

from patterns.diagrams.dot import Diagram, Graph
from patterns.diagrams.state import state_diagram
from patterns.estimate import STEPS, design_implications, format_value, url_shortener

__all__ = ["interview_steps", "url_shortener_design"]


def interview_steps() -> Diagram:
    """The eight steps of a 45-minute interview, each with its time box, from ``STEPS``."""
    rows = [(a.name, b.name, f"its {a.minutes} minutes are up") for a, b in zip(STEPS, STEPS[1:], strict=False)]
    total = sum(s.minutes for s in STEPS)
    return state_diagram(rows, initial=STEPS[0].name, finals=(STEPS[-1].name,), rankdir="TB",
                         title=f"the interview, {total} minutes ({', '.join(str(s.minutes) for s in STEPS)})",
                         generated_from="patterns.estimate.STEPS")


def url_shortener_design() -> Diagram:
    """The worked URL shortener, with the numbers its estimate computed written into the boxes."""
    est = url_shortener().estimate

    def value(name: str) -> str:
        q = est.quantity(name)
        return format_value(q.value, q.unit)

    needed = {imp.topic for imp in design_implications(est) if imp.needed}
    cache_sharded = any(topic.startswith("shard the cache") for topic in needed)
    store_sharded = any(topic.startswith("shard the database") for topic in needed)
    g = Graph(rankdir="LR", label=f"URL shortener: {value('daily_active_users')}, peak {value('peak_rps')}")
    g.node("clients", "clients", kind="client")
    g.node("lb", "load balancer")
    g.node("app", f"{value('servers')}\nstateless redirect/shorten\n(peak {value('peak_rps')})")
    g.node("cache", f"cache: hot links\n{value('cache_size')}{', sharded' if cache_sharded else ''}", kind="cache")
    g.node("store", f"links store\n{value('storage_total')} in {value('years')}\n"
                    f"{value('replication')}{', sharded by code' if store_sharded else ''}", kind="store")
    g.edge("clients", "lb", f"GET /{{code}} ({value('peak_read_rps')})\nPOST /v1/links ({value('peak_write_rps')})")
    g.edge("lb", "app")
    g.edge("app", "cache", "read (cache-aside)")
    g.edge("app", "store", "miss, or a new link")
    alt = (f"Architecture of the worked URL shortener, with its estimated numbers: clients send redirects "
           f"(GET, {value('peak_read_rps')} at peak) and new links (POST, {value('peak_write_rps')}) to a load "
           f"balancer in front of {value('servers')} of a stateless service; the service reads a cache of the "
           f"hot links ({value('cache_size')}{', sharded' if cache_sharded else ''}) and, on a miss or a new "
           f"link, the links store ({value('storage_total')} over {value('years')}, {value('replication')}"
           f"{', sharded by code' if store_sharded else ''}).")
    return Diagram(g.source(), alt, "patterns.estimate.url_shortener + design_implications")
