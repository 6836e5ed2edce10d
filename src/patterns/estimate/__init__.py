"""Back-of-envelope estimation, the latency ladder and the system-design interview framework.

>>> from patterns.estimate import capacity_model
>>> est = capacity_model("demo", daily_active_users=1e6, reads_per_user=10, writes_per_user=1,
...                      object_size=1_000, response_size=1_000)
>>> round(est["average_rps"])
127
"""

from patterns.estimate.envelope import Estimate, Quantity, Sensitivity, capacity_model, format_value
from patterns.estimate.formula import Formula
from patterns.estimate.framework import (
    INTERVIEW_MINUTES,
    SINGLE_MACHINE_LIMITS,
    STEPS,
    Implication,
    Limit,
    Step,
    WorkedDesign,
    design_implications,
    render_checklist,
    schedule,
    url_shortener,
)
from patterns.estimate.latency import (
    COMPARABLE_RUNGS,
    DEAN_2009,
    MEASURED_RUNGS,
    SCOTT_2020,
    Comparison,
    Rung,
    ladder,
    measure,
    measure_ladder,
    published_vs_measured,
)
from patterns.estimate.units import (
    PERIOD_SECONDS,
    SECONDS_PER_DAY,
    SECONDS_PER_MONTH,
    SECONDS_PER_YEAR,
    bytes_to_bits,
    format_bytes,
    format_count,
    format_duration,
    format_rate,
    parse_bytes,
    parse_duration,
    per_period,
    per_second,
)

__all__ = [
    "Estimate",
    "Quantity",
    "Sensitivity",
    "capacity_model",
    "format_value",
    "Formula",
    "INTERVIEW_MINUTES",
    "SINGLE_MACHINE_LIMITS",
    "STEPS",
    "Implication",
    "Limit",
    "Step",
    "WorkedDesign",
    "design_implications",
    "render_checklist",
    "schedule",
    "url_shortener",
    "COMPARABLE_RUNGS",
    "Comparison",
    "DEAN_2009",
    "MEASURED_RUNGS",
    "SCOTT_2020",
    "Rung",
    "ladder",
    "measure",
    "measure_ladder",
    "published_vs_measured",
    "PERIOD_SECONDS",
    "SECONDS_PER_DAY",
    "SECONDS_PER_MONTH",
    "SECONDS_PER_YEAR",
    "bytes_to_bits",
    "format_bytes",
    "format_count",
    "format_duration",
    "format_rate",
    "parse_bytes",
    "parse_duration",
    "per_period",
    "per_second",
]
