"""What the capstone measures, and the end-to-end audit that proves nothing was lost or doubled.

The audit compares three independent records: the request table (what the service *promised*),
the providers' ``Ledger`` (what users *received*) and the workers' dead-letter tables (what the
service *gave up on*, with a reason). For every accepted request and every channel it targets
(minus the channels the user opted out of), exactly one of these must hold:

* delivered exactly once, and not dead-lettered; or
* never delivered, and dead-lettered with a reason.

Anything else is a bug the design let through: ``doubled`` (received twice or more), ``lost``
(neither received nor dead-lettered) or ``contradictory`` (received *and* dead-lettered).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from patterns._validate import require_instance, require_mapping
from patterns.stats import percentile

__all__ = ["percentile", "Audit", "audit", "SimulationResult", "comparison_table"]


@dataclass(frozen=True)
class Audit:
    """Counts of (request, channel) targets by fate; ``ok`` iff none is doubled, lost or contradictory."""

    expected: int
    delivered_once: int
    dead_lettered: int
    doubled: int
    lost: int
    contradictory: int
    examples: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.doubled == 0 and self.lost == 0 and self.contradictory == 0


def audit(
    targets: Iterable[tuple[str, str]],
    received: Mapping[tuple[str, str], int],
    dead: Mapping[tuple[str, str], str],
) -> Audit:
    """Judge each (request_id, channel) target against what was received and dead-lettered.

    ``received`` maps a target to how many times users got it; ``dead`` maps a target to its
    dead-letter reason (an empty reason counts as no reason: a dead letter must say why).
    """
    counts = {"delivered_once": 0, "dead_lettered": 0, "doubled": 0, "lost": 0, "contradictory": 0}
    examples: list[str] = []
    require_instance(targets, "targets", Iterable, what="an iterable of (request_id, channel) pairs")
    received = require_mapping(received, "received")
    dead = require_mapping(dead, "dead")
    unique = sorted(set(targets))
    for target in unique:
        got, reason = received.get(target, 0), dead.get(target)
        if got == 1 and reason is None:
            counts["delivered_once"] += 1
            continue
        if got == 0 and reason:
            counts["dead_lettered"] += 1
            continue
        fate = "doubled" if got > 1 and reason is None else "lost" if got == 0 else "contradictory"
        counts[fate] += 1
        if len(examples) < 5:
            examples.append(f"{fate}: {target} received {got}x, dead-letter reason {reason!r}")
    return Audit(expected=len(unique), examples=tuple(examples), **counts)


@dataclass
class SimulationResult:
    """Everything ``simulate`` measured (times in simulated seconds)."""

    submitted: int
    accepted: int
    rate_limited: int
    replayed: int
    delivered: int
    duplicates_prevented: int
    duplicates_delivered: int
    retried: int
    dead_lettered: int
    skipped_by_preference: int
    p50_delay: float
    p99_delay: float
    p99_delay_others: float
    crashes: int
    fallbacks: int
    breaker_opens: int
    provider_calls: dict[str, int]
    cache_hit_rate: float
    preference_db_reads: int
    finished_at: float
    audit: Audit
    delays: list[tuple[float, float, str, str]] = field(default_factory=list, repr=False)
    dead_letter_reasons: dict[str, int] = field(default_factory=dict)
    rate_limited_by_tenant: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, float | int]:
        """The headline numbers, rounded, for tables."""
        return {
            "accepted": self.accepted,
            "rate-limited": self.rate_limited,
            "delivered": self.delivered,
            "duplicates prevented": self.duplicates_prevented,
            "duplicates delivered": self.duplicates_delivered,
            "retried": self.retried,
            "dead-lettered": self.dead_lettered,
            "lost": self.audit.lost,
            "p50 delay (s)": round(self.p50_delay, 2),
            "p99 delay (s)": round(self.p99_delay, 2),
            "p99 other tenants (s)": round(self.p99_delay_others, 2),
        }


def comparison_table(results: Mapping[str, SimulationResult], columns: Sequence[str] | None = None) -> str:
    """A markdown table, one row per labelled run, of ``summary()`` columns plus "audit ok".

    Plain text on purpose: it prints readably in a notebook and renders as a table on the website
    (``IPython.display.Markdown``), with no dataframe library needed.
    """
    if not results:
        raise ValueError("results must hold at least one labelled SimulationResult")
    rows = {label: {**r.summary(), "audit ok": "yes" if r.audit.ok else "NO"} for label, r in results.items()}
    available = list(next(iter(rows.values())))
    columns = list(columns) if columns is not None else available
    unknown = [c for c in columns if c not in available]
    if unknown:
        raise ValueError(f"columns must be among {available}, got {unknown}")

    def cell(value: object) -> str:
        return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)

    lines = ["| run | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    lines += [f"| {label} | " + " | ".join(cell(row[c]) for c in columns) + " |" for label, row in rows.items()]
    return "\n".join(lines)
