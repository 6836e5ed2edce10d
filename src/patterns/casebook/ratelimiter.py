"""Case 2: a rate limiter as a service, shared by a fleet of API servers.

The bottleneck is the shared counter: an exact limit asks the store on every request, so the
store carries the whole API's peak rate. ``shared_limit`` runs one client trace (Poisson arrivals,
each request sent to a random API server) through four ways of sharing one per-client limit of
``limit`` requests per one-second window, and counts what each admits against the exact answer
and how many store calls it makes:

* ``central``: one ``FixedWindow`` for the fleet (a Redis counter in production): exact, one store
  call per request;
* ``split``: each server enforces ``limit / servers`` on its own: no store calls, but a client whose
  requests land unevenly is refused while it is under its limit;
* ``leased``: a server takes ``batch`` tokens at a time from the central counter and spends them
  locally (and stops asking once the store says the window is used up); tokens left at the
  window's end are lost, so it may under-admit, never over-admit;
* ``synced``: each server counts locally and adds its count to the central counter every ``sync``
  seconds, deciding on the last total it saw: it over-admits between syncs. Its calls are counted
  for this one key; a real server pipelines every key's count into one call per round, so its
  store load is ``servers / sync`` calls per second for the whole fleet, whatever the traffic.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

from patterns._validate import require_int, require_number, require_seconds
from patterns.casebook.model import CaseStudy, diagram, parameters, require_scale, rubric, uses
from patterns.clock import ManualClock
from patterns.estimate import Estimate, WorkedDesign
from patterns.ratelimit import FixedWindow

__all__ = ["design", "DEFAULTS", "STRATEGIES", "LimitRow", "client_trace", "shared_limit"]

STRATEGIES = ("central", "split", "leased", "synced")

#: The design's default assumptions; ``design(**overrides)`` replaces any of them.
DEFAULTS: dict[str, float] = {
    "server_rps": 2_500,
    "bytes_per_key": 100,
    "replication": 2,
    "store_node_ops": 100_000,
    "utilisation": 0.5,
    "lease_batch": 20,
    "store_rtt": 0.0005,
}


def design(api_servers: float = 200, limited_keys: float = 10e6, **overrides: float) -> CaseStudy:
    """The limiter service for ``api_servers`` servers and ``limited_keys`` keys (prompt 5 of ch. 12)."""
    values = parameters(DEFAULTS, overrides)
    api_servers = require_scale(api_servers, "api_servers")
    limited_keys = require_scale(limited_keys, "limited_keys")
    est = Estimate("Rate limiter as a service")
    est.assume("api_servers", api_servers, "servers", "requirement: the API fleet sharing the limits")
    est.assume("server_rps", values["server_rps"], "req/s", "peak requests one API server handles")
    est.assume("limited_keys", limited_keys, "keys", "requirement: API keys and users with a quota")
    est.assume("bytes_per_key", values["bytes_per_key"], "B",
               "a token bucket in a Redis hash: key name, two fields, per-key overhead")
    est.assume("replication", values["replication"], "copies", "a primary and a replica")
    est.assume("store_node_ops", values["store_node_ops"], "ops/s", "one Redis core running a short script")
    est.assume("utilisation", values["utilisation"], "", "headroom: run store nodes half busy at peak")
    est.assume("lease_batch", values["lease_batch"], "tokens", "tokens a server takes per store call")
    est.assume("store_rtt", values["store_rtt"], "s", "one round trip to the store in the same zone")
    est.derive("peak_api_rps", "api_servers * server_rps", "req/s", "every request is a decision")
    est.derive("limiter_memory", "limited_keys * bytes_per_key * replication", "B", "all copies")
    est.derive("store_ops_exact", "peak_api_rps", "ops/s", "one store call per request")
    est.derive("store_nodes_exact", "ceil(store_ops_exact / (store_node_ops * utilisation))", "nodes",
               "shards needed for the calls, not for the memory")
    est.derive("store_ops_leased", "peak_api_rps / lease_batch", "ops/s", "one call per batch of tokens")
    est.derive("store_nodes_leased", "ceil(store_ops_leased / (store_node_ops * utilisation))", "nodes")
    est.derive("added_latency", "store_rtt", "s", "per request when every decision asks the store")
    worked = WorkedDesign(
        name="Rate limiter as a service",
        functional=["decide allow/deny per key (API key, user, IP) against a configured quota",
                    "quotas per endpoint and plan, changed without a deploy",
                    "tell clients how long to wait (429 with Retry-After and RateLimit headers)"],
        non_functional=["adds under a millisecond to a request; never the reason the API is down",
                        "accurate within a few percent: a paid quota is a contract",
                        "keeps working when the shared store is slow: fail open for most routes"],
        estimate=est,
        api=["allow(key, cost=1) -> Decision(allowed, remaining, retry_after) (a library call in "
             "each API server, or a sidecar)", "PUT /v1/quotas/{plan} (admin, versioned config)"],
        data_model=["per key: a token bucket or window counter in Redis, hash-tagged by key, with a TTL",
                    "quota rules: a small config table, cached in every server"],
        components=["API servers with an embedded limiter client (no extra hop)",
                    "Redis shards holding the counters (one Lua script per decision)",
                    "rules service pushing quota changes to every server"],
        deep_dives=["algorithm: token bucket (bursts) or sliding window counter (smooth), chapter 10",
                    "sharing: exact central counter, per-server split, leased batches or periodic sync",
                    "failure: a store timeout of a few ms, then fail open with a local fallback limit"],
        bottlenecks=["the store's call rate, not its memory: batching divides it",
                     "a hot key (one huge tenant) lands on one shard: split it by sub-key"],
    )
    return CaseStudy(
        slug="ratelimiter",
        design=worked,
        diagram=diagram(
            "Rate limiter as a service",
            [("client", "API clients", "client"), ("lb", "load balancer", "service"),
             ("api", "API servers\\n+ limiter client", "service"), ("redis", "counter store\\n(Redis shards)", "store"),
             ("rules", "quota rules", "service"), ("backend", "backend services", "service")],
            [("client", "lb", "requests"), ("lb", "api", ""), ("api", "redis", "allow(key)?"),
             ("rules", "api", "push quotas"), ("api", "backend", "if allowed"), ("api", "client", "429 + Retry-After")],
        ),
        uses=uses(
            (10, "token bucket, sliding windows", "the algorithm each decision runs"),
            (7, "Redis as a shared store", "counters with a TTL, one atomic script per decision"),
            (8, "sharding by key", "spreads counters and calls over store nodes"),
            (6, "timeouts and fallbacks", "fail open when the store is slow, so the limiter is not an outage"),
            (9, "API errors", "429 with Retry-After and RateLimit headers"),
        ),
        bottleneck="the shared counter: exact limits cost one store call per request; batching trades accuracy",
        rubric=rubric(
            ("requirements", "what is limited (key, endpoint), accuracy and the latency budget agreed",
             "asks whether limits are contractual (billing) or protective (abuse), which sets accuracy",
             "no distinction between limiting clients and protecting the backend"),
            ("algorithm", "names token bucket or sliding window and what each admits at a boundary",
             "explains the fixed-window boundary burst and picks an algorithm for it",
             "a counter with no window or expiry"),
            ("shared state", "a central store with atomic increments (Lua or INCR + EXPIRE)",
             "quantifies store calls per second and proposes leased batches or local sync",
             "per-server counters presented as exact"),
            ("failure", "a timeout on the store call and a fail-open or fail-closed decision",
             "fails open with a local fallback limit and alerts; explains why",
             "the API goes down whenever the limiter's store does"),
            ("client contract", "429, Retry-After and remaining-quota headers",
             "jittered retries on the client side and per-plan quotas as configuration",
             "silently dropping requests"),
        ),
        headline=("peak_api_rps", "limiter_memory", "store_ops_exact", "store_nodes_exact",
                  "store_ops_leased", "store_nodes_leased"),
    )


def client_trace(rate: float, duration: float, servers: int, rng: random.Random) -> list[tuple[float, int]]:
    """Poisson arrivals at ``rate`` per second for ``duration`` seconds, each sent to a random server."""
    rate = require_number(rate, "rate", minimum=0.0, maximum=1e6)
    duration = require_seconds(duration, "duration", maximum=86_400.0)
    servers = require_int(servers, "servers", minimum=1, maximum=10_000)
    out: list[tuple[float, int]] = []
    t = 0.0
    while rate > 0:
        t += rng.expovariate(rate)
        if t >= duration:
            break
        out.append((t, rng.randrange(servers)))
    return out


@dataclass(frozen=True)
class LimitRow:
    """One strategy on one client's trace; counts are requests, ``store_calls_per_s`` per second."""

    strategy: str
    offered: int
    admitted: int
    exact: int  # what an exact limit admits: sum over windows of min(offered, limit)
    over_admitted: int  # admitted beyond the limit, summed over windows
    wrongly_refused: int  # refused while the client was under its limit, summed over windows
    store_calls_per_s: float


