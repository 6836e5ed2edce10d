"""Service level objectives, error budgets and burn rates.

An SLI is a ratio of good events to all events (requests served successfully and fast enough). An
SLO is a target for it over a period, e.g. 99.9% over 30 days. The **error budget** is what the
target leaves over: ``1 - objective`` of the period's events may be bad. The **burn rate** is how
fast an error ratio spends that budget: ``error_ratio / (1 - objective)``. A burn rate of 1 spends
exactly the budget over the period; a burn rate of 14.4 sustained for one hour spends
``14.4 * 1 / 720 = 2%`` of a 30-day budget.
"""

from __future__ import annotations

from dataclasses import dataclass

from patterns._validate import require_number, require_probability

__all__ = ["SLO"]


@dataclass(frozen=True)
class SLO:
    """An availability objective over a rolling period (default 99.9% over 30 days)."""

    objective: float = 0.999
    period_days: float = 30.0

    def __post_init__(self) -> None:
        require_probability(self.objective, "objective", allow_zero=False, allow_one=False)
        require_number(self.period_days, "period_days", minimum=0.0, maximum=3660.0, strict_min=True)

    @property
    def budget_ratio(self) -> float:
        """The fraction of events allowed to be bad: ``1 - objective``."""
        return 1.0 - self.objective

    @property
    def period_minutes(self) -> float:
        return self.period_days * 24 * 60

    def burn_rate(self, error_ratio: float) -> float:
        """How many times faster than sustainable ``error_ratio`` spends the budget."""
        return require_probability(error_ratio, "error_ratio") / self.budget_ratio

    def budget_spent(self, bad: float, period_events: float) -> float:
        """The fraction of the period's budget that ``bad`` events spend, given the period's total."""
        bad = require_number(bad, "bad", minimum=0.0)
        period_events = require_number(period_events, "period_events", minimum=0.0, strict_min=True)
        return bad / (self.budget_ratio * period_events)

    def consumed_by(self, burn_rate: float, window_minutes: float) -> float:
        """Fraction of the budget a ``burn_rate`` spends over ``window_minutes``."""
        burn_rate = require_number(burn_rate, "burn_rate", minimum=0.0, maximum=1e6)
        window_minutes = require_number(window_minutes, "window_minutes", minimum=0.0, maximum=1e7)
        return burn_rate * window_minutes / self.period_minutes

    def detection_minutes(self, burn_rate: float, window_minutes: float, error_ratio: float) -> float | None:
        """Minutes until a burn-rate rule over ``window_minutes`` fires, for errors at ``error_ratio``
        starting from a clean window (the SRE workbook's formula); None if it never fires."""
        error_ratio = require_probability(error_ratio, "error_ratio")
        threshold = require_number(burn_rate, "burn_rate", minimum=0.0, maximum=1e6) * self.budget_ratio
        if error_ratio <= threshold:
            return None
        return threshold * require_number(window_minutes, "window_minutes", minimum=0.0) / error_ratio
