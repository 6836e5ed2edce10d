"""``Estimate``: a back-of-envelope calculation that keeps its reasoning.

An estimate is a chain: assumptions (each with a value, a unit and *why* we believe it) and derived
quantities (each with the formula that produced it). ``Estimate`` records both, so a learner can
print the whole chain, change one assumption and recompute everything (``with_assumptions``), and
ask which assumption matters most (``sensitivity``). What it does not do: make the assumptions right.

>>> est = Estimate("toy")
>>> est.assume("dau", 1_000_000, "users", "product plan")
>>> est.derive("rps", "dau * 10 / 86_400", "req/s")
>>> round(est["rps"], 1)
115.7
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from patterns._validate import require_number, require_text
from patterns.estimate.formula import Formula
from patterns.estimate.units import format_bytes, format_count, format_duration

__all__ = ["Quantity", "Sensitivity", "Estimate", "format_value", "capacity_model", "CAPACITY_LIMITS"]

_NAME_OK = str.isidentifier


@dataclass(frozen=True)
class Quantity:
    """One line of the chain: an assumption (``formula`` is None) or a derived quantity."""

    name: str
    value: float
    unit: str
    note: str  # the source/justification of an assumption, or the meaning of a derived quantity
    formula: str | None = None

    @property
    def is_assumption(self) -> bool:
        return self.formula is None


@dataclass(frozen=True)
class Sensitivity:
    """How much ``target`` moves when ``assumption`` is multiplied by ``factor`` (and divided)."""

    assumption: str
    up: float  # target(assumption * factor) / target
    down: float  # target(assumption / factor) / target

    @property
    def swing(self) -> float:
        """The largest move either way as a factor >= 1 (2.0 means 'doubles or halves')."""
        return max(_as_factor(self.up), _as_factor(self.down))


def _as_factor(ratio: float) -> float:
    if ratio <= 0 or not math.isfinite(ratio):
        return math.inf
    return ratio if ratio >= 1 else 1 / ratio


def format_value(value: float, unit: str) -> str:
    """A value with its unit, readable: bytes get SI prefixes, seconds a time unit, counts k/M/G."""
    unit = require_text(unit, "unit", min_length=0, max_length=50)
    value = require_number(value, "value", minimum=0.0 if unit in ("B", "B/s", "s") else None)
    if unit == "B":
        return format_bytes(value)
    if unit == "B/s":
        return f"{format_bytes(value)}/s"
    if unit == "s":
        return format_duration(value)
    return f"{format_count(value)} {unit}".strip()


class Estimate:
    """An ordered chain of named assumptions and derived quantities (see the module docstring)."""

    def __init__(self, title: str) -> None:
        if not require_text(title, "title", max_length=200).strip():
            raise ValueError(f"title must be a non-empty string, got {title!r}")
        self.title = title
        self._items: dict[str, Quantity] = {}
        self._formulas: dict[str, Formula] = {}

    # -- building ---------------------------------------------------------------------------------
    def _check_name(self, name: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"name must be a Python identifier such as 'daily_users', got {type(name).__name__}")
        if not _NAME_OK(name) or len(name) > 64:
            raise ValueError(f"name must be a Python identifier such as 'daily_users', got {name!r}")
        if name in self._items:
            raise ValueError(f"name {name!r} is already defined in estimate {self.title!r}")

    def assume(self, name: str, value: float, unit: str, source: str) -> None:
        """Record an assumption. ``source`` says where the number comes from: it is not optional."""
        self._check_name(name)
        number = require_number(value, name)
        require_text(unit, "unit", min_length=0, max_length=40)
        if not isinstance(source, str) or not source.strip():
            raise ValueError(f"source for {name!r} must say where the number comes from, got {source!r}")
        self._items[name] = Quantity(name, number, unit, source.strip())

    def derive(self, name: str, formula: str, unit: str, note: str = "") -> None:
        """Record ``name = formula``, computed now from the quantities defined before it."""
        self._check_name(name)
        require_text(unit, "unit", min_length=0, max_length=40)
        require_text(note, "note", min_length=0)
        compiled = Formula(formula)
        unknown = sorted(compiled.names - set(self._items))
        if unknown:
            raise ValueError(f"formula for {name!r} uses undefined names: {', '.join(unknown)}")
        value = self._compute(compiled, {k: q.value for k, q in self._items.items()}, name)
        self._formulas[name] = compiled
        self._items[name] = Quantity(name, value, unit, note, compiled.text)

    @staticmethod
    def _compute(formula: Formula, values: dict[str, float], name: str) -> float:
        try:
            value = formula.evaluate(values)
        except (ZeroDivisionError, OverflowError, ValueError) as exc:
            raise ValueError(f"cannot compute {name!r} = {formula.text}: {exc}") from None
        if not math.isfinite(value):
            raise ValueError(f"{name!r} = {formula.text} is not finite ({value})")
        return value

    # -- reading ----------------------------------------------------------------------------------
    def __getitem__(self, name: str) -> float:
        if name not in self._items:
            raise KeyError(f"{name!r} is not defined in estimate {self.title!r}")
        return self._items[name].value

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[Quantity]:
        return iter(self._items.values())

    def quantity(self, name: str) -> Quantity:
        self[name]  # raises KeyError with a clear message
        return self._items[name]

    @property
    def assumptions(self) -> list[Quantity]:
        return [q for q in self if q.is_assumption]

    @property
    def derived(self) -> list[Quantity]:
        return [q for q in self if not q.is_assumption]

    def depends_on(self, name: str) -> set[str]:
        """The assumptions ``name`` depends on, directly or through other derived quantities."""
        self[name]
        if name not in self._formulas:
            return {name}
        found: set[str] = set()
        for used in self._formulas[name].names:
            found |= self.depends_on(used)
        return found

    def explain(self) -> str:
        """The whole chain of reasoning as text: assumptions with sources, then each derivation."""
        width = max((len(q.name) for q in self), default=4)
        lines = [self.title, "=" * len(self.title), "Assumptions:"]
        for q in self.assumptions:
            lines.append(f"  {q.name:<{width}} = {format_value(q.value, q.unit):>14}   ({q.note})")
        lines.append("Derived:")
        for q in self.derived:
            note = f"   -- {q.note}" if q.note else ""
            lines.append(f"  {q.name:<{width}} = {format_value(q.value, q.unit):>14}   = {q.formula}{note}")
        return "\n".join(lines)

    def rows(self) -> list[dict[str, object]]:
        """One dict per quantity (name, value, unit, formula, note): for tables and DataFrames."""
        return [
            {"name": q.name, "value": q.value, "unit": q.unit, "formula": q.formula or "", "note": q.note}
            for q in self
        ]

    # -- what if ----------------------------------------------------------------------------------
    def with_assumptions(self, **overrides: float) -> Estimate:
        """A copy with some assumptions replaced and every derived quantity recomputed."""
        unknown = sorted(set(overrides) - {q.name for q in self.assumptions})
        if unknown:
            raise ValueError(f"not assumptions of {self.title!r}: {', '.join(unknown)}")
        copy = Estimate(self.title)
        for q in self:
            if q.is_assumption:
                value = overrides.get(q.name, q.value)
                copy.assume(q.name, value, q.unit, q.note if q.name not in overrides else f"what-if ({q.note})")
            else:
                assert q.formula is not None
                copy.derive(q.name, q.formula, q.unit, q.note)
        return copy

    def sensitivity(self, target: str, factor: float = 2.0) -> list[Sensitivity]:
        """Multiply (and divide) each assumption by ``factor``; report how ``target`` moves.

        Sorted by swing, largest first; assumptions ``target`` does not depend on move it by exactly
        1.0. A target of 0 has no relative change, so it raises ``ValueError``.
        """
        factor = require_number(factor, "factor", minimum=1.0, maximum=1e6, strict_min=True)
        if not isinstance(target, str):
            raise TypeError(f"target must be the name of a quantity (str), got {type(target).__name__}")
        if target not in self:
            raise ValueError(f"target must be a quantity of {self.title!r}, got {target!r}")
        base = self[target]
        if base == 0:
            raise ValueError(f"target {target!r} is 0: relative sensitivity is undefined")
        result = []
        for q in self.assumptions:
            up = self._ratio(target, q.name, q.value * factor, base)
            down = self._ratio(target, q.name, q.value / factor, base)
            result.append(Sensitivity(q.name, up, down))
        result.sort(key=lambda s: (-s.swing, s.assumption))
        return result

    def _ratio(self, target: str, name: str, value: float, base: float) -> float:
        try:
            return self.with_assumptions(**{name: value})[target] / base
        except ValueError:  # e.g. a utilisation pushed past a formula's domain
            return math.inf


#: Upper bounds of ``capacity_model``'s inputs: far beyond any real system, low enough that a typo
#: (``1e19`` users) fails at the door instead of producing a confident nonsense estimate.
CAPACITY_LIMITS: dict[str, float] = {
    "daily_active_users": 1e11,  # ten times the world's population
    "reads_per_user": 1e6,  # per day: more than ten per second, all day
    "writes_per_user": 1e6,
    "object_size": 1e15,  # a petabyte per object
    "response_size": 1e15,
    "peak_factor": 1_000.0,
    "replication": 100.0,
    "server_rps": 1e9,
    "years": 1_000.0,
}


def capacity_model(
    title: str,
    *,
    daily_active_users: float,
    reads_per_user: float,
    writes_per_user: float,
    object_size: float,
    response_size: float,
    peak_factor: float = 3.0,
    replication: float = 3.0,
    hot_fraction: float = 0.2,
    server_rps: float = 1_000.0,
    utilisation: float = 0.7,
    years: float = 5.0,
    sources: dict[str, str] | None = None,
) -> Estimate:
    """The standard chain: users -> requests/s (average, peak) -> storage -> bandwidth -> cache -> servers.

    Sizes are bytes; ``utilisation`` is the fraction of a server's measured throughput we plan to use
    at peak (headroom for failures and surprises). ``sources`` overrides the default justifications.
    """
    notes = {
        "daily_active_users": "product requirement",
        "reads_per_user": "product analytics: reads per user per day",
        "writes_per_user": "product analytics: writes per user per day",
        "object_size": "bytes stored per write, incl. metadata",
        "response_size": "bytes sent back per read",
        "peak_factor": "busiest second vs the daily average (typical 2-10)",
        "replication": "copies kept for durability (3 is common)",
        "hot_fraction": "80/20 rule: 20% of the data serves 80% of reads",
        "server_rps": "one server's measured throughput (load test)",
        "utilisation": "plan to run servers at this share of capacity at peak",
        "years": "retention horizon",
    }
    notes.update(sources or {})
    require_number(utilisation, "utilisation", minimum=0.0, maximum=1.0, strict_min=True)
    for name, value in (("peak_factor", peak_factor), ("replication", replication)):
        require_number(value, name, minimum=1.0, maximum=CAPACITY_LIMITS[name])
    require_number(hot_fraction, "hot_fraction", minimum=0.0, maximum=1.0)
    est = Estimate(title)
    given = {
        "daily_active_users": (daily_active_users, "users"),
        "reads_per_user": (reads_per_user, "req/user/day"),
        "writes_per_user": (writes_per_user, "req/user/day"),
        "object_size": (object_size, "B"),
        "response_size": (response_size, "B"),
        "peak_factor": (peak_factor, "x"),
        "replication": (replication, "copies"),
        "hot_fraction": (hot_fraction, ""),
        "server_rps": (server_rps, "req/s"),
        "utilisation": (utilisation, ""),
        "years": (years, "years"),
    }
    for name, (value, unit) in given.items():
        require_number(value, name, minimum=0.0, maximum=CAPACITY_LIMITS.get(name),
                       strict_min=name in ("server_rps", "daily_active_users"))
        est.assume(name, value, unit, notes[name])
    est.derive("requests_per_day", "daily_active_users * (reads_per_user + writes_per_user)", "req/day")
    est.derive("average_rps", "requests_per_day / 86_400", "req/s", "a day is 86,400 s")
    est.derive("peak_rps", "average_rps * peak_factor", "req/s", "provision for this")
    est.derive("peak_write_rps", "daily_active_users * writes_per_user / 86_400 * peak_factor", "req/s")
    est.derive("peak_read_rps", "daily_active_users * reads_per_user / 86_400 * peak_factor", "req/s")
    est.derive("storage_per_day", "daily_active_users * writes_per_user * object_size * replication", "B",
               "all replicas")
    est.derive("storage_per_year", "storage_per_day * 365", "B")
    est.derive("storage_total", "storage_per_year * years", "B", "over the retention horizon")
    est.derive("bandwidth_in", "peak_write_rps * object_size", "B/s", "at peak, before replication")
    est.derive("bandwidth_out", "peak_read_rps * response_size", "B/s", "at peak")
    est.derive("cache_size", "daily_active_users * reads_per_user * response_size * hot_fraction", "B",
               "hot share of one day's reads (an upper bound: repeats are cached once)")
    est.derive("servers", "ceil(peak_rps / (server_rps * utilisation))", "servers",
               "stateless app servers at peak, before N+1/N+2 spares")
    return est
