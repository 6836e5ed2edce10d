"""SLIs, error budgets and burn-rate alerts (chapter 16).

* ``SLO``: objective, budget, burn rate, and the SRE workbook's detection-time formula.
* ``month`` / ``Incident`` / ``Traffic``: synthetic per-minute traffic with incidents and blips.
* ``BurnRateRule``, ``MultiBurnRate``, ``ThresholdRule``: alert rules evaluated every minute;
  ``WORKBOOK_RULES`` are the workbook's recommended multiwindow, multi-burn-rate parameters.
* ``detect`` (detection time, budget spent, reset time) and ``score`` (false alarms, missed
  incidents).
"""

from patterns.slo.alerts import (
    WORKBOOK_PAGE,
    WORKBOOK_RULES,
    WORKBOOK_TICKET,
    BurnRateRule,
    Detection,
    MultiBurnRate,
    Rule,
    Score,
    ThresholdRule,
    detect,
    episodes,
    score,
    spent,
    window_ratio,
)
from patterns.slo.budget import SLO
from patterns.slo.traffic import Incident, Traffic, month

__all__ = [
    "SLO",
    "Incident",
    "Traffic",
    "month",
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
