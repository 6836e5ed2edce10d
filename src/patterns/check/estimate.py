"""Checkers for the exercises of lab 12, the interview framework and back-of-envelope numbers.

An estimate is right when it is the right order of magnitude, so each checker accepts an answer
within a tolerance band around the reference (a factor of 2 unless the exercise says otherwise:
rounding 86,400 s to 100,000 s is fine). A wrong answer is compared with the answers that the usual
mistakes produce (forgetting the peak factor, the 86,400 s in a day, the replication factor, bits
versus bytes) and the message names the likely mistake. Checkers print and return True/False; they
never raise on a wrong answer.
"""

from __future__ import annotations

import math
from typing import Any

from patterns.check import is_unanswered, report
from patterns.estimate.units import SECONDS_PER_DAY, format_count

__all__ = [
    "CHAT",
    "PHOTOS",
    "THUMBNAILS",
    "FLEET",
    "reference_answers",
    "diagnose",
    "check_chat_rps",
    "check_photo_storage",
    "check_thumbnail_egress",
    "check_fleet_size",
]

# Exercise 1: a chat service.
CHAT: dict[str, float] = {"daily_active_users": 50e6, "messages_per_user": 40, "peak_factor": 5}
# Exercise 2: a photo service's storage.
PHOTOS: dict[str, float] = {"uploads_per_day": 2e6, "photo_bytes": 3e6, "replication": 3}
# Exercise 3: thumbnails served by the photo service.
THUMBNAILS: dict[str, float] = {"views_per_day": 100e6, "thumbnail_bytes": 200e3, "peak_factor": 4}
# Exercise 4: app servers for the chat service of exercise 1.
FLEET: dict[str, float] = {"server_rps": 2_000, "utilisation": 0.7}

_MATCH = math.log(1.3)  # an answer within 30% of a mistake's result is taken as that mistake


def reference_answers() -> dict[str, float]:
    """The reference answer of every exercise (what the checkers compare with)."""
    avg = CHAT["daily_active_users"] * CHAT["messages_per_user"] / SECONDS_PER_DAY
    peak = avg * CHAT["peak_factor"]
    storage = PHOTOS["uploads_per_day"] * PHOTOS["photo_bytes"] * PHOTOS["replication"] * 365
    egress_bytes = THUMBNAILS["views_per_day"] / SECONDS_PER_DAY * THUMBNAILS["peak_factor"] * THUMBNAILS[
        "thumbnail_bytes"
    ]
    servers = math.ceil(peak / (FLEET["server_rps"] * FLEET["utilisation"]))
    return {
        "average_rps": avg,
        "peak_rps": peak,
        "storage_per_year_bytes": storage,
        "egress_gbit_per_s": egress_bytes * 8 / 1e9,
        "servers": float(servers),
    }


def diagnose(
    answer: object,
    truth: float,
    *,
    label: str,
    tolerance: float = 2.0,
    mistakes: dict[str, float] | None = None,
) -> list[str]:
    """Problems with ``answer`` (empty when it is within ``tolerance``x of ``truth``).

    ``mistakes`` maps a hint to the ratio answer/truth that mistake produces; the nearest one within
    30% is named. Otherwise the message says how far off, and in which direction, the answer is.
    """
    if tolerance <= 1:
        raise ValueError(f"tolerance must be > 1, got {tolerance!r}")
    if is_unanswered(answer):
        return [f"{label} is not answered yet: replace the ... with your number and run the cell again."]
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        return [f"{label} should be a number, got {type(answer).__name__}."]
    if not math.isfinite(answer) or answer <= 0:
        return [f"{label} should be a positive number, got {answer!r}."]
    ratio = answer / truth
    if 1 / tolerance <= ratio <= tolerance:
        return []
    best = None
    for hint, wrong in (mistakes or {}).items():
        distance = abs(math.log(ratio / wrong))
        if distance <= _MATCH and (best is None or distance < best[0]):
            best = (distance, hint)
    direction = "too high" if ratio > 1 else "too low"
    off = ratio if ratio > 1 else 1 / ratio
    message = f"{label} = {format_count(answer)} is {direction} by a factor of about {off:,.3g}."
    if best is not None:
        return [f"{message} Hint: {best[1]}"]
    return [f"{message} Hint: write the chain of units (per user, per day, per second) and check each step."]


def _verdict(title: str, problems: list[str], success: str) -> bool:
    return report(title, problems, success)


