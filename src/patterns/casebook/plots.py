"""Figures the chapter and the lab share (matplotlib is imported inside each function)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from patterns._validate import require_int, require_sequence
from patterns.casebook.chat import DeliveryResult
from patterns.casebook.crawler import CrawlResult
from patterns.casebook.newsfeed import FanoutRow

__all__ = ["plot_sequence", "plot_fanout", "plot_crawl"]


def plot_sequence(result: DeliveryResult, *, first: int = 0, count: int = 5, ax: Any = None) -> Any:
    """A message sequence chart of messages ``first .. first + count - 1`` from a recorded
    ``chat.delivery`` run: time flows down, sender on the left, recipient on the right; a lost
    transmission ends in a cross half-way, a number in a box on the right is a message shown."""
    import matplotlib.pyplot as plt

    start = require_int(first, "first", minimum=0)
    n = require_int(count, "count", minimum=1, maximum=50)
    wanted = range(start, start + n)
    events = [e for e in result.trace if e[1] in wanted]
    if not events:
        raise ValueError(f"the trace holds no event for messages {start}..{start + n - 1}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 6))
    t0 = min(e[2] for e in events)
    t1 = max(e[3] if e[3] is not None else e[2] for e in events)
    colors = [f"C{i}" for i in range(10)]  # the default colour cycle
    last_label = -1.0  # shows at the same instant are stacked so their labels stay readable
    for x, name in ((0.0, "sender"), (1.0, "recipient")):
        ax.plot([x, x], [t0 - 0.02, t1 + 0.05], color="#555555", lw=1)
        ax.text(x, t0 - 0.04, name, ha="center", va="bottom", fontsize=9)
    for kind, msg, sent, arrived in events:
        color = colors[msg % 10]
        if kind == "show":
            y = max(sent, last_label + 0.035)
            last_label = y
            ax.text(1.04, y, f"show {msg}", va="center", fontsize=7, color=color,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": color, "lw": 0.6})
            continue
        x0, x1 = (0.0, 1.0) if kind == "msg" else (1.0, 0.0)
        style = "-" if kind == "msg" else "--"
        if kind == "msg":
            ax.text(-0.03, sent, f"m{msg}", fontsize=7, color=color, va="center", ha="right")
        if arrived is None:  # lost: draw half the way and a cross
            mid_x, mid_t = (x0 + x1) / 2, sent + 0.03
            ax.plot([x0, mid_x], [sent, mid_t], style, color=color, lw=1)
            ax.plot([mid_x], [mid_t], marker="x", color=color, ms=7)
            continue
        ax.annotate("", xy=(x1, arrived), xytext=(x0, sent),
                    arrowprops={"arrowstyle": "->", "color": color, "lw": 1, "linestyle": style})
    ax.set_ylim(t1 + 0.08, t0 - 0.08)
    ax.set_xlim(-0.2, 1.3)
    ax.set_xticks([])
    ax.set_ylabel("simulated time (s)")
    ax.set_title(f"{result.protocol}: solid = message, dashed = ack, x = lost", fontsize=9)
    return ax


def plot_fanout(rows: Sequence[FanoutRow], *, ax: Any = None) -> Any:
    """Daily write and read operations, and the worst post, of each fan-out strategy."""
    import matplotlib.pyplot as plt

    items = require_sequence(list(rows), "rows")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.4))
    labels = [r.strategy if r.strategy != "hybrid" else f"hybrid\n>= {r.threshold:,.0f}" for r in items]
    x = range(len(items))
    ax.bar([i - 0.2 for i in x], [r.write_ops for r in items], width=0.4, label="timeline inserts / day",
           color="#1f77b4")
    ax.bar([i + 0.2 for i in x], [r.read_ops for r in items], width=0.4, label="fetches for reads / day",
           color="#ff7f0e")
    for i, r in enumerate(items):
        if r.write_ops > 0:  # pull writes nothing: no bar, and a label at 0 on a log axis breaks Pyodide's layout
            ax.text(i - 0.2, r.write_ops, f"worst post\n{r.worst_post:,}", ha="center", va="bottom",
                    fontsize=7)
    ax.set_yscale("log")
    ax.set_xticks(list(x), labels, fontsize=8)
    ax.set_ylabel("operations per day (log)")
    ax.legend(fontsize=8, loc="upper right")
    return ax


def plot_crawl(results: Sequence[CrawlResult], *, ax: Any = None) -> Any:
    """Pages fetched over simulated time, with the fetcher and politeness bounds."""
    import matplotlib.pyplot as plt

    items = require_sequence(list(results), "results")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.2))
    for r in items:
        times, done = zip(*r.progress, strict=True)
        ax.plot(times, done, label=f"{r.seen_set}: {r.fetched:,} pages", lw=1.2)
    first = items[0]
    ax.axvline(first.fetcher_bound, color="#2ca02c", ls=":", lw=1)
    ax.text(first.fetcher_bound, first.fetched * 0.05, " fetcher bound", fontsize=8, color="#2ca02c")
    ax.axvline(first.politeness_bound, color="#d62728", ls=":", lw=1)
    ax.text(first.politeness_bound, first.fetched * 0.05, "politeness bound ", fontsize=8, color="#d62728",
            ha="right")
    ax.set_xlabel("simulated seconds")
    ax.set_ylabel("pages fetched")
    ax.legend(fontsize=8, loc="center right")
    return ax
