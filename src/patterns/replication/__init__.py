"""Replication: one primary, replicas that lag, and what that costs readers and failovers.

``ReplicatedStore(replicas={"r1": 0.5, "r2": 2.0}, clock=ManualClock())`` commits writes on the
primary and lets each replica apply the log ``lag`` seconds later. Reads are routed to replicas;
a ``Session`` (or an explicit ``min_lsn`` token) buys read-your-writes and monotonic reads;
``failover()`` reports which acknowledged writes an asynchronous replica never received, and
``simulate_failover`` runs chapter 11's experiment (a writer, a stalled replica, a killed primary,
with or without ``WAIT``) on it.

(The quorum (N, R, W) store of the CAP chapter lives in ``patterns.consistency``.)
"""

from patterns.replication.failover import FailoverRun, simulate_failover
from patterns.replication.log import LogEntry, NodeState, Replica
from patterns.replication.primary import (
    FailoverReport,
    NoPrimary,
    ReadResult,
    ReplicatedStore,
    ReplicationStats,
)
from patterns.replication.session import Session

__all__ = [
    "LogEntry",
    "NodeState",
    "Replica",
    "ReplicatedStore",
    "ReadResult",
    "FailoverReport",
    "ReplicationStats",
    "NoPrimary",
    "Session",
    "FailoverRun",
    "simulate_failover",
]
