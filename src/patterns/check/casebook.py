"""Checkers for lab 17, the interview casebook, and for chapter 12's eight practice prompts.

Exercises 1-4 have one right answer (a threshold that meets two budgets, a Bloom filter's size, a
reorder buffer, a worker count). The practice prompts are open designs: their checker reads the
learner's ``Estimate`` (or a ``WorkedDesign``/``CaseStudy`` holding one) and checks that it
defines the quantities the prompt asks about, that the numbers the prompt fixes are right within
a factor of 2, and that the numbers that rest on the learner's own assumptions fall in a plausible
band. A design is more than its numbers: the model answers in the instructor edition show the rest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from patterns.check import call_safely, not_ready, report
from patterns.check.estimate import diagnose
from patterns.estimate import Estimate, format_value

__all__ = [
    "FANOUT_BUDGET",
    "BLOOM",
    "SNOWFLAKE",
    "PROMPTS",
    "Band",
    "check_celebrity_threshold",
    "check_bloom_bytes",
    "check_release",
    "check_snowflake_workers",
    "check_practice",
]

# Exercise 1: the fan-out budgets for the lab's follower graph (``newsfeed.follower_graph()``).
FANOUT_BUDGET: dict[str, float] = {"worst_post": 3_000, "p99_read": 12}
# Exercise 2: the crawler's seen set.
BLOOM: dict[str, float] = {"urls": 6e9, "fp_rate": 0.001}
# Exercise 4: Snowflake workers for a peak.
SNOWFLAKE: dict[str, float] = {"peak_ids": 50e6, "ids_per_ms": 4_096, "utilisation": 0.5}


def check_celebrity_threshold(threshold: Any) -> bool:
    """Exercise 1: a follower threshold above which authors are pulled, meeting ``FANOUT_BUDGET``."""
    title = "Exercise 1 (celebrity threshold)"
    if not_ready(title, threshold, expect=(int, float)) or isinstance(threshold, bool):
        return False
    if not math.isfinite(threshold) or threshold < 0:
        return report(title, [f"threshold_1 must be a number of followers >= 0, got {threshold!r}."])
    from patterns.casebook.newsfeed import fanout_costs, follower_graph

    row = fanout_costs(follower_graph(), thresholds=(float(threshold),))[-1]
    problems = []
    if row.worst_post > FANOUT_BUDGET["worst_post"]:
        problems.append(f"with threshold {threshold:,.0f} one post still fans out to {row.worst_post:,} "
                        f"timelines (budget {FANOUT_BUDGET['worst_post']:,.0f}). Hint: lower it, so more "
                        "big accounts are pulled.")
    if row.p99_read > FANOUT_BUDGET["p99_read"]:
        problems.append(f"with threshold {threshold:,.0f} the 99th-percentile feed read needs "
                        f"{row.p99_read:g} fetches (budget {FANOUT_BUDGET['p99_read']:g}). Hint: raise it, "
                        "so fewer accounts are pulled at read time.")
    return report(title, problems,
                  f"worst post {row.worst_post:,} inserts, p99 read {row.p99_read:g} fetches; "
                  f"{1 - row.pushed_authors:.2%} of authors are pulled.")


def _bloom_bytes(urls: float, fp_rate: float) -> float:
    return -urls * math.log(fp_rate) / math.log(2) ** 2 / 8


def check_bloom_bytes(bloom_bytes: Any) -> bool:
    """Exercise 2: bytes of a Bloom filter for ``BLOOM["urls"]`` at ``BLOOM["fp_rate"]`` (within 10%)."""
    title = "Exercise 2 (Bloom filter size)"
    n, p = BLOOM["urls"], BLOOM["fp_rate"]
    truth = _bloom_bytes(n, p)
    problems = diagnose(bloom_bytes, truth, label="bloom_bytes_2", tolerance=1.1, mistakes={
        "that is in bits: divide by 8 for bytes.": 8,
        "you used log10: the formula needs the natural logarithm (math.log).": 1 / math.log(10),
        "you forgot to divide by (ln 2)^2.": math.log(2) ** 2,
        "you sized it for 1 % instead of 0.1 %.": math.log(0.01) / math.log(p),
    })
    exact_gb = n * 100 / 1e9
    return report(title, problems,
                  f"{format_value(truth, 'B')} ({-math.log(p) / math.log(2) ** 2:.1f} bits per URL), against "
                  f"about {exact_gb:,.0f} GB for the URLs as 100-byte strings.")


def check_release(release: Any) -> bool:
    """Exercise 3: ``release(held, next_expected) -> (to_show, new_next_expected)``: the in-order
    reorder buffer of the chat case. ``held`` is a set of sequence numbers that arrived and are not
    shown yet; the function shows (and removes from ``held``) every message from ``next_expected``
    on with no gap."""
    title = "Exercise 3 (in-order release)"
    if not_ready(title, release, expect=callable):
        return False
    cases = [
        ({0, 1, 2}, 0, [0, 1, 2], 3, set()),
        ({2, 3}, 0, [], 0, {2, 3}),
        ({1, 2, 5}, 1, [1, 2], 3, {5}),
        (set(), 4, [], 4, set()),
        ({7, 8, 9, 11}, 7, [7, 8, 9], 10, {11}),
    ]
    problems = []
    for held, start, shown, after, left in cases:
        buffer = set(held)
        result, error = call_safely(release, buffer, start)
        label = f"release({sorted(held)}, {start})"
        if error:
            problems.append(f"{label}: {error}")
            continue
        if not (isinstance(result, tuple) and len(result) == 2):
            problems.append(f"{label} should return a pair (to_show, next_expected), got {result!r}.")
            continue
        got, nxt = result
        if list(got) != shown:
            hint = (" Hint: stop at the first missing number." if len(list(got)) > len(shown) else
                    " Hint: keep going while next_expected is in held.")
            problems.append(f"{label} showed {list(got)}, expected {shown}.{hint}")
        elif nxt != after:
            problems.append(f"{label} returned next_expected={nxt!r}, expected {after}.")
        elif buffer != left:
            problems.append(f"{label} left held={sorted(buffer)}, expected {sorted(left)}: remove what you show.")
    return report(title, problems, "exactly once, in order: a message waits only for the ones before it.")


def check_snowflake_workers(workers: Any) -> bool:
    """Exercise 4: Snowflake workers for ``SNOWFLAKE["peak_ids"]`` ids/s at the given utilisation."""
    title = "Exercise 4 (Snowflake workers)"
    per_worker = SNOWFLAKE["ids_per_ms"] * 1000
    truth = math.ceil(SNOWFLAKE["peak_ids"] / (per_worker * SNOWFLAKE["utilisation"]))
    problems = diagnose(workers, truth, label="workers_4", tolerance=1.05, mistakes={
        "you ran each worker's sequence at 100 %: divide by the utilisation (0.5).": SNOWFLAKE["utilisation"],
        "4,096 ids is per millisecond, not per second: a worker issues 4,096,000 ids/s.": 1000,
        "you multiplied by the utilisation instead of dividing by it.": SNOWFLAKE["utilisation"] ** 2,
    })
    if not problems and isinstance(workers, (int, float)) and workers != truth:
        problems.append(f"workers_4 = {workers!r}: round up to a whole number of workers (math.ceil).")
    return report(title, problems,
                  f"{truth} workers, far below the 1,024 worker ids of the layout; run more for availability.")


@dataclass(frozen=True)
class Band:
    """What a practice checker expects of one quantity: a reference within ``tolerance``x (a number
    the prompt fixes), or a plausible range ``[low, high]`` (a number that rests on assumptions)."""

    name: str
    unit: str
    meaning: str
    reference: float | None = None
    tolerance: float = 2.0
    low: float | None = None
    high: float | None = None

    def problems(self, value: float) -> list[str]:
        shown = format_value(value, self.unit)
        if self.reference is not None:
            return diagnose(value, self.reference, label=self.name, tolerance=self.tolerance) and [
                f"{self.name} = {shown} is not within {self.tolerance:g}x of what the prompt's numbers "
                f"give ({format_value(self.reference, self.unit)}). Hint: {self.meaning}."]
        assert self.low is not None and self.high is not None
        if not self.low <= value <= self.high:
            return [f"{self.name} = {shown} is outside the plausible range "
                    f"{format_value(self.low, self.unit)} to {format_value(self.high, self.unit)}. "
                    f"Hint: {self.meaning}; check the units of each assumption."]
        return []


#: For each practice prompt of chapter 12: its text and the quantities its checker reads.
PROMPTS: dict[int, tuple[str, tuple[Band, ...]]] = {
    1: ("a URL shortener for 1 billion daily users", (
        Band("peak_rps", "req/s", "1e9 users x 10.1 requests / 86,400 s x a peak factor of 3",
             reference=1e9 * 10.1 / 86_400 * 3),
        Band("code_length", "chars", "enough base-62 characters for ten years of links with headroom",
             low=7, high=9),
    )),
    2: ("a notification service for 50 million users; campaigns reach everyone within an hour", (
        Band("campaign_rate", "msg/s", "50 million messages spread over 3,600 s", reference=50e6 / 3_600),
        Band("provider_calls", "calls/s", "transactional sends plus the campaign", low=50e6 / 3_600, high=1e6),
    )),
    3: ("a chat service: 50 million daily users, 40 messages each, history forever", (
        Band("average_msgs", "msg/s", "50 million x 40 messages / 86,400 s", reference=50e6 * 40 / 86_400),
        Band("storage_per_year", "B", "messages per year x bytes per message x copies", low=10e12, high=10e15),
    )),
    4: ("a photo service: 2 million uploads of 3 MB a day, 100 million thumbnail views a day", (
        Band("storage_per_day", "B", "2 million x 3 MB, times the copies you keep", low=3e12, high=40e12),
        Band("thumbnail_views", "views/s", "100 million views / 86,400 s (the average)",
             reference=100e6 / 86_400),
    )),
    5: ("a rate limiter shared by 200 API servers, 10 million keys", (
        Band("limiter_memory", "B", "10 million keys x the bytes one counter takes (tens to hundreds)",
             low=100e6, high=20e9),
    )),
    6: ("a news feed: fan-out on write against fan-out on read", (
        Band("push_inserts", "inserts/s", "posts per second x followers per post", low=1.0, high=1e12),
        Band("pull_fetches", "fetches/s", "feed reads per second x accounts followed", low=1.0, high=1e12),
    )),
    7: ("a metrics pipeline: 1 million points per second, 13 months of retention", (
        Band("points_total", "points", "1e6 points/s x 86,400 s x 395 days", reference=1e6 * 86_400 * 395),
        Band("storage_total", "B", "points x bytes per point (1-2 compressed, 16 raw) x copies",
             low=10e12, high=3e15),
    )),
    8: ("a global leaderboard updated by 10 million players during a one-hour tournament", (
        Band("peak_updates", "updates/s", "10 million players, each scoring every few seconds to minutes",
             low=1e3, high=1e7),
        Band("leaderboard_memory", "B", "10 million entries x tens to hundreds of bytes in a sorted set",
             low=100e6, high=20e9),
    )),
}


def _estimate_of(answer: Any) -> Estimate | None:
    if isinstance(answer, Estimate):
        return answer
    for path in (("estimate",), ("design", "estimate")):  # WorkedDesign, CaseStudy
        obj: Any = answer
        for attr in path:
            obj = getattr(obj, attr, None)
        if isinstance(obj, Estimate):
            return obj
    return None


def check_practice(prompt: int, answer: Any) -> bool:
    """A practice prompt of chapter 12 (1-8): does ``answer``'s estimate define the prompt's
    quantities, with plausible values? See ``PROMPTS`` for what each prompt's checker reads."""
    if isinstance(prompt, bool) or prompt not in PROMPTS:
        raise ValueError(f"prompt must be one of {sorted(PROMPTS)}, got {prompt!r}")
    text, bands = PROMPTS[prompt]
    title = f"Practice prompt {prompt} ({text})"
    if not_ready(title, answer):
        return False
    est = _estimate_of(answer)
    if est is None:
        return report(title, [f"expected an Estimate, or a WorkedDesign/CaseStudy holding one, got "
                              f"{type(answer).__name__}."])
    problems = []
    for band in bands:
        if band.name not in est:
            problems.append(f"the estimate defines no {band.name!r} ({band.meaning}); "
                            f"add it with est.derive({band.name!r}, ...).")
            continue
        problems += band.problems(est[band.name])
    if prompt == 6 and not problems and est["pull_fetches"] < est["push_inserts"]:
        problems.append("pull_fetches < push_inserts: feeds are read far more often than posted; "
                        "check reads per user against posts per user.")
    shown = ", ".join(f"{b.name} = {format_value(est[b.name], b.unit)}" for b in bands if b.name in est)
    return report(title, problems, shown + ".")
