"""Alert rules on an SLI, evaluated every minute over synthetic traffic.

* ``BurnRateRule(long, short, burn_rate)``: fires while the error ratio over the last ``long``
  minutes AND over the last ``short`` minutes both exceed ``burn_rate * (1 - objective)``. With
  ``short=None`` it is a single-window burn-rate alert.
* ``MultiBurnRate(rules)``: fires while any of its rules fires (the SRE workbook's multiwindow,
  multi-burn-rate alert is ``WORKBOOK_PAGE`` + ``WORKBOOK_TICKET``).
* ``ThresholdRule(threshold, window)``: the naive alert, "error ratio over ``window`` minutes above
  ``threshold``".

``firing(traffic, slo)`` returns one boolean per minute (False until the rule's shorter window holds
a full window of data: at the very start of a trace two errors in one minute are not a trend); ``episodes`` turns that into (start, end)
pairs; ``score`` matches episodes to incidents and counts false alarms and missed incidents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from patterns._validate import require_instance, require_int, require_number, require_sequence
from patterns.slo.budget import SLO
from patterns.slo.traffic import Incident, Traffic

__all__ = [
    "Rule",
    "BurnRateRule",
    "MultiBurnRate",
    "ThresholdRule",
    "WORKBOOK_RULES",
    "WORKBOOK_PAGE",
    "WORKBOOK_TICKET",
    "window_ratio",
    "episodes",
    "Detection",
    "detect",
    "spent",
    "Score",
    "score",
]


def window_ratio(traffic: Traffic, minutes: int) -> np.ndarray:
    """The error ratio over the last ``minutes`` minutes, at every minute (shorter at the start)."""
    require_instance(traffic, "traffic", Traffic)
    minutes = require_int(minutes, "minutes", minimum=1, maximum=10**7)
    bad = np.concatenate(([0], np.cumsum(traffic.bad)))
    total = np.concatenate(([0], np.cumsum(traffic.total)))
    end = np.arange(1, traffic.minutes + 1, dtype=np.intp)
    start = np.maximum(end - minutes, 0)
    events = total[end] - total[start]
    return np.where(events > 0, (bad[end] - bad[start]) / np.maximum(events, 1), 0.0)


class Rule(Protocol):
    """Anything with a ``name`` and ``firing(traffic, slo)`` -> one boolean per minute."""

    @property
    def name(self) -> str: ...

    def firing(self, traffic: Traffic, slo: SLO) -> np.ndarray: ...


@dataclass(frozen=True)
class BurnRateRule:
    """Fire while the burn rate over ``long`` (and ``short``, if given) minutes exceeds ``burn_rate``."""

    long: int
    burn_rate: float
    short: int | None = None
    severity: str = "page"

    def __post_init__(self) -> None:
        require_int(self.long, "long", minimum=1, maximum=10**7)
        require_number(self.burn_rate, "burn_rate", minimum=0.0, maximum=1e6, strict_min=True)
        if self.short is not None:
            require_int(self.short, "short", minimum=1, maximum=self.long)

    @property
    def name(self) -> str:
        short = f" & {_span(self.short)}" if self.short else ""
        return f"{self.severity}: burn {self.burn_rate:g}x over {_span(self.long)}{short}"

    def firing(self, traffic: Traffic, slo: SLO) -> np.ndarray:
        threshold = self.burn_rate * slo.budget_ratio
        on = window_ratio(traffic, self.long) > threshold
        if self.short is not None:
            on &= window_ratio(traffic, self.short) > threshold
        on[: (self.short or self.long) - 1] = False  # no verdict before the first window has filled
        return on


@dataclass(frozen=True)
class MultiBurnRate:
    """Fire while any rule fires."""

    rules: tuple[BurnRateRule, ...]
    name: str = "multiwindow, multi-burn-rate"

    def __post_init__(self) -> None:
        require_sequence(self.rules, "rules")

    def firing(self, traffic: Traffic, slo: SLO) -> np.ndarray:
        on = np.zeros(traffic.minutes, dtype=bool)
        for rule in self.rules:
            on |= rule.firing(traffic, slo)
        return on


@dataclass(frozen=True)
class ThresholdRule:
    """The naive alert: fire while the error ratio over ``window`` minutes exceeds ``threshold``."""

    threshold: float
    window: int = 5
    name: str = ""

    def __post_init__(self) -> None:
        require_number(self.threshold, "threshold", minimum=0.0, maximum=1.0)
        require_int(self.window, "window", minimum=1, maximum=10**7)
        if not self.name:
            object.__setattr__(self, "name", f"error ratio > {self.threshold:.2%} over {_span(self.window)}")

    def firing(self, traffic: Traffic, slo: SLO) -> np.ndarray:
        on = window_ratio(traffic, self.window) > self.threshold
        on[: self.window - 1] = False
        return on


def _span(minutes: int) -> str:
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


#: The SRE workbook's recommended starting point for a 99.9% / 30-day SLO (Table 5-8): page at
#: 14.4x over 1 h and 5 m, page at 6x over 6 h and 30 m, ticket at 1x over 3 d and 6 h.
WORKBOOK_RULES: tuple[BurnRateRule, ...] = (
    BurnRateRule(long=60, short=5, burn_rate=14.4, severity="page"),
    BurnRateRule(long=360, short=30, burn_rate=6.0, severity="page"),
    BurnRateRule(long=4320, short=360, burn_rate=1.0, severity="ticket"),
)
WORKBOOK_PAGE = MultiBurnRate(WORKBOOK_RULES[:2], name="workbook pages (1h/5m 14.4x, 6h/30m 6x)")
WORKBOOK_TICKET = MultiBurnRate(WORKBOOK_RULES[2:], name="workbook ticket (3d/6h 1x)")


def episodes(on: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of firing minutes as (first minute, minute after the last)."""
    flags = np.concatenate(([False], np.asarray(on, dtype=bool), [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(flags))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


@dataclass(frozen=True)
class Detection:
    """How one rule met one incident."""

    detected_after: int | None  # minutes from the incident's start until the rule fires (rules are
    #                             evaluated at the end of each minute, so a first-minute alert is 1)
    budget_spent: float         # fraction of the period's budget the incident had spent when the rule
    #                             fired (all of it, if the rule never fired): see also ``spent``
    reset_after: int | None     # minutes from the incident's end until the rule stopped firing


def detect(rule: Rule, traffic: Traffic, slo: SLO, incident: Incident) -> Detection:
    """When ``rule`` first fired during ``incident`` (or until the next day after it)."""
    _require_inputs(rule, traffic, slo)
    require_instance(incident, "incident", Incident)
    on = rule.firing(traffic, slo)
    horizon = min(traffic.minutes, incident.end + 1440)
    hits = np.flatnonzero(on[incident.start:horizon])
    if hits.size == 0:
        return Detection(None, _spent(traffic, slo, incident.start, incident.end), None)
    first = incident.start + int(hits[0])
    spent = _spent(traffic, slo, incident.start, first + 1)
    after = np.flatnonzero(~on[max(first, incident.end):])
    reset = int(after[0]) + max(first, incident.end) - incident.end if after.size else None
    return Detection(int(hits[0]) + 1, spent, reset)


def spent(traffic: Traffic, slo: SLO, incident: Incident) -> float:
    """The fraction of the period's error budget ``incident``'s minutes spent (every bad request in
    them, background included), for a period with ``traffic``'s mean request rate."""
    require_instance(traffic, "traffic", Traffic)
    require_instance(slo, "slo", SLO)
    require_instance(incident, "incident", Incident)
    return _spent(traffic, slo, incident.start, incident.end)


def _require_inputs(rule: object, traffic: object, slo: object) -> None:
    if not callable(getattr(rule, "firing", None)):
        raise TypeError(f"rule must be a Rule (with firing(traffic, slo)), got {type(rule).__name__}")
    require_instance(traffic, "traffic", Traffic)
    require_instance(slo, "slo", SLO)


def _spent(traffic: Traffic, slo: SLO, start: int, end: int) -> float:
    period_events = float(traffic.total.mean()) * slo.period_minutes
    return float(traffic.bad[start:end].sum()) / (slo.budget_ratio * period_events)


@dataclass(frozen=True)
class Score:
    """An alert rule against a month with known incidents."""

    name: str
    alerts: int                 # firing episodes
    false_alarms: int           # episodes that match no significant incident
    missed: tuple[str, ...]     # significant incidents with no episode
    detected: dict[str, int]    # incident -> minutes to detection (as in ``Detection``)


def score(rule: Rule, traffic: Traffic, slo: SLO, *, significant: float = 0.02, grace: int = 60) -> Score:
    """Match ``rule``'s episodes to the incidents that spent at least ``significant`` of the budget.

    An episode starting during such an incident (or up to ``grace`` minutes after it) is a true
    alert; any other episode is a false alarm. A significant incident with no episode is missed.
    """
    significant = require_number(significant, "significant", minimum=0.0, maximum=1.0)
    grace = require_int(grace, "grace", minimum=0, maximum=10**6)
    _require_inputs(rule, traffic, slo)
    runs = episodes(rule.firing(traffic, slo))
    real = [i for i in traffic.incidents if _spent(traffic, slo, i.start, i.end) >= significant]
    matched: set[str] = set()
    detected: dict[str, int] = {}
    false_alarms = 0
    for start, _end in runs:
        owner = next((i for i in real if i.start <= start < i.end + grace), None)
        if owner is None:
            false_alarms += 1
            continue
        if owner.name not in matched:
            matched.add(owner.name)
            detected[owner.name] = start - owner.start + 1
    missed = tuple(i.name for i in real if i.name not in matched)
    return Score(rule.name, len(runs), false_alarms, missed, detected)
