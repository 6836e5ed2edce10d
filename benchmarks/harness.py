"""The timing harness every ``bench_*.py`` uses: interleaving, CPU and wall clocks, statistics, JSON.

A *run* builds every contender afresh and measures each one back to back; the order of the
contenders rotates from run to run (for two contenders: alternates), so a burst of load from another
process hits the contenders alike instead of one of them. Within a run a contender may be measured
over several *rounds*, keeping its best round. Every measurement reads two clocks at once:

* ``cpu``: the CPU time of the calling thread (``time.thread_time``, the default) or of the whole
  process (``time.process_time``, when the work runs in other threads, e.g. a Kafka client). Time
  spent preempted by other processes is not counted, so this is the figure targets are judged on;
* ``wall``: ``time.perf_counter``, what a caller waits.

A script records its figures in a :class:`Report`: every figure keeps its per-run values with
min / median / max, every ratio names the peer it is measured against, every target says how many
runs met it. When the environment variable ``BENCH_OUT`` names a folder (``make bench`` sets it),
``Report.save`` writes ``<BENCH_OUT>/<area>.json``; ``benchmarks/report.py`` merges those files
into ``benchmarks/results/latest.json`` and regenerates the tables of ``benchmarks/README.md``.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

Call = Callable[[], object]
Factory = Callable[[], Call]  # builds a fresh contender (outside the timing) and returns one call
CPU_CLOCKS: dict[str, Callable[[], float]] = {"thread": time.thread_time, "process": time.process_time}


@dataclass
class Timing:
    """Seconds per call of one contender, one value per run, on both clocks."""

    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)


def reuse(call: Call) -> Factory:
    """A factory that hands out the same ``call`` in every run (for contenders without state)."""
    return lambda: call


def measure(call: Call, number: int, cpu: str = "thread") -> tuple[float, float]:
    """(CPU seconds, wall seconds) per call of ``number`` calls of ``call``."""
    cpu_clock = CPU_CLOCKS[cpu]
    gc.collect()
    cpu_start, wall_start = cpu_clock(), time.perf_counter()
    for _ in range(number):
        call()
    return (cpu_clock() - cpu_start) / number, (time.perf_counter() - wall_start) / number


def once(fn: Callable[[], Any], cpu: str = "process") -> tuple[Any, float, float]:
    """(fn's result, CPU seconds, wall seconds) of one call of ``fn`` (a job, not a micro-call)."""
    cpu_clock = CPU_CLOCKS[cpu]
    cpu_start, wall_start = cpu_clock(), time.perf_counter()
    result = fn()
    return result, cpu_clock() - cpu_start, time.perf_counter() - wall_start


def interleave(
    factories: Mapping[str, Factory], *, runs: int, number: int, rounds: int = 1, cpu: str = "thread"
) -> dict[str, Timing]:
    """Per-run seconds per call of every contender: fresh contenders each run (built untimed just
    before their first measurement; ``close()``, if they have one, is called right after their last
    round), rotated order,
    the best of ``rounds`` rounds (each clock's best kept separately)."""
    names = list(factories)
    timings = {name: Timing() for name in names}
    for run in range(runs):
        shift = run % len(names)
        order = names[shift:] + names[:shift]
        calls: dict[str, Call] = {}
        best = {name: (float("inf"), float("inf")) for name in order}
        for round_ in range(rounds):
            for name in order:
                if name not in calls:  # built just before its first measurement
                    calls[name] = factories[name]()
                cpu_s, wall_s = measure(calls[name], number, cpu)
                best[name] = (min(best[name][0], cpu_s), min(best[name][1], wall_s))
                close = getattr(calls[name], "close", None)
                if round_ == rounds - 1 and close is not None:  # after its last round: release resources,
                    close()  # read server statistics, ... before the next contender runs
        for name in order:
            timings[name].cpu.append(best[name][0])
            timings[name].wall.append(best[name][1])
    return timings


def ratios(theirs: Sequence[float], ours: Sequence[float]) -> list[float]:
    """Paired per-run ratios theirs / ours (each run's two figures were measured back to back)."""
    return [t / o if o > 0 else float("inf") for o, t in zip(ours, theirs, strict=True)]


def summary(values: Sequence[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def spread(values: Sequence[float], scale: float = 1.0, digits: int = 2) -> str:
    """'median (min-max)' of per-run figures."""
    s = summary([v * scale for v in values])
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}-{s['max']:.{digits}f})"


CLOCK_NAMES = {"thread": "thread CPU", "process": "process CPU", "wall": "wall"}


class Report:
    """The figures one script measured, saved as JSON for ``benchmarks/report.py``."""

    def __init__(self, area: str, title: str, packages: Sequence[str] = (), **settings: object) -> None:
        self.area, self.title = area, title
        self.packages = {name: version(name) for name in packages}
        self.settings = dict(settings)
        self.figures: list[dict[str, Any]] = []
        self.targets: list[dict[str, Any]] = []

    def figure(
        self, label: str, values: Sequence[float], unit: str, clock: str, *, scale: float = 1.0,
        peer: str | None = None, group: str = "",
    ) -> list[float]:
        """Record one figure (per-run ``values`` times ``scale``, in ``unit``); returns the scaled values.

        ``peer`` marks a ratio against that peer library (theirs / ours, above 1 ours is faster).
        """
        scaled = [v * scale for v in values]
        self.figures.append({"group": group, "label": label, "unit": unit, "clock": CLOCK_NAMES.get(clock, clock),
                             "peer": peer, "runs": scaled, **summary(scaled)})
        return scaled

    def timing(self, label: str, timing: Timing, cpu: str = "thread", *, group: str = "",
               unit: str = "µs", scale: float = 1e6) -> None:
        """Record a contender's per-call time on both clocks."""
        self.figure(label, timing.cpu, unit, cpu, scale=scale, group=group)
        self.figure(label, timing.wall, unit, "wall", scale=scale, group=group)

    def target(
        self, label: str, values: Sequence[float], unit: str, *, at_least: float | None = None,
        at_most: float | None = None, why: str = "",
    ) -> bool:
        """A target judged on every run: met when every value is on the right side of the bound."""
        if (at_least is None) == (at_most is None):
            raise ValueError("give exactly one of at_least / at_most")
        ok = [v >= at_least if at_least is not None else v <= at_most for v in values]  # type: ignore[operator]
        bound = f"≥ {at_least:g}" if at_least is not None else f"≤ {at_most:g}"
        worst = min(values) if at_least is not None else max(values)
        self.targets.append({"label": label, "unit": unit, "bound": bound, "runs": list(values), **summary(values),
                             "worst": worst, "met_runs": sum(ok), "met": all(ok), "why": why})
        return all(ok)

    def save(self) -> Path | None:
        folder = os.environ.get("BENCH_OUT")
        if not folder:
            return None
        path = Path(folder) / f"{self.area}.json"
        path.write_text(json.dumps({"area": self.area, "title": self.title, "packages": self.packages,
                                    "settings": self.settings, "figures": self.figures,
                                    "targets": self.targets}, indent=1, ensure_ascii=False))
        return path
