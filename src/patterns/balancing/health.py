"""Knowing which backends to leave out: active health checks and passive outlier ejection.

Two independent signals, as in Envoy, HAProxy and nginx:

* **Active health checks** (``HealthChecker``): the balancer probes every backend every
  ``interval`` seconds (an HTTP ``GET /healthz``, a TCP connect). ``fall`` consecutive failed
  probes mark a backend unhealthy; ``rise`` consecutive good ones bring it back. Detection takes
  between ``(fall - 1) * interval`` and ``fall * interval``: seconds, however much traffic is
  failing meanwhile. A probe tests the health endpoint, not the requests users make.
* **Passive outlier ejection** (``OutlierDetector``): the balancer watches the real responses.
  ``consecutive_errors`` failures in a row eject a backend for ``base_ejection`` seconds times the
  number of times it has been ejected; it comes back when that time is up. Detection takes
  ``consecutive_errors`` requests, which at high traffic is milliseconds. ``max_ejected`` caps the
  share of the fleet that may be ejected at once, so a bug that fails *every* backend does not
  eject them all and leave nothing to serve.

The state machines are data (``HEALTH_TRANSITIONS``, ``EJECTION_TRANSITIONS``) and the code moves
only through them (``next_state``: a move a table lacks raises), so the chapter's diagram, drawn from
the tables, shows exactly what the code does. Both classes are thread-safe.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from patterns._validate import (
    require_callable,
    require_instance,
    require_int,
    require_probability,
    require_seconds,
    require_text,
)
from patterns.clock import Clock, SystemClock

__all__ = [
    "HEALTHY",
    "UNHEALTHY",
    "ACTIVE",
    "EJECTED",
    "Transition",
    "next_state",
    "HEALTH_TRANSITIONS",
    "EJECTION_TRANSITIONS",
    "HealthChecker",
    "OutlierDetector",
]

HEALTHY, UNHEALTHY = "healthy", "unhealthy"
ACTIVE, EJECTED = "active", "ejected"


@dataclass(frozen=True)
class Transition:
    """One edge of a state machine: ``source`` -> ``target`` when ``event`` (and ``guard``) hold."""

    source: str
    target: str
    event: str
    guard: str = ""


HEALTH_TRANSITIONS: tuple[Transition, ...] = (
    Transition(HEALTHY, HEALTHY, "probe ok", "reset failures"),
    Transition(HEALTHY, HEALTHY, "probe fails", "failures < fall"),
    Transition(HEALTHY, UNHEALTHY, "probe fails", "failures = fall"),
    Transition(UNHEALTHY, UNHEALTHY, "probe fails", "reset successes"),
    Transition(UNHEALTHY, UNHEALTHY, "probe ok", "successes < rise"),
    Transition(UNHEALTHY, HEALTHY, "probe ok", "successes = rise"),
)

EJECTION_TRANSITIONS: tuple[Transition, ...] = (
    Transition(ACTIVE, ACTIVE, "response ok", "reset errors"),
    Transition(ACTIVE, ACTIVE, "error", "errors < consecutive_errors or cap reached"),
    Transition(ACTIVE, EJECTED, "error", "errors = consecutive_errors, under max_ejected"),
    Transition(EJECTED, EJECTED, "response", "sent before the ejection: ignored"),
    Transition(EJECTED, ACTIVE, "time passes", "ejected for base_ejection x ejections"),
)


def next_state(table: Iterable[Transition], source: str, event: str, guard: str) -> Transition:
    """The row of ``table`` for ``source`` on ``event`` when ``guard`` holds.

    The checkers below move only through this function, so the table is not a description of the
    code but its rule: a move the table lacks raises, and the chapter's diagram, drawn from the
    table, shows exactly the moves the code can make.
    """
    for t in table:
        if t.source == source and t.event == event and t.guard == guard:
            return t
    raise RuntimeError(f"no transition from {source!r} on {event!r} [{guard}] in the state table")


class HealthChecker:
    """Active checks: ``probe(name) -> bool`` for each backend every ``interval`` seconds.

    Call ``run_due()`` from the balancer's loop (or a timer): it probes the backends whose next
    check is due and returns the names whose state changed. A new backend starts ``healthy`` (as
    Envoy's do once they have passed a first check; pass ``start_healthy=False`` to require
    ``rise`` good probes first). A probe that raises counts as a failure.
    """

    transitions = HEALTH_TRANSITIONS

    def __init__(
        self,
        probe: Callable[[str], bool],
        *,
        interval: float = 5.0,
        fall: int = 3,
        rise: int = 2,
        start_healthy: bool = True,
        clock: Clock | None = None,
    ) -> None:
        self._probe = require_callable(probe, "probe")
        self.interval = require_seconds(interval, "interval", maximum=86_400.0)
        self.fall = require_int(fall, "fall", minimum=1, maximum=1_000)
        self.rise = require_int(rise, "rise", minimum=1, maximum=1_000)
        self._start_healthy = require_instance(start_healthy, "start_healthy", bool)
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._state: dict[str, str] = {}
        self._streak: dict[str, int] = {}  # failures while healthy, successes while unhealthy
        self._due: dict[str, float] = {}
        self.moves: Counter[Transition] = Counter()  # how often each row of the table was taken
        self._lock = threading.Lock()

    def add(self, name: str) -> None:
        """Start checking ``name``; its first probe is due now."""
        name = require_text(name, "name", max_length=200)
        with self._lock:
            if name not in self._state:
                self._state[name] = HEALTHY if self._start_healthy else UNHEALTHY
                self._streak[name] = 0
                self._due[name] = self.clock.now()

    def remove(self, name: str) -> None:
        with self._lock:
            for table in (self._state, self._streak, self._due):
                table.pop(name, None)

    def state(self, name: str) -> str:
        with self._lock:
            if name not in self._state:
                raise KeyError(f"name must be a checked backend, got {name!r}")
            return self._state[name]

    def is_healthy(self, name: str) -> bool:
        """Whether ``name`` may receive traffic (unknown names are not this checker's business)."""
        with self._lock:
            return self._state.get(name, HEALTHY) == HEALTHY

    def record(self, name: str, ok: bool) -> bool:
        """Apply one probe result to ``name``'s state machine; True when its state changed."""
        ok = require_instance(ok, "ok", bool)
        event = "probe ok" if ok else "probe fails"
        with self._lock:
            state = self._state[name]
            if (state == HEALTHY) == ok:  # the probe agrees with the state: the streak resets
                self._streak[name] = 0
                guard = "reset failures" if ok else "reset successes"
            else:
                self._streak[name] += 1
                needed, counted = (self.fall, "failures") if state == HEALTHY else (self.rise, "successes")
                guard = f"{counted} < {'fall' if state == HEALTHY else 'rise'}"
                if self._streak[name] >= needed:
                    guard = f"{counted} = {'fall' if state == HEALTHY else 'rise'}"
                    self._streak[name] = 0
            move = next_state(self.transitions, state, event, guard)
            self.moves[move] += 1
            self._state[name] = move.target
            return move.target != state

    def run_due(self) -> list[str]:
        """Probe every backend whose check is due; return the names whose state changed."""
        now = self.clock.now()
        with self._lock:
            due = sorted(name for name, when in self._due.items() if when <= now)
            for name in due:
                self._due[name] = now + self.interval
        changed = []
        for name in due:
            try:
                ok = bool(self._probe(name))
            except Exception:  # noqa: BLE001 - a probe that blows up is a failed probe
                ok = False
            with self._lock:
                known = name in self._state
            if known and self.record(name, ok):
                changed.append(name)
        return changed


class OutlierDetector:
    """Passive checks: eject a backend after ``consecutive_errors`` failed responses in a row.

    The ``k``-th ejection of a backend lasts ``k * base_ejection`` seconds (a backend that keeps
    failing stays out longer), up to ``max_ejection``. At most ``max_ejected`` (a fraction) of the
    known backends are ejected at once; at least one may always be ejected.
    """

    transitions = EJECTION_TRANSITIONS

    def __init__(
        self,
        *,
        consecutive_errors: int = 5,
        base_ejection: float = 30.0,
        max_ejection: float = 300.0,
        max_ejected: float = 0.5,
        clock: Clock | None = None,
    ) -> None:
        self.consecutive_errors = require_int(consecutive_errors, "consecutive_errors", minimum=1, maximum=100_000)
        self.base_ejection = require_seconds(base_ejection, "base_ejection", maximum=86_400.0)
        self.max_ejection = require_seconds(max_ejection, "max_ejection", maximum=86_400.0)
        if self.max_ejection < self.base_ejection:
            raise ValueError(
                f"max_ejection must be >= base_ejection ({self.base_ejection:g} s), got {self.max_ejection:g}"
            )
        self.max_ejected = require_probability(max_ejected, "max_ejected")
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._errors: dict[str, int] = {}
        self._ejections: dict[str, int] = {}
        self._until: dict[str, float] = {}  # name -> time its current ejection ends
        self.ejection_log: list[tuple[float, str]] = []  # (time, name) of every ejection
        self.moves: Counter[Transition] = Counter()  # how often each row of the table was taken
        self._lock = threading.Lock()

    def add(self, name: str) -> None:
        name = require_text(name, "name", max_length=200)
        with self._lock:
            self._errors.setdefault(name, 0)
            self._ejections.setdefault(name, 0)

    def remove(self, name: str) -> None:
        with self._lock:
            for table in (self._errors, self._ejections, self._until):
                table.pop(name, None)

    def _move(self, source: str, event: str, guard: str) -> str:
        move = next_state(self.transitions, source, event, guard)
        self.moves[move] += 1
        return move.target

    def _expire(self, now: float) -> None:
        for name in [n for n, until in self._until.items() if until <= now]:
            self._move(EJECTED, "time passes", "ejected for base_ejection x ejections")
            del self._until[name]
            self._errors[name] = 0

    def is_ejected(self, name: str) -> bool:
        with self._lock:
            self._expire(self.clock.now())
            return name in self._until

    def ejected(self) -> list[str]:
        """The backends ejected now, sorted."""
        with self._lock:
            self._expire(self.clock.now())
            return sorted(self._until)

    def state(self, name: str) -> str:
        return EJECTED if self.is_ejected(name) else ACTIVE

    def record(self, name: str, ok: bool) -> bool:
        """Count one response from ``name``; True when this response ejected it."""
        ok = require_instance(ok, "ok", bool)
        now = self.clock.now()
        with self._lock:
            self._expire(now)
            if name not in self._errors:
                raise KeyError(f"name must be a watched backend, got {name!r}")
            if name in self._until:  # responses still arriving from before the ejection
                self._move(EJECTED, "response", "sent before the ejection: ignored")
                return False
            if ok:
                self._errors[name] = 0
                self._move(ACTIVE, "response ok", "reset errors")
                return False
            self._errors[name] += 1
            cap = max(1, math.floor(self.max_ejected * len(self._errors)))
            if self._errors[name] < self.consecutive_errors or len(self._until) >= cap:
                self._move(ACTIVE, "error", "errors < consecutive_errors or cap reached")
                return False
            self._move(ACTIVE, "error", "errors = consecutive_errors, under max_ejected")
            self._ejections[name] += 1
            duration = min(self.base_ejection * self._ejections[name], self.max_ejection)
            self._until[name] = now + duration
            self.ejection_log.append((now, name))
            return True

    def ejections(self, name: str) -> int:
        """How many times ``name`` has been ejected."""
        with self._lock:
            return self._ejections[name]


def states(machine: Iterable[Transition]) -> list[str]:
    """The states of a transition table, in order of first appearance."""
    seen: dict[str, None] = {}
    for t in machine:
        seen.setdefault(t.source)
        seen.setdefault(t.target)
    return list(seen)
