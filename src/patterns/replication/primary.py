"""A primary with asynchronous (or synchronous) read replicas, on an injected clock.

Writes go to the primary, which appends them to its log; each replica applies the log ``lag``
seconds behind. Reads are routed to replicas (round robin or seeded random) unless a session or
``min_lsn`` demands a position no replica has reached, in which case the primary serves them.

Measured, not assumed: every read reports whether it was *stale* (the node had not applied the
latest write to that key), and ``failover()`` reports exactly which acknowledged writes the
promoted replica never received, i.e. what asynchronous replication loses when a primary dies.
Not thread-safe: drive it from one thread (the clock is the only concurrency in the simulation).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from patterns._validate import (
    MAX_INT64,
    require_instance,
    require_int,
    require_one_of,
    require_text,
)
from patterns.clock import Clock, SystemClock
from patterns.errors import PatternError
from patterns.replication.log import LogEntry, NodeState, Replica
from patterns.replication.session import Session

__all__ = ["ReplicatedStore", "ReadResult", "FailoverReport", "ReplicationStats", "NoPrimary", "MAX_REPLICAS"]

READ_POLICIES = ("round_robin", "random", "primary")
MAX_REPLICAS = 1_000


class NoPrimary(PatternError):
    """Failover found no connected replica to promote."""


@dataclass(frozen=True)
class ReadResult:
    value: Any
    node: str  # which node answered
    node_lsn: int  # that node's applied log position
    stale: bool  # the node had not applied the latest write to this key


@dataclass(frozen=True)
class FailoverReport:
    old_primary: str
    new_primary: str
    lost: list[LogEntry]  # acknowledged writes the new primary never received
    rolled_back: dict[str, int] = field(default_factory=dict)  # replicas ahead of the new primary

    @property
    def lost_keys(self) -> list[str]:
        return sorted({e.key for e in self.lost})


@dataclass
class ReplicationStats:
    writes: int = 0
    reads: int = 0
    primary_reads: int = 0
    replica_reads: int = 0
    stale_reads: int = 0
    fallbacks: int = 0  # reads sent to the primary because no replica was far enough along

    @property
    def stale_ratio(self) -> float:
        return self.stale_reads / self.reads if self.reads else 0.0


class ReplicatedStore:
    """``ReplicatedStore({"r1": 0.5, "r2": 2.0}, clock=ManualClock())``: replica name -> lag (s)."""

    def __init__(
        self,
        replicas: Mapping[str, float] | Iterable[Replica],
        *,
        clock: Clock | None = None,
        read_policy: str = "round_robin",
        rng: random.Random | None = None,
        primary_name: str = "primary",
    ) -> None:
        read_policy = require_one_of(read_policy, "read_policy", READ_POLICIES)
        primary_name = require_text(primary_name, "primary_name", max_length=200)
        if clock is not None:
            require_instance(clock, "clock", Clock, what="a Clock (now() and sleep())")
        if rng is not None:
            require_instance(rng, "rng", random.Random)
        if isinstance(replicas, Mapping):
            if len(replicas) > MAX_REPLICAS:
                raise ValueError(f"replicas must name at most {MAX_REPLICAS} replicas, got {len(replicas)}")
            nodes = [Replica(name, lag) for name, lag in replicas.items()]
        elif isinstance(replicas, (list, tuple)):
            nodes = list(replicas)
            if not all(isinstance(r, Replica) for r in nodes):
                raise TypeError("replicas must be a mapping of name to lag, or Replica objects")
            if len(nodes) > MAX_REPLICAS:
                raise ValueError(f"replicas must name at most {MAX_REPLICAS} replicas, got {len(nodes)}")
        else:
            raise TypeError(f"replicas must be a mapping of name to lag, or a list of Replica objects, "
                            f"got {type(replicas).__name__}")
        names = [primary_name] + [r.name for r in nodes]
        if len(set(names)) != len(names):
            raise ValueError(f"replica names must be distinct and differ from the primary's, got {names}")
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.read_policy = read_policy
        self._rng = rng if rng is not None else random.Random(0)
        self._primary = NodeState(primary_name)
        self._replicas: dict[str, Replica] = {r.name: r for r in nodes}
        self._log: list[LogEntry] = []
        self._next = 0  # round-robin cursor
        self.stats = ReplicationStats()

    # -- topology ---------------------------------------------------------------------------------
    @property
    def primary(self) -> str:
        return self._primary.name

    @property
    def replicas(self) -> dict[str, Replica]:
        return dict(self._replicas)

    @property
    def lsn(self) -> int:
        """The primary's log position: the LSN of the newest acknowledged write."""
        return self._primary.applied_lsn

    @property
    def log(self) -> list[LogEntry]:
        return list(self._log)

    def sync(self) -> None:
        """Let every replica apply what is due at the clock's current time."""
        now = self.clock.now()
        for replica in self._replicas.values():
            replica.catch_up(self._log, now)

    def lag_entries(self, name: str) -> int:
        """How many log entries replica ``name`` is behind the primary right now."""
        self.sync()
        return self.lsn - self._replica(name).applied_lsn

    def _replica(self, name: str) -> Replica:
        if not isinstance(name, str):
            raise TypeError(f"name must be a replica name (str), got {type(name).__name__}")
        if name not in self._replicas:
            raise ValueError(f"name must be one of {sorted(self._replicas)}, got {name!r}")
        return self._replicas[name]

    # -- writes -----------------------------------------------------------------------------------
    def write(self, key: str, value: Any, session: Session | None = None) -> int:
        """Commit on the primary; returns the write's LSN (the session token). None deletes."""
        if not isinstance(key, str):
            raise TypeError(f"key must be a str, got {type(key).__name__}")
        if session is not None:
            require_instance(session, "session", Session)
        entry = LogEntry(self.lsn + 1, key, value, self.clock.now())
        self._log.append(entry)
        self._primary.apply(entry)
        self.stats.writes += 1
        self.sync()  # synchronous replicas take the entry now; others when their lag has passed
        if session is not None:
            session.wrote(entry.lsn)
        return entry.lsn

    def delete(self, key: str, session: Session | None = None) -> int:
        return self.write(key, None, session)

    # -- reads ------------------------------------------------------------------------------------
    def read(self, key: str, *, session: Session | None = None, min_lsn: int = 0) -> ReadResult:
        """Read ``key`` from a node that has applied at least ``min_lsn`` (and the session's needs)."""
        if not isinstance(key, str):
            raise TypeError(f"key must be a str, got {type(key).__name__}")
        min_lsn = require_int(min_lsn, "min_lsn", minimum=0, maximum=MAX_INT64)
        if session is not None:
            require_instance(session, "session", Session)
        self.sync()
        need = max(min_lsn, session.required_lsn() if session is not None else 0)
        node = self._choose(need)
        value, version = node.get(key)
        _, latest = self._primary.get(key)
        stale = version < latest
        self.stats.reads += 1
        self.stats.stale_reads += stale
        if node is self._primary:
            self.stats.primary_reads += 1
        else:
            self.stats.replica_reads += 1
        if session is not None:
            session.saw(node.applied_lsn)
        return ReadResult(value, node.name, node.applied_lsn, stale)

    def _choose(self, need: int) -> NodeState:
        if self.read_policy == "primary":
            return self._primary
        candidates = [r for r in self._replicas.values() if r.connected and r.applied_lsn >= need]
        if not candidates:
            self.stats.fallbacks += 1
            return self._primary
        if self.read_policy == "random":
            return self._rng.choice(candidates)
        self._next += 1
        return candidates[(self._next - 1) % len(candidates)]

    # -- failure ----------------------------------------------------------------------------------
    def failover(self, promote: str | None = None) -> FailoverReport:
        """The primary dies; promote ``promote`` (default: the connected replica furthest along).

        Writes the promoted replica had not applied are lost; replicas that were further along
        than it are rolled back to its position (as ``pg_rewind`` would), and the count reported.
        """
        self.sync()
        if promote is None:
            connected = [r for r in self._replicas.values() if r.connected]
            if not connected:
                raise NoPrimary("failover needs at least one connected replica to promote")
            new = max(connected, key=lambda r: r.applied_lsn)  # first one wins a tie
        else:
            new = self._replica(require_text(promote, "promote", max_length=200))
        position = new.applied_lsn
        lost = self._log[position:]
        rolled_back = {}
        for replica in self._replicas.values():
            if replica is not new and replica.applied_lsn > position:
                rolled_back[replica.name] = replica.applied_lsn - position
                replica.reset_to(self._log, position)
        old = self._primary.name
        del self._log[position:]
        del self._replicas[new.name]
        self._primary = NodeState(new.name)
        self._primary.reset_to(self._log, position)
        return FailoverReport(old, new.name, list(lost), rolled_back)

    def __repr__(self) -> str:
        return f"ReplicatedStore(primary={self.primary!r}, lsn={self.lsn}, replicas={list(self._replicas.values())!r})"
