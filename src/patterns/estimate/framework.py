"""The system-design interview framework as data, and a worked design computed with ``Estimate``.

``STEPS`` holds the eight steps of a 45-minute interview with their time boxes, what good looks like
and the usual failure; ``schedule`` rescales the boxes to another length; ``render_checklist`` prints
a checklist to keep beside you. ``url_shortener()`` is a complete worked example whose numbers come
from ``capacity_model``, and ``design_implications`` turns an estimate into design decisions (cache,
object store, shards, CDN, queue, spare capacity) by comparing it with single-machine limits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from patterns._validate import (
    require_instance,
    require_int,
    require_mapping,
    require_number,
    require_sequence,
)
from patterns.estimate.envelope import Estimate, capacity_model, format_value

__all__ = [
    "Step",
    "STEPS",
    "INTERVIEW_MINUTES",
    "schedule",
    "render_checklist",
    "Limit",
    "SINGLE_MACHINE_LIMITS",
    "Implication",
    "design_implications",
    "WorkedDesign",
    "url_shortener",
]

INTERVIEW_MINUTES = 45


@dataclass(frozen=True)
class Step:
    """One step of the interview: its time box (minutes out of 45) and how it is judged."""

    name: str
    minutes: int
    goal: str
    good: str
    failure: str
    checklist: tuple[str, ...]


STEPS: tuple[Step, ...] = (
    Step("Clarify requirements", 5,
         "agree on what to build and for how many",
         "a short list of must-have features, explicit non-goals, and the scale and quality targets",
         "designing at once, for a system nobody asked for",
         ("core use cases (3 or fewer)", "out of scope", "users, traffic, data volume",
          "latency, availability, consistency targets")),
    Step("Estimate", 5,
         "size the problem to the order of magnitude",
         "stated assumptions, round numbers, peak as well as average, and a conclusion drawn",
         "precise arithmetic with no conclusion, or numbers that are never used again",
         ("requests/s average and peak", "storage per year with replication",
          "bandwidth in and out", "cache size", "servers")),
    Step("API", 3,
         "fix the contract between clients and the system",
         "a few endpoints with inputs, outputs, errors, pagination and idempotency where needed",
         "skipping it, so the later design has no clear boundary",
         ("endpoints and methods", "request and response fields", "errors and limits")),
    Step("Data model", 4,
         "decide what is stored, keyed how, and where",
         "entities with their keys and access patterns, and a justified choice of store",
         "choosing a database by fashion before knowing the queries",
         ("entities and keys", "access patterns", "store per entity and why")),
    Step("High-level design", 8,
         "draw the boxes and the path of each main request",
         "a simple design that meets the requirements end to end, walked through for reads and writes",
         "a diagram of every technology ever heard of, with no request walked through it",
         ("clients, load balancer, services", "data stores, cache, queues", "read path and write path")),
    Step("Deep dives", 12,
         "go deep where the problem is hard",
         "two or three components examined: algorithms, failure modes, trade-offs with numbers",
         "staying shallow everywhere, or deep in a part the interviewer does not care about",
         ("the hardest component", "what the interviewer asks about", "alternatives and why not")),
    Step("Bottlenecks and trade-offs", 5,
         "find what breaks first and what you gave up",
         "the first bottleneck named with numbers, single points of failure removed, monitoring named",
         "claiming the design has no weaknesses",
         ("first bottleneck at 10x load", "single points of failure", "metrics and alerts")),
    Step("Wrap-up", 3,
         "leave a clear summary",
         "a one-minute recap of the design, its trade-offs and what you would do next",
         "running out of time mid-sentence",
         ("recap", "trade-offs accepted", "next steps")),
)


def schedule(total_minutes: int = INTERVIEW_MINUTES, steps: tuple[Step, ...] = STEPS) -> list[tuple[Step, int, int]]:
    """(step, start, end) in whole minutes, the time boxes rescaled to ``total_minutes``.

    Largest-remainder rounding: the boxes add up to exactly ``total_minutes`` and each is >= 1 minute.
    """
    steps = tuple(require_instance(s, "steps: each step", Step) for s in require_sequence(steps, "steps"))
    total_minutes = require_int(total_minutes, "total_minutes", minimum=len(steps), maximum=24 * 60)
    base = sum(s.minutes for s in steps)
    exact = [max(1.0, s.minutes * total_minutes / base) for s in steps]
    floors = [int(x) for x in exact]
    spare = total_minutes - sum(floors)
    order = sorted(range(len(steps)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:max(spare, 0)]:
        floors[i] += 1
    while sum(floors) > total_minutes:  # only when the 1-minute floors overshoot
        i = max(range(len(floors)), key=lambda k: floors[k])
        floors[i] -= 1
    result, start = [], 0
    for step, minutes in zip(steps, floors, strict=True):
        result.append((step, start, start + minutes))
        start += minutes
    return result


def render_checklist(total_minutes: int = INTERVIEW_MINUTES) -> str:
    """The framework as a printable checklist with clock times, goals and the failure to avoid."""
    lines = [f"System-design interview checklist ({total_minutes} minutes)"]
    for step, start, end in schedule(total_minutes):
        lines.append(f"[{start:02d}-{end:02d} min] {step.name}: {step.goal}")
        lines.extend(f"    [ ] {item}" for item in step.checklist)
        lines.append(f"    avoid: {step.failure}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Limit:
    """A rough single-machine limit (an order of magnitude, with its justification)."""

    value: float
    unit: str
    why: str


# Rough single-machine limits, plus one sizing rule (``metadata_row``) for objects kept outside the database.
SINGLE_MACHINE_LIMITS: dict[str, Limit] = {
    "db_writes": Limit(5_000, "req/s", "durable writes to one relational primary on SSD"),
    "db_reads": Limit(20_000, "req/s", "indexed point reads from one relational node"),
    "db_storage": Limit(5e12, "B", "data one database node holds comfortably (backups, rebuilds)"),
    "cache_memory": Limit(64e9, "B", "RAM one cache node offers to its data"),
    "origin_egress": Limit(125e6, "B/s", "what an origin serves over a 1 Gbit/s uplink; past it, edge "
                           "caches cost less than more origin bandwidth"),
    "blob_size": Limit(1e6, "B", "above it an object is better kept as a file than as a database row "
                       "(Sears, van Ingen and Gray, 2006); an object store is that file store, distributed"),
    "metadata_row": Limit(1_000, "B", "one metadata row per stored object: key, owner, size, dates, index entries"),
}


@dataclass(frozen=True)
class Implication:
    """A design decision an estimate forces (``needed``) or not, with the numbers behind it."""

    topic: str
    needed: bool
    because: str
    chapter: str


def design_implications(est: Estimate, limits: dict[str, Limit] | None = None) -> list[Implication]:
    """Compare a ``capacity_model`` estimate with single-machine limits: what must the design add?"""
    require_instance(est, "est", Estimate, what="an Estimate (from capacity_model)")
    given = {} if limits is None else require_mapping(limits, "limits")
    for key, limit in given.items():
        require_instance(limit, f"limits[{key!r}]", Limit)
    lim = {**SINGLE_MACHINE_LIMITS, **given}
    missing = set(SINGLE_MACHINE_LIMITS) - set(lim)
    if missing:  # pragma: no cover - guarded by the merge above
        raise ValueError(f"limits lacks {sorted(missing)}")

    def fmt(name: str) -> str:
        q = est.quantity(name)
        return format_value(q.value, q.unit)

    def limit_text(key: str) -> str:
        return f"{format_value(lim[key].value, lim[key].unit)} ({lim[key].why})"

    def vs(name: str, key: str) -> tuple[bool, str]:
        over = est[name] > lim[key].value
        return over, f"{name} {fmt(name)} is {'above' if over else 'within'} {limit_text(key)}"

    reads, writes = est["peak_read_rps"], est["peak_write_rps"]
    ratio = reads / writes if writes else float("inf")
    read_over, read_why = vs("peak_read_rps", "db_reads")
    out = [
        Implication("cache in front of the database", read_over or ratio >= 10,
                    f"{read_why}; reads:writes = {ratio:,.0f}:1", "07-caching"),
    ]
    blobs, blob_why = vs("object_size", "blob_size")
    write_over, write_why = vs("peak_write_rps", "db_writes")
    if blobs:
        # The objects go to an object store; the database keeps one metadata row per object.
        per_object = est["object_size"] * est["replication"]
        objects = est["storage_total"] / per_object if per_object else 0.0
        metadata = objects * lim["metadata_row"].value * est["replication"]
        store_over = metadata > lim["db_storage"].value
        out.append(Implication("objects in an object store, metadata in the database", True,
                               f"{blob_why}; storage_total {fmt('storage_total')} goes to the object store",
                               "08-database-scaling"))
        store_why = (f"{format_value(objects, 'rows')} of metadata take "
                     f"{format_value(metadata, 'B')} with replicas, "
                     f"{'above' if store_over else 'within'} {limit_text('db_storage')}")
    else:
        store_over, store_why = vs("storage_total", "db_storage")
        out.append(Implication("objects in an object store, metadata in the database", False, blob_why,
                               "08-database-scaling"))
    out.append(Implication("shard the database", write_over or store_over,
                           f"{write_why}; {store_why}", "08-database-scaling"))
    cache_over, cache_why = vs("cache_size", "cache_memory")
    out.append(Implication("shard the cache (consistent hashing)", cache_over, cache_why, "08-database-scaling"))
    net_over, net_why = vs("bandwidth_out", "origin_egress")
    gbits = est["bandwidth_out"] * 8 / 1e9
    out.append(Implication("serve responses through a CDN", net_over, f"{net_why}; that is {gbits:.3g} Gbit/s",
                           "07-caching"))
    peak = est["peak_factor"]
    out.append(Implication("queue deferrable work, rate-limit abusers", peak >= 3,
                           f"peak is {peak:g}x the average: absorb bursts instead of sizing for them",
                           "10-rate-limiting"))
    servers = est["servers"]
    out.append(Implication("spare servers, timeouts, retries, breakers", servers >= 2,
                           f"{servers:g} servers at peak: at that count one is often slow or down; run N+2",
                           "06-resilience"))
    return out


@dataclass
class WorkedDesign:
    """A design written down step by step, with its estimate as the numeric backbone."""

    name: str
    functional: list[str]
    non_functional: list[str]
    estimate: Estimate
    api: list[str]
    data_model: list[str]
    components: list[str]
    deep_dives: list[str] = field(default_factory=list)
    bottlenecks: list[str] = field(default_factory=list)

    def render(self) -> str:
        """The design as text, in the order of the interview steps."""
        parts = [f"Design: {self.name}"]
        sections = [
            ("Functional requirements", self.functional),
            ("Non-functional requirements", self.non_functional),
            ("API", self.api),
            ("Data model", self.data_model),
            ("High-level design", self.components),
            ("Deep dives", self.deep_dives),
            ("Bottlenecks and trade-offs", self.bottlenecks),
        ]
        for title, items in sections[:2]:
            parts += [f"\n{title}:"] + [f"  - {item}" for item in items]
        parts += ["\nEstimate:", self.estimate.explain()]
        for title, items in sections[2:]:
            parts += [f"\n{title}:"] + [f"  - {item}" for item in items]
        return "\n".join(parts)


def url_shortener(daily_active_users: float = 100e6, **overrides: float) -> WorkedDesign:
    """A URL shortener, end to end: requirements, estimate, API, data model, design and dives.

    ``overrides`` are passed to ``capacity_model`` (e.g. ``peak_factor=5``) to explore variants.
    """
    require_number(daily_active_users, "daily_active_users", minimum=0.0, strict_min=True)
    params: dict[str, float] = dict(
        reads_per_user=10, writes_per_user=0.1, object_size=500, response_size=500,
        peak_factor=3, replication=3, hot_fraction=0.2, server_rps=5_000, utilisation=0.7, years=10,
    )
    params.update(overrides)
    est = capacity_model(
        "URL shortener", daily_active_users=daily_active_users,
        sources={
            "daily_active_users": "requirement: 100 million people click links each day",
            "reads_per_user": "requirement: about 10 redirects per active user per day",
            "writes_per_user": "1 in 10 active users shortens one link a day",
            "object_size": "long URL (~200 B) + code, owner, dates, index overhead",
            "response_size": "a 301 redirect with its headers",
            "server_rps": "a redirect is a cache lookup: thousands per second per server",
            "years": "links never expire: keep ten years",
        },
        **params,
    )
    est.assume("alphabet", 62, "symbols", "a-z, A-Z, 0-9: safe in a URL")
    est.assume("keyspace_headroom", 10, "x", "keep 10x more codes than links: a random code collides <= 10%")
    est.derive("links_total", "daily_active_users * writes_per_user * 365 * years", "links")
    est.derive("code_length", "ceil(log(links_total * keyspace_headroom) / log(alphabet))", "chars",
               "shortest code with enough room")
    n = int(est["code_length"])
    return WorkedDesign(
        name="URL shortener",
        functional=["shorten: long URL -> short code (optionally a custom alias)",
                    "redirect: short code -> HTTP 301/302 to the long URL",
                    "links do not expire; no editing after creation (non-goal: analytics dashboards)"],
        non_functional=["redirect p99 under 50 ms; highly available (99.99 %) for redirects",
                        "a short code never points at two URLs; codes are not guessable in sequence",
                        f"scale: {format_value(est['daily_active_users'], 'daily active users')}"],
        estimate=est,
        api=["POST /v1/links {long_url, alias?} -> 201 {code, short_url}; 409 if the alias is taken; "
             "Idempotency-Key header makes retries safe",
             "GET /{code} -> 301 Location: long_url (or 302 to count clicks); 404 if unknown",
             "rate limit POST per API key (abuse: spam links)"],
        data_model=[f"links(code CHAR({n}) PRIMARY KEY, long_url TEXT, owner_id, created_at)",
                    "point reads and writes by code only: a key-value access pattern; shard by code",
                    "users(id, api_key, quota) in a small relational database"],
        components=["clients -> load balancer -> stateless redirect/shorten service",
                    "cache (Redis) in front of the links store: the hot 20% of links",
                    "links store: key-value or sharded relational, replicated 3x",
                    "code generator: random codes checked on insert, or ranges handed out by a counter"],
        deep_dives=[f"code generation: {n} base-62 characters; random + unique-insert retry vs counter + "
                    "shuffle; collisions stay rare with 10x headroom",
                    "cache: cache-aside with a long TTL (links never change), stampede protection on "
                    "viral links",
                    "301 (cached by browsers, cheaper) vs 302 (every click reaches us, countable)"],
        bottlenecks=["the links store: shard by code once storage or writes outgrow one node",
                     "viral links: one hot key; a local in-process cache absorbs it",
                     "the cache is a single point of failure: replicate, and fall back to the store"],
    )
