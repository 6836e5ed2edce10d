"""Figures for chapter 16 and its lab (matplotlib is imported inside the functions)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from patterns.slo.alerts import BurnRateRule, Rule, episodes, window_ratio
from patterns.slo.budget import SLO
from patterns.slo.traffic import Traffic

__all__ = ["plot_burn", "plot_budget"]


def plot_burn(traffic: Traffic, slo: SLO, rule: BurnRateRule, *, start: int = 0, end: int | None = None,
              ax: Any = None) -> Any:
    """Burn rate over the rule's long and short windows, its threshold, and when it fires."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3))
    end = traffic.minutes if end is None else end
    hours = np.arange(start, end) / 60
    ax.plot(hours, window_ratio(traffic, rule.long)[start:end] / slo.budget_ratio, color="C0",
            label=f"burn rate over {rule.long} min")
    if rule.short:
        ax.plot(hours, window_ratio(traffic, rule.short)[start:end] / slo.budget_ratio, color="C1",
                lw=0.8, label=f"burn rate over {rule.short} min")
    ax.axhline(rule.burn_rate, color="k", ls="--", lw=1, label=f"threshold {rule.burn_rate:g}x")
    on = rule.firing(traffic, slo)[start:end]
    for a, b in episodes(on):
        ax.axvspan((start + a) / 60, (start + b) / 60, color="C3", alpha=0.15)
    for incident in traffic.incidents:
        if incident.end > start and incident.start < end:
            ax.axvspan(max(incident.start, start) / 60, min(incident.end, end) / 60, ymin=0, ymax=0.04,
                       color="k")
    ax.set_yscale("symlog", linthresh=1)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("time (hours); black bar: incident; red: alert firing")
    ax.set_ylabel("burn rate")
    ax.legend(loc="upper right", fontsize=8)
    return ax


def plot_budget(traffic: Traffic, slo: SLO, rules: Sequence[Rule], *, ax: Any = None) -> Any:
    """The error budget left over the month, with each rule's alerts as ticks underneath."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.4))
    days = np.arange(traffic.minutes) / 1440
    budget = slo.budget_ratio * float(traffic.total.mean()) * slo.period_minutes
    ax.plot(days, 100 * (1 - np.cumsum(traffic.bad) / budget), color="C0")
    ax.set_ylabel("budget left (%)")
    ax.set_xlabel("day")
    for incident in traffic.incidents:
        ax.annotate(incident.name, (incident.start / 1440, 100), fontsize=8, rotation=90, va="top")
    for row, rule in enumerate(rules):
        y = -12 - 9 * row
        for a, _b in episodes(rule.firing(traffic, slo)):
            ax.plot(a / 1440, y, "|", color=f"C{row + 1}", ms=8, mew=1.5)
        ax.text(days[-1], y, f" {rule.name}", fontsize=7, va="center", color=f"C{row + 1}")
    ax.set_ylim(-12 - 9 * len(rules), 105)
    return ax

