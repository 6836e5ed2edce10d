"""Chapter 16 (observability and SLOs): the alerting pipeline, and one outage through a burn-rate rule."""

from __future__ import annotations

import random

from patterns.diagrams.dot import Diagram, Graph
from patterns.diagrams.sequence import Trace, sequence_diagram
from patterns.slo import SLO, WORKBOOK_RULES, Incident, detect, month

__all__ = ["slo_pipeline", "outage_alert_run"]


def _span(minutes: int) -> str:
    return f"{minutes // 1440} d" if minutes % 1440 == 0 else (
        f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min")


def slo_pipeline() -> Diagram:
    """Requests -> SLI counters -> windowed error ratios -> the workbook's rules -> page or ticket."""
    slo = SLO()
    g = Graph(rankdir="LR", label=f"SLO {slo.objective:.1%} over {slo.period_days:g} days: "
                                   "multiwindow, multi-burn-rate alerts")
    g.node("req", "requests\n(load balancer)", kind="client")
    g.node("sli", "SLI counters\ngood, total per minute", kind="store")
    g.edge("req", "sli")
    windows = sorted({w for rule in WORKBOOK_RULES for w in (rule.long, rule.short) if w})
    for w in windows:
        g.node(f"w{w}", f"error ratio\nlast {_span(w)}", kind="state")
        g.edge("sli", f"w{w}")
    g.node("page", "page on-call", kind="external")
    g.node("ticket", "ticket", kind="external")
    described = []
    for i, rule in enumerate(WORKBOOK_RULES):
        assert rule.short is not None
        g.node(f"r{i}", f"{rule.severity}: burn > {rule.burn_rate:g}x\nover {_span(rule.long)} "
                        f"AND {_span(rule.short)}")
        g.edge(f"w{rule.long}", f"r{i}")
        g.edge(f"w{rule.short}", f"r{i}")
        g.edge(f"r{i}", rule.severity)
        described.append(f"{rule.severity} when the burn rate exceeds {rule.burn_rate:g} over both "
                         f"{_span(rule.long)} and {_span(rule.short)}")
    alt = (f"Pipeline: requests are counted into good and total per minute; error ratios are computed over "
           f"{', '.join(_span(w) for w in windows)}; three rules read them: {'; '.join(described)}.")
    return Diagram(g.source(), alt, "patterns.slo.WORKBOOK_RULES")


def outage_alert_run() -> Diagram:
    """A 20-minute total outage through the 1 h / 5 min rule: when it pages and when it resolves."""
    slo = SLO()
    outage = Incident("outage", 600, 20, 1.0)
    traffic = month([outage], days=1, rng=random.Random(16))
    rule = WORKBOOK_RULES[0]
    found = detect(rule, traffic, slo, outage)
    assert found.detected_after is not None and found.reset_after is not None
    trace = Trace(["service", "SLI counters", "1 h / 5 min rule", "on-call"],
                  kinds={"SLI counters": "store", "on-call": "external"})
    trace.send("service", "SLI counters", "minute 0: every request fails")
    trace.send("SLI counters", "1 h / 5 min rule", "5 min and 1 h burn rates pass 14.4x")
    trace.send("1 h / 5 min rule", "on-call",
               f"minute {found.detected_after}: page ({found.budget_spent:.1%} of the budget spent)")
    trace.send("service", "SLI counters", f"minute {outage.minutes}: errors stop")
    trace.note("1 h / 5 min rule", "the 1 h window still holds the outage")
    trace.send("SLI counters", "1 h / 5 min rule", "the 5 min burn rate falls below 14.4x")
    trace.send("1 h / 5 min rule", "on-call",
               f"minute {outage.minutes + found.reset_after}: resolved", reply=True)
    return sequence_diagram(trace, title="a 20-minute outage through the workbook's fastest page",
                            generated_from="patterns.slo.detect on a synthetic outage")
