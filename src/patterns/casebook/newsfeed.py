"""Case 4: a news feed, fan-out on write against fan-out on read, and the celebrity problem.

Fan-out on write (push) copies each new post into every follower's timeline: reads are one
lookup, writes cost one insert per follower. Fan-out on read (pull) stores a post once and, on
every feed read, fetches the recent posts of everyone the reader follows. Follower counts are
heavy-tailed, so push is cheap on average and catastrophic for the few accounts with millions of
followers: one post of theirs is millions of inserts (the celebrity problem). The usual answer
is a hybrid: push for ordinary authors, pull for the few above a follower threshold.

``follower_graph`` builds a seeded graph whose popularity follows a Zipf law; ``fanout_costs``
computes, exactly for that graph (expected values, no sampling), the daily work and the worst
single post of each strategy for a list of thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from patterns._validate import require_int, require_number, require_sequence
from patterns.casebook.model import CaseStudy, diagram, parameters, require_scale, rubric, uses
from patterns.estimate import Estimate, WorkedDesign

__all__ = ["design", "DEFAULTS", "FollowerGraph", "FanoutRow", "follower_graph", "fanout_costs"]

#: The design's default assumptions; ``design(**overrides)`` replaces any of them.
DEFAULTS: dict[str, float] = {
    "posts_per_user": 0.2,
    "reads_per_user": 10,
    "average_follows": 200,
    "peak_factor": 3,
    "entry_size": 16,
    "timeline_length": 500,
    "celebrity_followers": 100e6,
    "fanout_rate": 1e6,
}


def design(daily_active_users: float = 100e6, **overrides: float) -> CaseStudy:
    """A home timeline for ``daily_active_users`` users (prompt 6 of chapter 12)."""
    values = parameters(DEFAULTS, overrides)
    daily_active_users = require_scale(daily_active_users, "daily_active_users")
    est = Estimate("News feed")
    est.assume("daily_active_users", daily_active_users, "users", "requirement")
    est.assume("posts_per_user", values["posts_per_user"], "posts/user/day", "most users read, few post")
    est.assume("reads_per_user", values["reads_per_user"], "reads/user/day", "feed opened ~10 times a day")
    est.assume("average_follows", values["average_follows"], "accounts",
               "accounts a user follows (= average followers)")
    est.assume("peak_factor", values["peak_factor"], "x", "busiest second vs the daily average")
    est.assume("entry_size", values["entry_size"], "B", "post id + author id in a timeline")
    est.assume("timeline_length", values["timeline_length"], "entries", "recent entries kept per user")
    est.assume("celebrity_followers", values["celebrity_followers"], "followers", "the largest account")
    est.assume("fanout_rate", values["fanout_rate"], "inserts/s", "timeline inserts the workers sustain")
    est.derive("peak_posts", "daily_active_users * posts_per_user / 86_400 * peak_factor", "posts/s")
    est.derive("peak_reads", "daily_active_users * reads_per_user / 86_400 * peak_factor", "reads/s")
    est.derive("push_inserts", "peak_posts * average_follows", "inserts/s", "fan-out on write, at peak")
    est.derive("pull_fetches", "peak_reads * average_follows", "fetches/s", "fan-out on read, at peak")
    est.derive("timeline_cache", "daily_active_users * timeline_length * entry_size", "B",
               "precomputed timelines of active users")
    est.derive("celebrity_delay", "celebrity_followers / fanout_rate", "s",
               "one celebrity post pushed to every follower")
    worked = WorkedDesign(
        name="News feed",
        functional=["post (text, media ids); follow and unfollow",
                    "home feed: recent posts of followed accounts, newest first, paged"],
        non_functional=["feed p99 under 200 ms; a new post visible to followers within seconds",
                        "eventual consistency is fine; availability over consistency for reads"],
        estimate=est,
        api=["POST /v1/posts {text, media_ids} (Idempotency-Key)",
             "GET /v1/feed?cursor=... -> posts + next cursor (keyset pagination)",
             "PUT/DELETE /v1/follows/{account}"],
        data_model=["posts(post_id, author_id, created_at, body): sharded by post_id",
                    "follows(follower_id, followee_id) and its reverse index",
                    "timelines: per user a capped list of post ids in a cache (Redis list/zset)"],
        components=["post service -> posts store; publishes PostCreated to a topic",
                    "fan-out workers: push post ids to followers' timelines (ordinary authors)",
                    "feed service: reads the timeline, merges celebrities' recent posts (pull), "
                    "hydrates posts from a post cache"],
        deep_dives=["push vs pull vs hybrid with a follower threshold; measure, do not guess",
                    "celebrity posts: pulled at read time and cached, never fanned out",
                    "inactive users: skip their timelines, rebuild on their next visit"],
        bottlenecks=["fan-out workers during a celebrity burst; the hot post in the post cache",
                     "timeline cache memory: cap the length, keep only active users"],
    )
    return CaseStudy(
        slug="newsfeed",
        design=worked,
        diagram=diagram(
            "News feed (hybrid fan-out)",
            [("author", "author", "client"), ("post", "post service", "service"),
             ("posts", "posts store", "store"), ("topic", "PostCreated topic", "queue"),
             ("fanout", "fan-out workers", "service"), ("follows", "follow graph", "store"),
             ("timelines", "timeline cache\\n(per user)", "cache"), ("feed", "feed service", "service"),
             ("reader", "reader", "client")],
            [("author", "post", "POST"), ("post", "posts", "store once"), ("post", "topic", "event"),
             ("topic", "fanout", ""), ("fanout", "follows", "followers?"),
             ("fanout", "timelines", "push (ordinary)"), ("reader", "feed", "GET /feed"),
             ("feed", "timelines", "1. own timeline"), ("feed", "posts", "2. pull celebrities")],
        ),
        uses=uses(
            (2, "events and consumers", "a post event drives the fan-out workers"),
            (4, "CQRS read models", "timelines are a precomputed read model of posts and follows"),
            (7, "caching", "timeline and post caches; a hot celebrity post"),
            (8, "sharding", "posts by id, timelines by user"),
            (9, "cursor pagination", "a stable feed while new posts arrive"),
            (11, "eventual consistency", "followers see a post seconds later, which is acceptable"),
        ),
        bottleneck="fan-out cost: push makes one celebrity post millions of inserts, pull makes every read fan out",
        rubric=rubric(
            ("requirements", "feed latency, freshness and the read/write ratio agreed",
             "asks about follower distribution and inactive users: they decide the design",
             "designs without asking how feeds are read"),
            ("estimate", "compares push inserts and pull fetches per second from the same numbers",
             "computes the celebrity post's fan-out time and the timeline cache size",
             "no numbers behind the choice of push or pull"),
            ("fan-out", "push for most authors, with the timeline as a capped cache",
             "hybrid with a threshold justified by measured costs; skips inactive users",
             "pure push with no answer for an account with 100 million followers"),
            ("read path", "timeline read, hydrate posts from a cache, cursor pagination",
             "merges pulled celebrity posts with the pushed timeline and caches them",
             "joins across the follow graph at read time for every user"),
            ("trade-offs", "eventual consistency of feeds accepted explicitly",
             "names failure modes: fan-out lag, hot posts, rebuilds after cache loss",
             "claims feeds are strongly consistent for free"),
        ),
        headline=("peak_posts", "peak_reads", "push_inserts", "pull_fetches", "timeline_cache",
                  "celebrity_delay"),
    )


@dataclass(frozen=True)
class FollowerGraph:
    """``follower[i]`` follows ``followee[i]``; ``followers`` counts each user's followers."""

    users: int
    follower: np.ndarray
    followee: np.ndarray
    followers: np.ndarray
    follows: np.ndarray

    @property
    def edges(self) -> int:
        return int(len(self.follower))


