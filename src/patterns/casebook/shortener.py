"""Case 1: a URL shortener (chapter 12's worked example, extended with its read-path experiment).

The bottleneck of a shortener is the redirect path: about a hundred redirects per created link,
each a point read. ``redirect_cache`` replays a Zipf-distributed redirect stream through an LRU
cache of several sizes (``patterns.caching``) and scales the misses to the estimate's peak: how
many reads per second still reach the links store, against what one database node serves.
"""

from __future__ import annotations

from dataclasses import dataclass

from patterns._validate import require_int, require_number, require_sequence
from patterns.caching import ZipfWorkload, simulate_hit_ratio
from patterns.casebook.model import CaseStudy, diagram, parameters, rubric, uses
from patterns.estimate import SINGLE_MACHINE_LIMITS, url_shortener

__all__ = ["design", "DEFAULTS", "CacheRow", "redirect_cache"]


#: The capacity-model assumptions of chapter 12's shortener (``design(**overrides)`` replaces any).
DEFAULTS: dict[str, float] = {
    "reads_per_user": 10,
    "writes_per_user": 0.1,
    "object_size": 500,
    "response_size": 500,
    "peak_factor": 3,
    "replication": 3,
    "hot_fraction": 0.2,
    "server_rps": 5_000,
    "utilisation": 0.7,
    "years": 10,
}


def design(daily_active_users: float = 100e6, **overrides: float) -> CaseStudy:
    """Chapter 12's shortener with click analytics added; ``overrides`` go to ``capacity_model``."""
    worked = url_shortener(daily_active_users, **parameters(DEFAULTS, overrides))
    est = worked.estimate
    est.assume("click_event_size", 200, "B", "code, time, referrer, country: one analytics event")
    est.derive("click_events_per_day", "daily_active_users * reads_per_user", "events/day",
               "one per redirect when 302s are counted")
    est.derive("click_storage_per_year", "click_events_per_day * click_event_size * 365", "B",
               "raw events, one copy, before aggregation")
    worked.components.append("click events -> queue -> analytics store (off the redirect path)")
    worked.deep_dives.append("analytics: a 302 lets every click reach us; publish an event to a queue "
                             "and aggregate off the redirect path, so analytics never slows a redirect")
    return CaseStudy(
        slug="shortener",
        design=worked,
        diagram=diagram(
            "URL shortener",
            [("client", "browser / app", "client"), ("lb", "load balancer", "service"),
             ("svc", "shortener service\\n(stateless)", "service"), ("cache", "redirect cache\\n(hot links)", "cache"),
             ("store", "links store\\n(sharded by code)", "store"), ("ids", "code ranges\\n(counter)", "service"),
             ("queue", "click events", "queue"), ("analytics", "analytics", "store")],
            [("client", "lb", "GET /{code}"), ("lb", "svc", ""), ("svc", "cache", "1. get"),
             ("svc", "store", "2. on miss"), ("svc", "ids", "POST: next code"), ("svc", "queue", "302: click"),
             ("queue", "analytics", "aggregate")],
        ),
        uses=uses(
            (12, "back-of-envelope estimate", "sizes the read path, storage and code length"),
            (7, "cache-aside with a long TTL", "links never change: redirects are served from memory"),
            (8, "sharding by key", "ten years of links outgrow one node; point reads by code"),
            (9, "idempotency keys", "a retried POST /v1/links does not create two codes"),
            (10, "rate limiting", "caps link creation per API key (spam)"),
            (2, "events on a queue", "click analytics off the redirect path"),
        ),
        bottleneck="the redirect path: how much of the peak read rate a cache of the hot links absorbs",
        rubric=rubric(
            ("requirements", "read-heavy redirects, creation rate, retention and latency agreed",
             "asks about custom aliases, abuse, analytics and 301 against 302 before drawing",
             "draws hashing schemes before knowing the scale"),
            ("estimate", "peak redirects per second, storage over the retention, code length",
             "derives the code length from the number of links and the collision headroom",
             "no peak factor, or storage off by a factor of 1,000"),
            ("code generation", "random codes checked on insert, or counter ranges per server",
             "compares collision retries, guessability and what happens when a range server fails",
             "truncated hashes with no collision handling"),
            ("read path", "cache-aside in front of a key-value store sharded by code",
             "sizes the cache from the skew of link popularity and plans for one viral link",
             "a database query per redirect at tens of thousands per second, unexamined"),
            ("trade-offs", "301 (cached by browsers) against 302 (countable), analytics off the hot path",
             "states what fails first at 10x and how the design absorbs it",
             "claims the design gives nothing up"),
        ),
        headline=("peak_read_rps", "peak_write_rps", "storage_total", "cache_size", "code_length", "servers"),
    )


@dataclass(frozen=True)
class CacheRow:
    """One cache size: the share of links it holds, its hit ratios, the reads left for the store.

    ``hit_ratio`` is what an LRU cache measured on the replay; ``ideal_hit_ratio`` is the share of
    redirects that go to the most popular links that fit (a cache that knew the future).
    """

    cache_share: float
    hit_ratio: float
    ideal_hit_ratio: float
    store_reads_per_s: float
    store_nodes: int


def redirect_cache(
    peak_read_rps: float,
    *,
    links: int = 20_000,
    redirects: int = 300_000,
    skew: float = 0.9,
    shares: tuple[float, ...] = (0.0, 0.01, 0.05, 0.2),
    seed: int = 7,
) -> list[CacheRow]:
    """Replay ``redirects`` Zipf(``skew``) requests over ``links`` links through LRU caches holding
    each share of the links; scale each miss ratio to ``peak_read_rps``.

    ``store_nodes`` is how many database nodes the misses need at the single-machine point-read
    limit of chapter 12 (``SINGLE_MACHINE_LIMITS["db_reads"]``). The hit ratio of a finite replay
    starts cold, so it slightly understates a warm cache.
    """
    peak = require_number(peak_read_rps, "peak_read_rps", minimum=0.0, maximum=1e12)
    n_links = require_int(links, "links", minimum=10, maximum=1_000_000)
    n = require_int(redirects, "redirects", minimum=1, maximum=5_000_000)
    fractions = [require_number(s, "shares[i]", minimum=0.0, maximum=1.0)
                 for s in require_sequence(shares, "shares", max_length=20)]
    workload = ZipfWorkload(n_links, skew=skew, seed=seed)
    keys = workload.sample(n)
    limit = SINGLE_MACHINE_LIMITS["db_reads"].value
    rows = []
    for share in fractions:
        capacity = round(share * n_links)
        hit = simulate_hit_ratio(keys, capacity=capacity) if capacity >= 1 else 0.0
        misses = peak * (1.0 - hit)
        rows.append(CacheRow(share, hit, workload.top_share(capacity), misses, max(1, -(-int(round(misses)) // int(limit)))))
    return rows