def shared_limit(
    trace: list[tuple[float, int]],
    *,
    limit: int = 100,
    servers: int = 20,
    batch: int = 10,
    sync: float = 0.1,
    duration: float | None = None,
) -> list[LimitRow]:
    """Run ``trace`` (from ``client_trace``) through every strategy of ``STRATEGIES``."""
    limit = require_int(limit, "limit", minimum=1, maximum=10_000_000)
    servers = require_int(servers, "servers", minimum=1, maximum=10_000)
    if limit < servers:
        raise ValueError(f"limit must be >= servers for the split strategy, got {limit} < {servers}")
    batch = require_int(batch, "batch", minimum=1, maximum=limit)
    sync = require_seconds(sync, "sync", maximum=60.0)
    span = require_seconds(duration, "duration") if duration is not None else max((t for t, _ in trace),
                                                                                   default=1.0)
    offered_by_window: dict[int, int] = defaultdict(int)
    for t, _ in trace:
        offered_by_window[int(t)] += 1
    rows = []
    for strategy in STRATEGIES:
        admitted_at, calls = _run(strategy, trace, limit, servers, batch, sync)
        by_window: dict[int, int] = defaultdict(int)
        for t in admitted_at:
            by_window[int(t)] += 1
        over = sum(max(0, n - limit) for n in by_window.values())
        refused = sum(max(0, min(n, limit) - by_window[w]) for w, n in offered_by_window.items())
        rows.append(LimitRow(strategy, len(trace), len(admitted_at),
                             sum(min(n, limit) for n in offered_by_window.values()), over, refused,
                             calls / span))
    return rows