def follower_graph(users: int = 20_000, average_follows: int = 50, skew: float = 0.8,
                   seed: int = 1) -> FollowerGraph:
    """A seeded follow graph: user ``u`` follows about ``average_follows`` accounts, each picked
    with probability proportional to ``1 / rank**skew`` (user 0 is the most popular); duplicate
    and self follows are dropped. Heavy-tailed like real networks, not a model of any of them."""
    n = require_int(users, "users", minimum=10, maximum=1_000_000)
    k = require_int(average_follows, "average_follows", minimum=1, maximum=n - 1)
    alpha = require_number(skew, "skew", minimum=0.0, maximum=3.0)
    rng = np.random.default_rng(require_int(seed, "seed", maximum=2**63 - 1))
    weights = 1.0 / np.arange(1, n + 1, dtype=float) ** alpha
    counts = rng.poisson(k, size=n).clip(1, n - 1).astype(np.intp)  # np.repeat wants intp (wasm32)
    follower = np.repeat(np.arange(n, dtype=np.intp), counts)
    followee = rng.choice(n, size=len(follower), p=weights / weights.sum()).astype(np.intp)
    keep = follower != followee
    pairs = np.sort(follower[keep].astype(np.int64) * n + followee[keep])
    pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))]  # np.unique, without its cost
    follower, followee = (pairs // n).astype(np.intp), (pairs % n).astype(np.intp)
    return FollowerGraph(n, follower, followee, np.bincount(followee, minlength=n).astype(np.intp),
                         np.bincount(follower, minlength=n).astype(np.intp))


@dataclass(frozen=True)
class FanoutRow:
    """One strategy. Costs are per day for the whole graph (expected values); ``worst_post`` is the
    largest number of timeline inserts one post causes, ``p99_read`` the 99th percentile of fetches
    one feed read needs."""

    strategy: str
    threshold: float  # authors with at least this many followers are pulled, not pushed
    pushed_authors: float  # share of authors whose posts are pushed
    write_ops: float
    read_ops: float
    worst_post: int
    p99_read: float

    @property
    def total_ops(self) -> float:
        return self.write_ops + self.read_ops


def fanout_costs(graph: FollowerGraph, *, posts_per_user: float = 0.2, reads_per_user: float = 10.0,
                 thresholds: tuple[float, ...] = (100, 1_000)) -> list[FanoutRow]:
    """Push, pull and the hybrid at each threshold on ``graph``.

    A pushed post costs one insert per follower; a feed read costs one timeline read plus one fetch
    per pulled account the reader follows (pull: every account). Posting and reading rates are the
    same for every user, so a celebrity's cost comes from their followers, not their activity.
    """
    posts = require_number(posts_per_user, "posts_per_user", minimum=0.0, maximum=1e4)
    reads = require_number(reads_per_user, "reads_per_user", minimum=0.0, maximum=1e4)
    levels = [require_number(t, "thresholds[i]", minimum=0.0)
              for t in require_sequence(thresholds, "thresholds", min_length=0, max_length=50)]
    rows = []
    for label, threshold in [("push", float("inf")), ("pull", 0.0)] + [("hybrid", t) for t in levels]:
        pulled = graph.followers >= threshold  # accounts read at query time
        pushed_cost = np.where(pulled, 0, graph.followers)
        per_reader = np.bincount(graph.follower[pulled[graph.followee]], minlength=graph.users)
        fetches = 1 + per_reader if label != "pull" else per_reader
        rows.append(FanoutRow(
            label, threshold, float(1.0 - pulled.mean()),
            float(posts * pushed_cost.sum()), float(reads * fetches.sum()),
            int(pushed_cost.max()), float(np.percentile(fetches, 99)),
        ))
    return rows
