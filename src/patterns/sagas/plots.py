"""Figures for chapter 5 and its lab: a saga's timeline, and the failure matrix as a table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from patterns.sagas.log import (
    ACTION_DONE,
    ACTION_FAILED,
    ACTION_REJECTED,
    COMPENSATION_DONE,
    COMPENSATION_FAILED,
    LogEvent,
)
from patterns.sagas.shop import STEP_NAMES

__all__ = ["plot_timeline", "matrix_table"]

_COLOURS = {ACTION_DONE: "tab:green", ACTION_REJECTED: "tab:red", ACTION_FAILED: "tab:orange",
            COMPENSATION_DONE: "tab:blue", COMPENSATION_FAILED: "tab:orange"}
_MARKERS = {ACTION_DONE: "o", ACTION_REJECTED: "X", ACTION_FAILED: "x",
            COMPENSATION_DONE: "s", COMPENSATION_FAILED: "x"}


def plot_timeline(events: Sequence[LogEvent], ax: Any = None, title: str = "") -> Any:
    """One row per step: when each action / compensation finished, failed or was refused."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 2.8))
    rows = {name: i for i, name in enumerate(reversed(STEP_NAMES))}
    seen: set[str] = set()
    for event in events:
        if event.step not in rows or event.kind not in _COLOURS:
            continue
        label = event.kind.replace("_", " ") if event.kind not in seen else None
        seen.add(event.kind)
        ax.scatter(event.at, rows[event.step], color=_COLOURS[event.kind], marker=_MARKERS[event.kind],
                   s=70, zorder=3, label=label)
    for event in events:
        if event.kind.startswith("state_"):
            ax.axvline(event.at, color="grey", lw=0.8, ls=":")
            ax.annotate(event.kind[6:].upper(), (event.at, len(rows) - 0.4), fontsize=8, rotation=90,
                        va="top", ha="right", color="grey")
    ax.set_yticks(list(rows.values()), list(rows))
    ax.set_ylim(-0.6, len(rows) - 0.2)
    ax.set_xlabel("simulated time (s)")
    ax.legend(loc="lower right", fontsize=8, ncols=2)
    if title:
        ax.set_title(title)
    ax.figure.tight_layout()
    return ax


def matrix_table(rows: Sequence[dict[str, Any]]) -> str:
    """The failure matrix as aligned text: style, failed step, kind, end state, effects, restarts, ok."""
    header = f"{'style':<14}{'step':<10}{'failure':<20}{'state':<11}{'charges':>8}{'refunds':>8}" \
             f"{'stock':>6}{'ships':>6}{'restarts':>9}  invariant"
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r['style']:<14}{r['step']:<10}{r['kind']:<20}{r['state'] or '-':<11}{r['charges']:>8}"
            f"{r['refunds']:>8}{r['stock_delta']:>6}{r['shipments']:>6}{r['restarts']:>9}  "
            + ("ok" if r["ok"] else "BROKEN: " + r["violations"])
        )
    return "\n".join(lines)
