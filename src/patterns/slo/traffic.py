"""Synthetic traffic for SLO experiments: per-minute request and error counts with incidents.

``month(...)`` draws 30 days (or any number) of per-minute traffic: a steady request rate, a small
background error ratio, short harmless *blips* (a few minutes of elevated errors, as a deploy or a
cache flush causes) and the *incidents* you pass in. Deterministic for a given ``random.Random``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from patterns._validate import (
    require_instance,
    require_int,
    require_number,
    require_probability,
    require_sequence,
    require_text,
)

__all__ = ["Incident", "Traffic", "month"]


@dataclass(frozen=True)
class Incident:
    """``error_ratio`` of requests fail from minute ``start`` for ``minutes`` minutes."""

    name: str
    start: int
    minutes: int
    error_ratio: float

    def __post_init__(self) -> None:
        require_text(self.name, "name", max_length=80)
        require_int(self.start, "start", minimum=0, maximum=10**7)
        require_int(self.minutes, "minutes", minimum=1, maximum=10**7)
        require_probability(self.error_ratio, "error_ratio")

    @property
    def end(self) -> int:
        return self.start + self.minutes


@dataclass(frozen=True)
class Traffic:
    """Per-minute totals and bad-request counts (numpy int64 arrays), and what was injected."""

    total: np.ndarray
    bad: np.ndarray
    incidents: tuple[Incident, ...] = ()
    blips: tuple[Incident, ...] = field(default=())

    @property
    def minutes(self) -> int:
        return int(self.total.size)


def month(
    incidents: list[Incident] | tuple[Incident, ...] = (),
    *,
    days: float = 30.0,
    requests_per_minute: int = 1000,
    background: float = 0.0002,
    blips: int = 0,
    blip_minutes: int = 3,
    blip_ratio: float = 0.03,
    rng: random.Random | None = None,
) -> Traffic:
    """Draw per-minute traffic with binomial errors: ``background`` everywhere, ``blips`` short bursts
    of ``blip_ratio`` at random minutes, and each incident's ``error_ratio`` during it (the highest
    ratio wins where they overlap)."""
    days = require_number(days, "days", minimum=0.0, maximum=366.0, strict_min=True)
    rpm = require_int(requests_per_minute, "requests_per_minute", minimum=1, maximum=10**7)
    background = require_probability(background, "background")
    blips = require_int(blips, "blips", minimum=0, maximum=10_000)
    blip_minutes = require_int(blip_minutes, "blip_minutes", minimum=1, maximum=1440)
    blip_ratio = require_probability(blip_ratio, "blip_ratio")
    incidents = tuple(require_sequence(incidents, "incidents", min_length=0, max_length=10_000))
    rng = require_instance(rng, "rng", random.Random) if rng is not None else random.Random(0)
    n = int(round(days * 1440))
    ratio = np.full(n, background)
    blip_list = []
    for i in range(blips):
        start = rng.randrange(0, max(1, n - blip_minutes))
        blip_list.append(Incident(f"blip-{i}", start, blip_minutes, blip_ratio))
    for event in (*blip_list, *incidents):
        require_instance(event, "incident", Incident)
        if event.start >= n:
            raise ValueError(f"incident {event.name!r} starts at minute {event.start}, after the {n} minutes")
        ratio[event.start:event.end] = np.maximum(ratio[event.start:event.end], event.error_ratio)
    generator = np.random.default_rng(rng.randrange(2**32))
    total = np.full(n, rpm, dtype=np.int64)
    bad = generator.binomial(total, ratio).astype(np.int64)
    return Traffic(total, bad, tuple(incidents), tuple(blip_list))
