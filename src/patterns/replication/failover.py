"""Kill a primary while a writer runs: how many acknowledged writes survive the failover?

The experiment of chapter 11, on ``ReplicatedStore`` and a ``ManualClock`` (deterministic): a writer
sends one write every ``interval`` seconds; each replica applies the log ``lag`` seconds behind, or
applies nothing while it is *stalled* (a slow command, a pause, a congested link); at ``kill_at``
the primary dies and the most up-to-date surviving replica is promoted. A write counts as
*acknowledged* when the writer was told it succeeded:

* asynchronous replication (``wait=None``): as soon as the primary has it;
* ``wait=<seconds>``, Redis's ``WAIT 1 <ms>`` after each write: only when at least one replica
  has it before the timeout. A timed-out ``WAIT`` is *unconfirmed*: the write may or may not
  survive, and the writer knows it (it must treat the write as failed or unknown, never as done).

``lost`` counts acknowledged writes the new primary never received. The same experiment runs on a
real Redis Cluster in the tests (``tests/cluster/test_cluster_failover.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from patterns._validate import require_mapping, require_seconds, require_sequence, require_text
from patterns.clock import ManualClock
from patterns.replication.primary import ReplicatedStore

__all__ = ["FailoverRun", "simulate_failover"]

MAX_WRITES = 1_000_000


@dataclass(frozen=True)
class FailoverRun:
    label: str
    sent: int  # writes sent before the primary died
    acknowledged: int  # writes the writer was told succeeded (with WAIT: confirmed by a replica)
    unconfirmed: int  # WAIT timed out: applied on the primary, not confirmed by any replica
    lost: int  # acknowledged writes the promoted replica never received
    promoted: str

    @property
    def lost_share(self) -> float:
        return self.lost / self.acknowledged if self.acknowledged else 0.0


def simulate_failover(
    *,
    label: str = "",
    replicas: Mapping[str, float] | None = None,
    stalled: Sequence[str] = (),
    stall_at: float = 0.3,
    stall_for: float = 0.6,
    kill_at: float = 0.75,
    interval: float = 0.0001,
    wait: float | None = None,
    dies_with_primary: Sequence[str] = (),
) -> FailoverRun:
    """Run the experiment once; see the module docstring.

    ``replicas`` maps names to lag in seconds (default one replica 1 ms behind: another zone).
    ``stalled`` replicas apply nothing from ``stall_at`` for ``stall_for`` seconds.
    ``dies_with_primary`` replicas are lost in the same crash (the same rack) and cannot be promoted.
    """
    lags = dict(require_mapping(replicas if replicas is not None else {"replica": 0.001}, "replicas"))
    label = require_text(label, "label", min_length=0, max_length=200)
    stalled = require_sequence(stalled, "stalled", min_length=0)
    dead = require_sequence(dies_with_primary, "dies_with_primary", min_length=0)
    for name in [*stalled, *dead]:
        if name not in lags:
            raise ValueError(f"replica names must be among {sorted(lags)}, got {name!r}")
    if not set(lags) - set(dead):
        raise ValueError("at least one replica must survive the primary to be promoted")
    stall_at = require_seconds(stall_at, "stall_at", positive=False)
    stall_for = require_seconds(stall_for, "stall_for", positive=False)
    kill_at = require_seconds(kill_at, "kill_at")
    interval = require_seconds(interval, "interval")
    if kill_at / interval > MAX_WRITES:
        raise ValueError(f"kill_at / interval must be at most {MAX_WRITES:,} writes, got {kill_at / interval:,.0f}")
    timeout = None if wait is None else require_seconds(wait, "wait")
    clock = ManualClock()
    store = ReplicatedStore(lags, clock=clock)
    nodes = store.replicas

    def advance(seconds: float) -> None:
        clock.advance(seconds)
        now = clock.now()
        for name in stalled:
            nodes[name].connected = not stall_at <= now < stall_at + stall_for
        store.sync()

    acknowledged: set[int] = set()
    unconfirmed = 0
    while clock.now() < kill_at:
        lsn = store.write("counter", store.lsn + 1)
        if timeout is None:
            acknowledged.add(lsn)
        else:  # WAIT 1 <timeout>: poll in interval-sized steps until a replica has it, or time is up
            deadline = clock.now() + timeout
            while clock.now() < min(deadline, kill_at) and not any(r.applied_lsn >= lsn for r in nodes.values()):
                advance(interval)
            if any(r.applied_lsn >= lsn for r in nodes.values()):
                acknowledged.add(lsn)
            elif clock.now() >= deadline:
                unconfirmed += 1
        advance(interval)
    survivors = [n for n in nodes if n not in dead]
    promote = max(survivors, key=lambda n: nodes[n].applied_lsn)
    report = store.failover(promote=promote)
    lost = sum(1 for entry in report.lost if entry.lsn in acknowledged)
    sent = store.lsn + len(report.lost)  # what the new primary has plus what it never received
    return FailoverRun(label, sent, len(acknowledged), unconfirmed, lost, promote)
