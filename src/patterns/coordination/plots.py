"""Figures for chapter 15 and its lab (matplotlib is imported inside the functions).

``plot_paused`` draws a ``PausedClient`` run as a timeline: when the lock service says each client
holds the lock, when each client *believes* it does, and each write accepted or refused.
``architecture_dot`` describes the pieces of the chapter as a Graphviz graph, from the package's own
names, for the chapter to render with ``dot``.
"""

from __future__ import annotations

from typing import Any

from patterns.coordination.scenarios import PausedClient

__all__ = ["plot_paused", "architecture_dot", "lock_states_dot"]


def plot_paused(result: PausedClient, ax: Any = None) -> Any:
    """A timeline of one paused-client run; returns the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 2.8))
    lanes = {"client-1": 1.0, "client-2": 0.0}
    for client, y in lanes.items():
        if client in result.held:
            a, b = result.held[client]
            ax.broken_barh([(a, max(b - a, 0.05))], (y - 0.3, 0.25), color="C0", label=(
                "holds the lock (per the service)" if client == "client-1" else None))
        if client in result.believed:
            a, b = result.believed[client]
            ax.broken_barh([(a, max(b - a, 0.05))], (y + 0.05, 0.25), facecolor="none",
                           edgecolor="C1", hatch="//", label=(
                               "believes it holds the lock" if client == "client-1" else None))
    for event in result.events:
        if "writes" in event.what and event.actor in lanes:
            ax.plot(event.t, lanes[event.actor] + 0.45, "v", color="C2", ms=9)
        elif event.actor == "storage":
            ax.plot(event.t, lanes["client-1"] + 0.45, "x", color="C3", ms=10, mew=2)
        elif "pauses" in event.what:
            ax.axvspan(event.t, event.t + result.pause, ymin=0.55, ymax=0.98, color="0.85", zorder=0)
    ax.axvline(result.ttl, color="k", ls=":", lw=1)
    ax.text(result.ttl, -0.62, f" lease TTL ({result.ttl:g} s)", fontsize=8, va="bottom")
    ax.set_yticks(list(lanes.values()), list(lanes))
    ax.set_ylim(-0.65, 1.65)
    ax.set_xlabel("simulated time (s)")
    verdict = f"lost: {', '.join(result.lost)}'s update" if result.corrupted else "no update lost"
    ax.set_title(f"pause {result.pause:g} s, TTL {result.ttl:g} s, "
                 f"{'with' if result.fencing else 'without'} fencing: {verdict}")
    ax.legend(loc="upper right", fontsize=7, framealpha=0.9)
    return ax


def architecture_dot() -> str:
    """Graphviz source: clients, the lease service (embedded or etcd), and the fenced resource."""
    from patterns.coordination.backend import MemoryLeaseService
    from patterns.coordination.etcd import EtcdLeaseService
    from patterns.coordination.primitives import Election, Lock, Session
    from patterns.coordination.storage import FencedStore

    service = "LeaseBackend|" + f"{MemoryLeaseService.__name__} (embedded)\\n{EtcdLeaseService.__name__} (etcd)"
    lines = [
        "digraph coordination {",
        '  rankdir=LR; node [shape=box, style="rounded", fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9];',
        '  subgraph cluster_clients { label="clients (each a process)"; style=dashed;',
        f'    c1 [label="client-1\\n{Session.__name__} (lease, kept alive)"];',
        f'    c2 [label="client-2\\n{Session.__name__} (lease, kept alive)"]; }}',
        f'  svc [shape=record, label="{{{service}}}"];',
        f'  res [label="resource\\n{FencedStore.__name__}\\n(checks fencing tokens)"];',
        f'  c1 -> svc [label="{Lock.__name__}.acquire -> token"];',
        f'  c2 -> svc [label="{Election.__name__}.campaign"];',
        '  c1 -> res [label="write(value, token)"];',
        '  c2 -> res [label="write(value, token)"];',
        '  svc -> svc [label="lease expiry\\ndeletes keys"];',
        "}",
    ]
    return "\n".join(lines)


def lock_states_dot() -> str:
    """Graphviz source: the states of a lock key on the lease service."""
    return "\n".join([
        "digraph lock {",
        '  rankdir=LR; node [shape=ellipse, fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9];',
        '  free [label="free"]; held [label="held by A\\n(token n)"];',
        '  free -> held [label="acquire: create key on A\'s lease,\\ncounter version -> n"];',
        '  held -> held [label="keep-alive\\n(TTL reset)"];',
        '  held -> free [label="release (delete if value = A)"];',
        '  held -> free [label="lease expires / revoked\\n(A may not know!)", color="red", fontcolor="red"];',
        "}",
    ])

