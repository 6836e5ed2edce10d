"""CAP and consistency models: a simulated cluster, a quorum store, and history checkers.

``Network`` simulates N nodes with seeded message delays and partitions on a ``ManualClock``;
``QuorumStore`` is a Dynamo-style (N, R, W) store over it with CP and AP modes, last-writer-wins or
sibling versions, read repair and anti-entropy; ``histories`` records what clients saw and checks it
against linearizability, sequential consistency, read-your-writes, monotonic reads and convergence;
``latency_vs_consistency`` prices consistency when there is no partition (PACELC's "else");
``causal`` delivers updates in causal order with vector clocks (``chat_experiment``, ``CausalSession``).
The primary/replica model of chapter 8 lives in ``patterns.replication``.
"""

from patterns.consistency.causal import (
    CausalReplica,
    CausalReport,
    CausalSession,
    DeliveryRule,
    Update,
    apply_on_arrival,
    causally_ready,
    chat_experiment,
)
from patterns.consistency.experiments import (
    LatencyRow,
    PartitionReport,
    atomic_register_history,
    build_cluster,
    latency_vs_consistency,
    partition_experiment,
    run_clients,
    stale_read_rate,
)
from patterns.consistency.histories import (
    CheckResult,
    Op,
    SearchBudgetExceeded,
    check_convergence,
    check_linearizable,
    check_monotonic_reads,
    check_read_your_writes,
    check_sequential,
    stale_reads,
)
from patterns.consistency.network import Network, NetworkStats
from patterns.consistency.quorum import MODES, Operation, QuorumStats, QuorumStore, Unavailable
from patterns.consistency.versions import POLICIES, Version, descends, merge_clocks, resolve

__all__ = [
    "Network", "NetworkStats",
    "QuorumStore", "Operation", "QuorumStats", "Unavailable", "MODES",
    "Version", "POLICIES", "descends", "merge_clocks", "resolve",
    "Op", "CheckResult", "SearchBudgetExceeded", "check_linearizable", "check_sequential",
    "check_read_your_writes", "check_monotonic_reads", "check_convergence", "stale_reads",
    "build_cluster", "run_clients", "stale_read_rate", "PartitionReport", "partition_experiment",
    "atomic_register_history", "LatencyRow", "latency_vs_consistency",
    "Update", "DeliveryRule", "causally_ready", "apply_on_arrival", "CausalReplica", "CausalSession",
    "CausalReport", "chat_experiment",
]
