"""A Dynamo-style quorum store: N replicas, writes wait for W acks, reads for R replies.

Every node of the ``Network`` is a replica of every key (N = the number of nodes). A client sends
each request to a *coordinator* node, which forwards it to all N replicas over the simulated
network and answers once W (write) or R (read) replicas have replied, or fails at ``timeout``.

What it guarantees, and what not:

- With no partition and ``R + W > N``, every read quorum overlaps every write quorum, so a read
  sees the latest *completed* write (the property tests prove it on random workloads).
  With ``R + W <= N`` reads can miss it: the chapter measures how often.
- ``mode="cp"``: a coordinator that cannot reach W (or R) replicas refuses at once with
  ``Unavailable``: consistency kept, availability lost on the minority side of a partition.
- ``mode="ap"``: a coordinator accepts with whatever replicas it reaches (a sloppy quorum,
  at least itself): always available, but the two sides of a partition diverge; anti-entropy merges
  them after the heal, either last-writer-wins (concurrent writes lost) or siblings (kept).
- Read repair: a coordinator pushes the merged answer to replicas that replied with older data.

Not modelled: hinted handoff to extra nodes, crash/recovery, Merkle trees (``anti_entropy`` merges
full state between connected replicas at once). Not thread-safe: one thread drives the network.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from patterns._validate import (
    MAX_SECONDS,
    require_instance,
    require_int,
    require_mapping,
    require_number,
    require_one_of,
    require_seconds,
    require_text,
)
from patterns.consistency.histories import Op
from patterns.consistency.network import MAX_DELAY, Network
from patterns.consistency.versions import POLICIES, Version, merge_clocks, resolve
from patterns.errors import PatternError

__all__ = ["QuorumStore", "Operation", "QuorumStats", "Unavailable", "MODES"]

MODES = ("cp", "ap")


class Unavailable(PatternError):
    """A coordinator could not reach enough replicas for the quorum the request needs."""


@dataclass
class Operation:
    """One client request: pending until ``ok`` is True (done) or False/None (failed)."""

    kind: str
    key: str
    client: str
    coordinator: str
    invoked: float
    needed: int
    value: Any = None  # the value written, or the value read (a tuple when siblings disagree)
    versions: tuple[Version, ...] = ()
    completed: float | None = None
    ok: bool | None = None
    error: str = ""
    responses: int = 0
    finished: bool = False
    callbacks: list[Callable[[Operation], None]] = field(default_factory=list, repr=False)

    def then(self, callback: Callable[[Operation], None]) -> None:
        """Call ``callback(op)`` when the operation finishes (at once if it already has)."""
        if self.finished:
            callback(self)
        else:
            self.callbacks.append(callback)

    def to_op(self) -> Op:
        """The history record: a failed write that may have reached a replica is indeterminate."""
        if not self.finished:
            return Op(self.client, self.kind, self.key, self.value, self.invoked, None, None)
        ok = self.ok
        if not ok and self.kind == "write" and self.error == "timeout":
            ok = None
        return Op(self.client, self.kind, self.key, self.value, self.invoked,
                  self.completed, ok if ok is None else bool(ok))


@dataclass
class QuorumStats:
    writes_ok: int = 0
    writes_failed: int = 0
    reads_ok: int = 0
    reads_failed: int = 0
    sibling_reads: int = 0  # reads that returned more than one concurrent version
    read_repairs: int = 0
    anti_entropy_repairs: int = 0

    @property
    def availability(self) -> float:
        total = self.writes_ok + self.writes_failed + self.reads_ok + self.reads_failed
        return (self.writes_ok + self.reads_ok) / total if total else 1.0


class QuorumStore:
    """``QuorumStore(network, r=2, w=2, mode="cp", policy="lww")`` over ``network.nodes``."""

    def __init__(
        self,
        network: Network,
        *,
        r: int,
        w: int,
        mode: str = "cp",
        policy: str = "lww",
        timeout: float = 0.2,
        read_repair: bool = True,
        skew: Mapping[str, float] | None = None,
    ) -> None:
        require_instance(network, "network", Network)
        n = len(network.nodes)
        r = require_int(r, "r", minimum=1, maximum=n)
        w = require_int(w, "w", minimum=1, maximum=n)
        mode = require_one_of(mode, "mode", MODES)
        policy = require_one_of(policy, "policy", POLICIES)
        timeout = require_seconds(timeout, "timeout", maximum=MAX_DELAY)
        read_repair = require_instance(read_repair, "read_repair", bool)
        skew = dict(require_mapping(skew, "skew") if skew is not None else {})
        for node, offset in skew.items():
            if node not in network.nodes:
                raise ValueError(f"skew: unknown node {node!r}; nodes are {list(network.nodes)}")
            require_number(offset, f"skew[{node!r}]", minimum=-MAX_SECONDS, maximum=MAX_SECONDS)
        self.network, self.n, self.r, self.w = network, n, r, w
        self.mode, self.policy, self.timeout, self.read_repair = mode, policy, float(timeout), read_repair
        self.skew = {node: float(skew.get(node, 0.0)) for node in network.nodes}
        self.replicas: dict[str, dict[str, tuple[Version, ...]]] = {node: {} for node in network.nodes}
        self.operations: list[Operation] = []
        self.stats = QuorumStats()
        self.lost_writes: set[tuple[str, int]] = set()  # dots discarded by last-writer-wins
        self._counters = {node: 0 for node in network.nodes}

    # --- client API ---------------------------------------------------------------------------
    def submit_write(self, key: str, value: Any, *, coordinator: str, client: str = "client",
                     context: tuple[Version, ...] | None = None) -> Operation:
        """Start a write; ``context`` is the versions the client read (default: the coordinator's)."""
        op = self._start("write", key, coordinator, client, self.w)
        op.value = value
        if op.finished:
            return op
        local = self.replicas[coordinator].get(key, ()) if context is None else context
        self._counters[coordinator] += 1
        counter = self._counters[coordinator]
        clock = dict(merge_clocks(v.clock for v in local))
        clock[coordinator] = counter
        version = Version(value, tuple(sorted(clock.items())), self.network.clock.now() + self.skew[coordinator],
                          coordinator, counter)
        op.versions = (version,)

        def on_ack() -> None:
            op.responses += 1
            if op.responses >= op.needed:
                self._finish(op, True)

        for node in self.network.nodes:
            self.network.send(coordinator, node, partial(self._replica_write, node, key, version, on_ack),
                              lambda: f"write {key}={value!r}")
        return op

    def submit_read(self, key: str, *, coordinator: str, client: str = "client") -> Operation:
        """Start a read; it completes with the merged versions of the first R replies."""
        op = self._start("read", key, coordinator, client, self.r)
        if op.finished:
            return op
        replies: list[tuple[str, tuple[Version, ...]]] = []

        def on_reply(node: str, versions: tuple[Version, ...]) -> None:
            replies.append((node, versions))
            if not op.finished and len(replies) >= op.needed:
                merged, lost = resolve((v for _, vs in replies for v in vs), self.policy)
                self.lost_writes |= lost
                op.versions = merged
                values = tuple(v.value for v in merged)
                op.value = values[0] if len(values) == 1 else (values or None)
                if len(merged) > 1:
                    self.stats.sibling_reads += 1
                self._finish(op, True)
                for replied, seen in replies:
                    self._repair(coordinator, replied, key, seen, merged)
            elif op.finished and op.ok:
                self._repair(coordinator, node, key, versions, op.versions)  # a late reply

        for node in self.network.nodes:
            self.network.send(coordinator, node, partial(self._replica_read, node, coordinator, key, on_reply),
                              f"read {key}")
        return op

    def write(self, key: str, value: Any, *, coordinator: str, client: str = "client") -> Operation:
        """Write and run the network until the write finishes; raise ``Unavailable`` on failure."""
        return self._wait(self.submit_write(key, value, coordinator=coordinator, client=client))

    def read(self, key: str, *, coordinator: str, client: str = "client") -> Operation:
        """Read and run the network until the read finishes; raise ``Unavailable`` on failure."""
        return self._wait(self.submit_read(key, coordinator=coordinator, client=client))

    def history(self) -> list[Op]:
        """Every operation submitted so far, as history records for ``patterns.consistency``."""
        return [op.to_op() for op in self.operations]

    # --- replicas -----------------------------------------------------------------------------
    def anti_entropy(self) -> int:
        """Merge full state between every pair of connected replicas; return the keys changed."""
        changed = 0
        for group in self.network.groups():
            keys = sorted({k for node in group for k in self.replicas[node]})
            for key in keys:
                merged, lost = resolve((v for node in group for v in self.replicas[node].get(key, ())),
                                       self.policy)
                self.lost_writes |= lost
                for node in group:
                    if _dots(self.replicas[node].get(key, ())) != _dots(merged):
                        self.replicas[node][key] = merged
                        changed += 1
        self.stats.anti_entropy_repairs += changed
        return changed

    def values(self, key: str) -> dict[str, tuple[Any, ...]]:
        """What each replica holds for ``key`` right now: node -> values (siblings in stamp order)."""
        return {node: tuple(v.value for v in data.get(key, ())) for node, data in self.replicas.items()}

    def states(self) -> dict[str, dict[str, tuple[Any, ...]]]:
        """Every replica's whole state (node -> key -> values), for ``check_convergence``."""
        return {node: {k: tuple(v.value for v in vs) for k, vs in sorted(data.items())}
                for node, data in self.replicas.items()}

    # --- internals ----------------------------------------------------------------------------
    def _start(self, kind: str, key: str, coordinator: str, client: str, quorum: int) -> Operation:
        if not isinstance(key, str):
            raise TypeError(f"key must be a str, got {type(key).__name__}")
        require_text(client, "client", max_length=200)
        if not isinstance(coordinator, str):
            raise TypeError(f"coordinator must be a node name (str), got {type(coordinator).__name__}")
        if coordinator not in self.replicas:
            raise ValueError(f"coordinator: unknown node {coordinator!r}; nodes are {list(self.network.nodes)}")
        reachable = len(self.network.reachable_from(coordinator))
        needed = quorum if self.mode == "cp" else min(quorum, reachable)
        op = Operation(kind, key, client, coordinator, self.network.clock.now(), needed)
        self.operations.append(op)
        if reachable < needed:
            self._finish(op, False, "unavailable")
        else:
            self.network.schedule(op.invoked + self.timeout, lambda: self._finish(op, False, "timeout"))
        return op

    def _finish(self, op: Operation, ok: bool, error: str = "") -> None:
        if op.finished:
            return
        op.finished, op.ok, op.error, op.completed = True, ok, error, self.network.clock.now()
        attr = f"{op.kind}s_{'ok' if ok else 'failed'}"
        setattr(self.stats, attr, getattr(self.stats, attr) + 1)
        for callback in op.callbacks:
            callback(op)

    def _apply(self, node: str, key: str, versions: tuple[Version, ...]) -> None:
        kept, lost = resolve(self.replicas[node].get(key, ()) + versions, self.policy)
        self.lost_writes |= lost
        self.replicas[node][key] = kept

    def _replica_write(self, node: str, key: str, version: Version, on_ack: Callable[[], None]) -> None:
        self._apply(node, key, (version,))
        self.network.send(node, version.node, on_ack, "ack")

    def _replica_read(self, node: str, coordinator: str, key: str,
                      on_reply: Callable[[str, tuple[Version, ...]], None]) -> None:
        snapshot = self.replicas[node].get(key, ())
        self.network.send(node, coordinator, lambda: on_reply(node, snapshot),
                          lambda: f"{key}=" + (", ".join(repr(v.value) for v in snapshot) or "nothing"))

    def _repair(self, coordinator: str, node: str, key: str, seen: tuple[Version, ...],
                merged: tuple[Version, ...]) -> None:
        if self.read_repair and _dots(seen) != _dots(merged):
            self.stats.read_repairs += 1
            self.network.send(coordinator, node, lambda: self._apply(node, key, merged), f"repair {key}")

    def _wait(self, op: Operation) -> Operation:
        while not op.finished and self.network.step():
            pass
        if not op.ok:
            raise Unavailable(f"{op.kind} of {op.key!r} via {op.coordinator} failed: {op.error} "
                              f"(needed {op.needed} of N={self.n}, mode={self.mode})")
        return op


def _dots(versions: tuple[Version, ...]) -> frozenset[tuple[str, int]]:
    return frozenset(v.dot for v in versions)