def _run(strategy: str, trace: list[tuple[float, int]], limit: int, servers: int, batch: int,
         sync: float) -> tuple[list[float], int]:
    """Admission times and store calls of one strategy (windows are aligned whole seconds)."""
    admitted: list[float] = []
    calls = 0
    if strategy in ("central", "split"):
        clock = ManualClock()
        share = limit if strategy == "central" else limit // servers
        limiters = [FixedWindow(share, 1.0, clock=clock) for _ in range(1 if strategy == "central" else servers)]
        for t, server in trace:
            clock.set(t)
            if strategy == "central":
                calls += 1
            if limiters[0 if strategy == "central" else server].allow("client").allowed:
                admitted.append(t)
        return admitted, calls
    if strategy == "leased":
        granted_in: dict[int, int] = defaultdict(int)  # the central counter: tokens handed out
        tokens: dict[int, tuple[int, int]] = {}  # server -> (window, tokens left)
        exhausted: dict[int, int] = {}  # server -> the window the store said was used up
        for t, server in trace:
            w = int(t)
            window, left = tokens.get(server, (w, 0))
            if window != w:
                left = 0  # unused tokens of a past window are gone
            if left == 0 and exhausted.get(server) != w:
                calls += 1
                left = min(batch, limit - granted_in[w])
                granted_in[w] += left
                if left == 0:  # the reply says "none left until the window resets": stop asking
                    exhausted[server] = w
            if left > 0:
                admitted.append(t)
                left -= 1
            tokens[server] = (w, left)
        return admitted, calls
    # synced: each server decides on the window total it last read plus its own unsynced count
    total: dict[int, int] = defaultdict(int)  # the central counter, per window
    seen = [0] * servers  # the total each server read at its last sync
    local = [0] * servers  # admitted since the last sync
    window_of = [0] * servers  # the window ``local`` belongs to
    rounds = 1
    for t, server in trace:
        while t >= rounds * sync:  # a sync round: every server adds its count and reads the total
            now_window = int(rounds * sync + 1e-9)
            for s in range(servers):
                total[window_of[s]] += local[s]
            for s in range(servers):
                window_of[s], local[s], seen[s] = now_window, 0, total[now_window]
            calls += servers
            rounds += 1
        w = int(t)
        if window_of[server] != w:  # a new window began since this server's last sync
            total[window_of[server]] += local[server]
            window_of[server], local[server], seen[server] = w, 0, total[w]
            calls += 1  # pushing the old window's count and reading the new one is a call
        if seen[server] + local[server] < limit:
            admitted.append(t)
            local[server] += 1
    return admitted, calls
