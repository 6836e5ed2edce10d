"""Versions for replicated values: vector clocks for causality, timestamps for last-writer-wins.

Every write gets a *dot* ``(coordinator, counter)`` that names it uniquely, a vector clock (the
causal history the coordinator had seen for that key, plus the new dot) and a timestamp from the
coordinator's (possibly skewed) clock. Two policies resolve replicas that disagree:

- ``"lww"`` (last writer wins, Cassandra-style): of two *concurrent* versions keep the one with the
  larger ``(timestamp, node, counter)``; the other is discarded silently. That is a lost update.
- ``"siblings"`` (Dynamo/Riak-style): keep every concurrent version; a read returns all of them and
  the application merges. Nothing is lost, but the reader must resolve the conflict.

A version that is causally *older* (its clock is dominated) is dropped under both policies: that is
an ordinary overwrite, not a conflict.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from patterns._validate import require_instance

__all__ = ["Version", "POLICIES", "descends", "merge_clocks", "resolve"]

POLICIES = ("lww", "siblings")
Clock = tuple[tuple[str, int], ...]  # a vector clock, sorted by node name


@dataclass(frozen=True)
class Version:
    """One written value and what is known about its place in history."""

    value: Any
    clock: Clock
    timestamp: float
    node: str  # the coordinator that created it
    counter: int  # that coordinator's write counter: (node, counter) is the dot

    @property
    def dot(self) -> tuple[str, int]:
        return (self.node, self.counter)

    @property
    def stamp(self) -> tuple[float, str, int]:
        """The total order last-writer-wins uses (timestamp, then node name as a tie-breaker)."""
        return (self.timestamp, self.node, self.counter)


def descends(a: Clock | Mapping[str, int], b: Clock | Mapping[str, int]) -> bool:
    """True when clock ``a`` has seen everything ``b`` has (``a >= b`` entry by entry)."""
    da, db = dict(a), dict(b)
    return all(da.get(node, 0) >= count for node, count in db.items())


def merge_clocks(clocks: Iterable[Clock]) -> Clock:
    """The least clock that descends from every clock given (entry-wise maximum)."""
    require_instance(clocks, "clocks", Iterable, what="an iterable of clocks")
    merged: dict[str, int] = {}
    for clock in clocks:
        for node, count in clock:
            merged[node] = max(merged.get(node, 0), count)
    return tuple(sorted(merged.items()))


def resolve(versions: Iterable[Version], policy: str) -> tuple[tuple[Version, ...], set[tuple[str, int]]]:
    """Reduce ``versions`` to what a replica keeps; also return the dots lost to LWW.

    Returns (kept versions sorted by stamp, dots of *concurrent* versions discarded by ``"lww"``).
    Under ``"siblings"`` the second item is always empty.
    """
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
    require_instance(versions, "versions", Iterable, what="an iterable of Version")
    unique = {v.dot: v for v in versions}
    frontier = [
        v for v in unique.values()
        if not any(w.dot != v.dot and descends(w.clock, v.clock) for w in unique.values())
    ]
    frontier.sort(key=lambda v: v.stamp)
    if policy == "lww" and len(frontier) > 1:
        return (frontier[-1],), {v.dot for v in frontier[:-1]}
    return tuple(frontier), set()