def check_chat_rps(average_rps: Any, peak_rps: Any) -> bool:
    """Exercise 1: average and peak messages per second for ``CHAT``."""
    ref = reference_answers()
    day = SECONDS_PER_DAY
    per_time_mistakes = {
        "you divided by 3,600 (an hour): a day has 86,400 seconds.": day / 3_600,
        "you divided by 1,440 (the minutes in a day): a day has 86,400 seconds.": day / 1_440,
        "you did not divide by the 86,400 seconds in a day.": day,
        "you divided by 86,400 twice.": 1 / day,
    }
    peak = CHAT["peak_factor"]
    problems = diagnose(average_rps, ref["average_rps"], label="average_rps_1", mistakes={
        **per_time_mistakes,
        f"that is the peak: the average is before multiplying by the peak factor ({peak:g}).": peak,
    })
    problems += diagnose(peak_rps, ref["peak_rps"], label="peak_rps_1", mistakes={
        **per_time_mistakes,
        f"you forgot the peak factor: the busiest second is {peak:g}x the average.": 1 / peak,
        f"you divided by the peak factor instead of multiplying by it ({peak:g}).": 1 / peak**2,
    })
    return _verdict("Exercise 1 (requests per second)", problems,
                    f"Average {format_count(ref['average_rps'])}/s, peak {format_count(ref['peak_rps'])}/s: "
                    "provision for the peak.")


def check_photo_storage(storage_per_year_bytes: Any) -> bool:
    """Exercise 2: bytes of storage per year, replicas included, for ``PHOTOS``."""
    ref = reference_answers()["storage_per_year_bytes"]
    r = PHOTOS["replication"]
    problems = diagnose(storage_per_year_bytes, ref, label="storage_per_year_2", mistakes={
        f"you forgot the replication factor: every photo is stored {r:g} times.": 1 / r,
        "that is one day of storage: multiply by 365.": 1 / 365,
        "that is one day and one copy: multiply by the replication factor and by 365.": 1 / (365 * r),
        "that is one month (30 days): multiply by 365 days, not 30.": 30 / 365,
        "that looks like bits: storage is counted in bytes (divide by 8).": 8,
        "you multiplied by 12 months and by 365 days: use one of them.": 12,
    })
    return _verdict("Exercise 2 (storage per year)", problems,
                    f"About {ref / 1e15:.3g} PB a year (SI): a fleet of disks, so plan sharding from the start.")


def check_thumbnail_egress(egress_gbit_per_s: Any) -> bool:
    """Exercise 3: peak egress in Gbit/s for ``THUMBNAILS`` (decimal: 1 Gbit = 1e9 bits)."""
    ref = reference_answers()["egress_gbit_per_s"]
    p = THUMBNAILS["peak_factor"]
    problems = diagnose(egress_gbit_per_s, ref, label="egress_gbit_3", mistakes={
        "that is bytes per second: network links are sold in bits, multiply by 8.": 1 / 8,
        f"you forgot the peak factor ({p:g}x): links must carry the busiest second.": 1 / p,
        f"bytes, not bits, and no peak factor: multiply by 8 and by {p:g}.": 1 / (8 * p),
        "that is in Mbit/s: the answer is asked in Gbit/s (divide by 1,000).": 1_000,
        "that is in bit/s: the answer is asked in Gbit/s (divide by 1e9).": 1e9,
    })
    return _verdict("Exercise 3 (egress bandwidth)", problems,
                    f"About {ref:.3g} Gbit/s at peak: more than one 1 Gbit/s link, a job for a CDN.")


def check_fleet_size(servers: Any) -> bool:
    """Exercise 4: app servers for the chat peak at ``FLEET`` throughput and utilisation (within 20%)."""
    ref = reference_answers()
    truth = ref["servers"]
    peak, u = CHAT["peak_factor"], FLEET["utilisation"]
    problems = diagnose(servers, truth, label="servers_4", tolerance=1.2, mistakes={
        f"you sized for the average: size for the peak ({peak:g}x the average).": 1 / peak,
        f"you ran the servers at 100%: plan for {u:.0%} utilisation at peak (divide by {u:g}).": u,
        "average load and no headroom: use the peak, and divide by the utilisation.": u / peak,
        f"you multiplied by the utilisation ({u:g}) instead of dividing by it.": u * u,
    })
    if not problems and isinstance(servers, (int, float)) and not isinstance(servers, bool):
        if servers != int(servers):
            problems.append(f"servers_4 = {servers!r}: servers come in whole numbers; round up (math.ceil).")
        elif servers < truth:
            problems.append(f"servers_4 = {servers:g} is below {truth:g}: round up, never down.")
    return _verdict("Exercise 4 (fleet size)", problems,
                    f"{truth:g} servers at peak, before the spares you keep for failures and deploys (N+2).")
