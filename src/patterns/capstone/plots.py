"""Figures for the capstone chapter and lab: delivery delay over time, one series per run.

Shared by the chapter and the lab so both draw the same picture from the same ``SimulationResult``s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from patterns.capstone.metrics import SimulationResult
from patterns.capstone.providers import Outage

__all__ = ["plot_delay_timeline"]

_MARKERS = ("o", "x", "+", "s", "^", "v", "d")


def plot_delay_timeline(
    results: Mapping[str, SimulationResult],
    *,
    channel: str | None = "email",
    outage: Outage | None = None,
    burst: tuple[float, float] | None = None,
    title: str = "",
    ax: Any = None,
) -> Any:
    """Scatter each run's delivery delay (first delivery minus acceptance) against acceptance time.

    ``channel=None`` plots every channel; ``outage`` shades the primary email provider's outage and
    ``burst`` (start, end) the tenant burst. The delay axis is symlog: normal delays sit under a
    second and queue build-ups reach minutes, and both must stay readable. Returns the axes.
    """
    import matplotlib.pyplot as plt

    if not results:
        raise ValueError("results must hold at least one labelled SimulationResult")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.2))
    for n, (label, result) in enumerate(results.items()):
        pts = [(t, d) for t, d, _, ch in result.delays if channel is None or ch == channel]
        ax.plot([t for t, _ in pts], [d for _, d in pts], _MARKERS[n % len(_MARKERS)], markersize=3,
                alpha=0.6, label=label)
    if outage is not None:
        ax.axvspan(outage.start, outage.end, color="grey", alpha=0.15, label="primary email provider down")
    if burst is not None:
        ax.axvspan(burst[0], burst[1], color="tab:red", alpha=0.12, label="tenant burst")
    ax.set_xlabel("accepted at (simulated s)")
    ax.set_ylabel(f"{channel or 'delivery'} delay (s)")
    ax.set_yscale("symlog", linthresh=1)
    ax.legend(fontsize=8, loc="upper right")
    if title:
        ax.set_title(title, fontsize=9)
    return ax
