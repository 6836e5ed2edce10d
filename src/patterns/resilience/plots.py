"""Figures for chapter 06 and its lab, so the book and the notebook draw the same pictures.

matplotlib is imported inside each function: importing ``patterns.resilience`` never loads it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from patterns.resilience.simulation import ContentionResult, FlakyPaymentService, Sample, ServerRun

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_breaker_timeline", "plot_backoff_study", "plot_server_runs"]


def _figure_of(ax: Axes) -> Figure:
    """The top-level figure an Axes belongs to (``ax.figure`` is typed as possibly a SubFigure)."""
    return cast("Figure", ax.figure)

OUTCOME_COLOURS = {"ok": "tab:green", "failed": "tab:red", "rejected": "tab:gray"}
STATE_LEVEL = {"closed": 0, "half_open": 1, "open": 2}
JITTER_STYLE = {"none": "tab:red", "equal": "tab:orange", "full": "tab:blue", "decorrelated": "tab:green"}


def plot_breaker_timeline(
    samples: Sequence[Sample], changes: Sequence[Any], service: FlakyPaymentService, *,
    duration: float, bin_seconds: float = 5.0, title: str = "", axes: Sequence[Axes] | None = None,
) -> Figure:
    """Top: what callers saw per time bin; bottom: the breaker's state (from its listener events).

    ``changes`` are the breaker's ``StateChange`` events (``at`` and ``new`` are used).
    """
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(2, 1, figsize=(9, 4.2), sharex=True, height_ratios=[2, 1])
    top, bottom = axes
    bins = int(duration // bin_seconds) + 1
    left = [i * bin_seconds for i in range(bins)]
    stacked = [0.0] * bins
    for outcome, colour in OUTCOME_COLOURS.items():
        counts = [0] * bins
        for s in samples:
            if s.outcome == outcome:
                counts[min(int(s.t // bin_seconds), bins - 1)] += 1
        top.bar(left, counts, width=bin_seconds, bottom=stacked, align="edge", color=colour, label=outcome)
        stacked = [a + b for a, b in zip(stacked, counts, strict=True)]
    for outage in service.outages:
        for ax in axes:
            ax.axvspan(outage.start, outage.end, color="tab:red", alpha=0.08, lw=0)
    top.set_ylabel(f"calls per {bin_seconds:g} s")
    top.legend(loc="upper right", ncol=3, fontsize=8)
    top.set_title(title or "what callers saw (shaded: the payment outage)")
    times, levels = [0.0], [STATE_LEVEL["closed"]]
    for change in changes:
        times.append(change.at)
        levels.append(STATE_LEVEL[change.new])
    times.append(duration)
    levels.append(levels[-1])
    bottom.step(times, levels, where="post", color="black")
    bottom.set_yticks(list(STATE_LEVEL.values()), [k.replace("_", "-") for k in STATE_LEVEL])
    bottom.set_ylim(-0.4, 2.4)
    bottom.set_xlabel("simulated time (s)")
    bottom.set_xlim(0, duration)
    fig = _figure_of(top)
    fig.tight_layout()
    return fig


def plot_backoff_study(results: Sequence[ContentionResult], axes: Sequence[Axes] | None = None) -> Figure:
    """Two panels against the number of contending clients: total write calls, completion time."""
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    kinds = list(dict.fromkeys(r.kind for r in results))
    for kind in kinds:
        rows = [r for r in results if r.kind == kind]
        xs = [r.clients for r in rows]
        style: dict[str, Any] = {"color": JITTER_STYLE.get(kind), "marker": "o", "ms": 3, "label": kind}
        axes[0].plot(xs, [r.calls for r in rows], **style)
        axes[1].plot(xs, [r.completion_ms / 1000 for r in rows], **style)
    axes[0].set(xlabel="contending clients", ylabel="write calls (mean)", title="work: total calls")
    axes[1].set(xlabel="contending clients", ylabel="seconds until all succeed (mean)", title="completion time")
    axes[1].set_yscale("log")
    axes[0].legend(title="jitter", fontsize=8)
    fig = _figure_of(axes[0])
    fig.tight_layout()
    return fig


def plot_server_runs(
    runs: Mapping[str, ServerRun], slow_from: float, threads: int, *, bin_seconds: float = 2.0,
    axes: Sequence[Axes] | None = None,
) -> Figure:
    """Left: threads held by payment calls; right: share of /catalog requests served per bin."""
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for (label, run), colour in zip(runs.items(), ("tab:red", "tab:blue", "tab:green"), strict=False):
        held = [a + b for a, b in zip(run.threads_in_payment, run.threads_waiting_bulkhead, strict=True)]
        axes[0].plot(run.times, run.threads_in_payment, color=colour, label=f"{label}: in the call")
        if any(run.threads_waiting_bulkhead):
            axes[0].plot(run.times, held, color=colour, ls=":", label=f"{label}: plus waiting for a slot")
        end = run.times[-1] if run.times else 0.0
        edges = [i * bin_seconds for i in range(int(end // bin_seconds) + 1)]
        share = [run.served_share("catalog", e, e + bin_seconds) for e in edges]
        axes[1].step(edges, share, where="post", color=colour, label=label)
    for ax in axes:
        ax.axvline(slow_from, color="gray", ls="--", lw=1)
        ax.set_xlabel("simulated time (s)")
    axes[0].axhline(threads, color="black", lw=0.8)
    axes[0].set(ylabel="server threads", title=f"threads tied up by /pay (pool: {threads})")
    axes[1].set(ylabel="share served", title="/catalog requests served", ylim=(-0.05, 1.05))
    axes[0].legend(fontsize=8)
    axes[1].legend(fontsize=8, loc="lower left")
    fig = _figure_of(axes[0])
    fig.tight_layout()
    return fig
