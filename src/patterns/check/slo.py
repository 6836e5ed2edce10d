"""Checkers for the exercises of lab 16, observability and SLOs.

They recompute the answer with ``patterns.slo`` (formulas and simulated months) and print a tick or
what is wrong with a hint; they return True/False and never raise on a wrong answer.
"""

from __future__ import annotations

import math
import random

from patterns.check import not_ready, report
from patterns.slo.traffic import Traffic

__all__ = ["BURN_QUESTION", "DETECT_QUESTION", "check_page_burn_rate", "check_detection_time", "check_alert",
           "exercise_month"]

#: Exercise 1: a 99.95% SLO over 28 days; page when 2% of the budget goes in one hour.
BURN_QUESTION: dict[str, float] = {"objective": 0.9995, "period_days": 28.0, "spent": 0.02, "hours": 1.0}
#: Exercise 2: 99.9% / 30 days; the 6 h / 30 min rule at 6x; an incident with 5% errors.
DETECT_QUESTION: dict[str, float] = {"burn_rate": 6.0, "long_minutes": 360.0, "error_ratio": 0.05}


def _number(title: str, answer: object, name: str) -> float | None:
    if not_ready(title, answer):
        return None
    if isinstance(answer, bool) or not isinstance(answer, (int, float)) or not math.isfinite(answer):
        report(title, [f"{name} should be a number, got {answer!r}."])
        return None
    return float(answer)


def check_page_burn_rate(answer: object) -> bool:
    """Exercise 1: the burn rate that spends ``spent`` of the budget in ``hours``."""
    from patterns.slo import SLO

    title = "Exercise 1 (a paging burn rate for another SLO)"
    value = _number(title, answer, "burn_rate_1")
    if value is None:
        return False
    q = BURN_QUESTION
    slo = SLO(q["objective"], q["period_days"])
    truth = q["spent"] * slo.period_minutes / (q["hours"] * 60)
    if math.isclose(value, truth, rel_tol=1e-3):
        return report(title, [], f"{truth:g}x spends {q['spent']:.0%} of a {q['period_days']:g}-day budget "
                      f"in {q['hours']:g} h, whatever the objective.")
    hints = {
        round(14.4, 3): "14.4 is for a 30-day period; this SLO's period is 28 days.",
        round(q["spent"] * slo.period_minutes / 60 * slo.budget_ratio, 6): "the burn rate is a multiple "
        "of the budget rate; it does not involve 1 - objective.",
    }
    hint = hints.get(round(value, 3), hints.get(round(value, 6), "spent = burn_rate * window / period, "
                                                "so burn_rate = spent * period / window (same units)."))
    return report(title, [f"burn_rate_1 = {value:g} is not it. Hint: {hint}"])


def check_detection_time(answer: object) -> bool:
    """Exercise 2: minutes until the 6 h rule fires for a 5% error incident on a clean service."""
    from patterns.slo import SLO, BurnRateRule, Incident, detect, month

    title = "Exercise 2 (time to detect)"
    value = _number(title, answer, "minutes_2")
    if value is None:
        return False
    q = DETECT_QUESTION
    slo = SLO()
    truth = slo.detection_minutes(q["burn_rate"], q["long_minutes"], q["error_ratio"])
    assert truth is not None
    incident = Incident("x", 4320, 1440, q["error_ratio"])
    traffic = month([incident], days=6, background=0.0, rng=random.Random(16))
    measured = detect(BurnRateRule(long=int(q["long_minutes"]), burn_rate=q["burn_rate"]), traffic, slo,
                      incident).detected_after
    if abs(value - truth) <= 1.0:
        return report(title, [], f"The formula gives {truth:g} min; a simulated incident fired after "
                      f"{measured} min (whole minutes, binomial noise).")
    if abs(value - truth / 60) <= 0.05:
        hint = "that looks like hours; the question asks for minutes."
    elif abs(value - q["long_minutes"]) <= 1:
        hint = "the rule does not wait for the whole window to fill: it fires once enough errors are in it."
    else:
        hint = ("the window's error ratio grows as error_ratio * t / window; it fires when that exceeds "
                "burn_rate * (1 - objective).")
    return report(title, [f"minutes_2 = {value:g}. Hint: {hint}"])


def exercise_month(seed: int = 2024) -> Traffic:
    """The month exercise 3 is checked on: an outage, a bad deploy, a slow burn, and 40 blips."""
    from patterns.slo import Incident, month

    incidents = [
        Incident("outage", 3 * 1440 + 200, 25, 1.0),
        Incident("bad deploy", 11 * 1440 + 600, 150, 0.04),
        Incident("slow burn", 19 * 1440, 4 * 1440, 0.0025),
    ]
    return month(incidents, blips=40, rng=random.Random(seed))


def check_alert(alert: object) -> bool:
    """Exercise 3: an alert with no false alarm, no missed incident, and the outage within 5 minutes."""
    from patterns.slo import SLO, score

    title = "Exercise 3 (an alert that pages for the right things)"
    if not_ready(title, alert):
        return False
    if not callable(getattr(alert, "firing", None)) or not isinstance(getattr(alert, "name", None), str):
        return report(title, [f"alert_3 should be an alert rule (BurnRateRule, MultiBurnRate or ThresholdRule), "
                              f"got {type(alert).__name__}."])
    slo = SLO()
    problems = []
    for seed in (2024, 7):
        try:
            result = score(alert, exercise_month(seed), slo)  # type: ignore[arg-type]  # duck-typed rule
        except Exception as exc:  # noqa: BLE001 - the learner's rule may fail in any way: report it
            return report(title, [f"evaluating alert_3 raised {type(exc).__name__}: {exc}"])
        if result.false_alarms:
            problems.append(f"month {seed}: {result.false_alarms} false alarms out of {result.alerts} alerts. "
                            "Hint: blips spend almost no budget; require a long window to agree.")
        if result.missed:
            problems.append(f"month {seed}: missed {', '.join(result.missed)}. Hint: a slow burn needs a "
                            "low burn rate over a long window (a ticket).")
        outage = result.detected.get("outage")
        if outage is not None and outage > 5:
            problems.append(f"month {seed}: the outage was detected after {outage} min. Hint: a high burn "
                            "rate over a short pair of windows catches it in about a minute.")
        if problems:
            break
    return report(title, problems, "No false alarm, nothing missed, the outage paged within minutes.")
