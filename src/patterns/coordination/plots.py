"""Figures for chapter 15 and its lab (matplotlib is imported inside the functions).

``plot_paused`` draws a ``PausedClient`` run as a timeline: when the lock service says each client
holds the lock, when each client *believes* it does, and each write accepted or refused. (The
chapter's diagrams are in ``patterns.diagrams.figures.coordination``.)
"""

from __future__ import annotations

from typing import Any

from patterns.coordination.scenarios import PausedClient

__all__ = ["plot_paused"]


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

