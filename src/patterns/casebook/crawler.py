"""Case 7: a web crawler: politeness, and deduplication with a Bloom filter.

Two things bound a crawler. Politeness: a crawler may fetch from one host only every so often,
so a big site is crawled no faster than its page count times that delay, however many fetchers
there are. And the "seen" set: every discovered URL is checked against every URL ever queued;
billions of URLs do not fit in memory as strings, and a Bloom filter (``patterns.sketches``,
chapter 14) answers "seen before?" in about 10 bits per URL, at the price of false positives:
URLs it wrongly thinks it has seen are never crawled.

``synthetic_web`` builds a seeded web of hosts with Zipf-distributed sizes and links that mostly
stay on their host; ``crawl`` runs a breadth-first crawl on simulated time, with per-host queues,
``fetchers`` parallel fetchers and a minimum ``delay`` between two fetches from one host, and a
seen set that is exact or a Bloom filter.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from patterns._validate import require_int, require_number, require_probability, require_seconds
from patterns.casebook.model import CaseStudy, diagram, parameters, require_scale, rubric, uses
from patterns.estimate import Estimate, WorkedDesign
from patterns.sketches import BloomFilter, murmur64_many

__all__ = ["design", "DEFAULTS", "Web", "CrawlResult", "synthetic_web", "crawl"]

#: The design's default assumptions; ``design(**overrides)`` replaces any of them.
DEFAULTS: dict[str, float] = {
    "page_size": 500e3,
    "peak_factor": 2,
    "years": 5,
    "url_size": 100,
    "fp_rate": 0.01,
    "host_delay": 1.0,
    "largest_host_pages": 10e6,
    "fetch_time": 0.5,
}


def design(pages_per_month: float = 1e9, **overrides: float) -> CaseStudy:
    """A crawler fetching ``pages_per_month`` pages (the scale of Xu's crawler chapter)."""
    values = parameters(DEFAULTS, overrides)
    pages_per_month = require_scale(pages_per_month, "pages_per_month")
    est = Estimate("Web crawler")
    est.assume("pages_per_month", pages_per_month, "pages", "requirement")
    est.assume("page_size", values["page_size"], "B", "average HTML page with headers")
    est.assume("peak_factor", values["peak_factor"], "x", "the crawl is scheduled: a flat rate, with slack")
    est.assume("years", values["years"], "years", "keep pages for five years")
    est.assume("url_size", values["url_size"], "B", "an average URL as text")
    est.assume("fp_rate", values["fp_rate"], "", "share of new URLs a Bloom filter may wrongly skip")
    est.assume("host_delay", values["host_delay"], "s", "politeness: one fetch per host per second")
    est.assume("largest_host_pages", values["largest_host_pages"], "pages", "one very large site")
    est.assume("fetch_time", values["fetch_time"], "s", "download and parse one page")
    est.derive("average_fetches", "pages_per_month / (30 * 86_400)", "pages/s")
    est.derive("peak_fetches", "average_fetches * peak_factor", "pages/s")
    est.derive("fetchers", "ceil(peak_fetches * fetch_time)", "fetches", "in flight at once (Little's law)")
    est.derive("storage_total", "pages_per_month * page_size * 12 * years", "B", "one copy, uncompressed")
    est.derive("seen_exact", "pages_per_month * 12 * years * url_size", "B", "every URL as text")
    est.derive("seen_bloom", "-pages_per_month * 12 * years * log(fp_rate) / log(2) ** 2 / 8", "B",
               "a Bloom filter sized for the same URLs")
    est.derive("largest_host_days", "largest_host_pages * host_delay / 86_400", "days",
               "one host, crawled politely")
    worked = WorkedDesign(
        name="Web crawler",
        functional=["from seed URLs, fetch pages, extract links, fetch those, forever",
                    "store pages for an indexer; revisit pages as they change"],
        non_functional=["polite: robots.txt and at most one request per host per delay",
                        "robust to traps (infinite calendars), huge pages and slow hosts",
                        "scales horizontally; no URL fetched twice in a crawl cycle"],
        estimate=est,
        api=["no public API: seed URLs in, pages out to a store and a topic for the indexer"],
        data_model=["frontier: per-host FIFO queues + a priority across hosts",
                    "seen URLs: a Bloom filter (or a sharded set) of normalised URLs",
                    "content fingerprints (simhash) to skip mirrored pages; pages in blob storage"],
        components=["URL frontier (priority + politeness queues, sharded by host)",
                    "fetchers with a DNS cache and robots.txt cache",
                    "parser + link extractor + URL normaliser", "dedup: URL seen set, content hashes",
                    "page store (blob) and an event per page for the indexer"],
        deep_dives=["politeness: one queue per host, one fetcher at a time per host, a delay",
                    "dedup: Bloom filter sized by n and p; what a false positive costs (a missed page)",
                    "traps and freshness: depth limits, revisit schedules by change rate"],
        bottlenecks=["big hosts: politeness makes them the tail of every crawl",
                     "DNS and robots.txt lookups: cache them", "the seen set's memory"],
    )
    return CaseStudy(
        slug="crawler",
        design=worked,
        diagram=diagram(
            "Web crawler",
            [("seeds", "seed URLs", "client"), ("frontier", "URL frontier\\n(queue per host)", "queue"),
             ("fetch", "fetchers\\n(DNS, robots.txt)", "service"), ("web", "the web", "external"),
             ("parse", "parser +\\nlink extractor", "service"), ("seen", "seen URLs\\n(Bloom filter)", "cache"),
             ("pages", "page store", "store"), ("index", "indexer", "external")],
            [("seeds", "frontier", ""), ("frontier", "fetch", "next polite URL"), ("fetch", "web", "GET"),
             ("fetch", "parse", "HTML"), ("parse", "pages", "store"), ("pages", "index", "event"),
             ("parse", "seen", "new URL?"), ("seen", "frontier", "enqueue if new")],
        ),
        uses=uses(
            (14, "Bloom filters", "the seen-URL set in about 10 bits per URL"),
            (10, "rate limiting", "per-host politeness is a rate limit on ourselves"),
            (3, "queues", "the frontier decouples discovery from fetching"),
            (8, "partitioning", "frontier and seen set sharded by host"),
            (6, "timeouts", "slow hosts must not hold fetchers"),
        ),
        bottleneck="politeness and the seen set: the largest host is the tail; a Bloom filter trades pages for memory",
        rubric=rubric(
            ("requirements", "scale, freshness, politeness and what is stored agreed",
             "asks about robots.txt, traps, duplicates and revisits before drawing",
             "no mention of politeness"),
            ("estimate", "fetch rate, storage and the seen set's size computed",
             "shows the largest host's crawl time under politeness",
             "storage off by orders of magnitude"),
            ("frontier", "per-host queues with a delay, a priority across hosts",
             "shards the frontier by host so politeness needs no coordination",
             "one global FIFO queue"),
            ("dedup", "a seen set of normalised URLs",
             "sizes a Bloom filter from n and p and says what a false positive costs",
             "no URL dedup, or a set that cannot fit in memory"),
            ("robustness", "timeouts, depth limits, content fingerprints",
             "handles traps, huge pages and DNS as first-class problems",
             "assumes every page is small, finite and well-formed"),
        ),
        headline=("average_fetches", "fetchers", "storage_total", "seen_exact", "seen_bloom", "largest_host_days"),
    )


@dataclass(frozen=True)
class Web:
    """``links[p]`` are the pages page ``p`` links to; ``host[p]`` is its host; ``urls[p]`` its URL."""

    host: np.ndarray
    links: list[list[int]]
    urls: list[str]

    @property
    def pages(self) -> int:
        return len(self.urls)

    def host_sizes(self) -> np.ndarray:
        return np.bincount(self.host)


def synthetic_web(pages: int = 20_000, hosts: int = 200, *, links_per_page: int = 8, local: float = 0.8,
                  skew: float = 1.0, seed: int = 2) -> Web:
    """A seeded web: host sizes follow Zipf(``skew``); each page links to ``links_per_page`` pages,
    a share ``local`` of them on its own host, the rest anywhere (big hosts more often)."""
    n = require_int(pages, "pages", minimum=10, maximum=1_000_000)
    h = require_int(hosts, "hosts", minimum=1, maximum=n)
    k = require_int(links_per_page, "links_per_page", minimum=1, maximum=100)
    p_local = require_probability(local, "local")
    alpha = require_number(skew, "skew", minimum=0.0, maximum=3.0)
    rng = random.Random(require_int(seed, "seed", maximum=2**63 - 1))
    weights = [1.0 / (r + 1) ** alpha for r in range(h)]
    host = sorted(rng.choices(range(h), weights=weights, k=n - h) + list(range(h)))  # every host has a page
    host_arr = np.array(host, dtype=np.intp)
    first = np.searchsorted(host_arr, np.arange(h)).tolist() + [n]
    links = []
    for page in range(n):
        own = host[page]
        out = []
        for _ in range(k):
            if rng.random() < p_local:
                out.append(rng.randrange(first[own], first[own + 1]))
            else:
                out.append(rng.randrange(n))
        links.append(out)
    urls = [f"https://h{host[p]}.example/page/{p - first[host[p]]}" for p in range(n)]
    return Web(host_arr, links, urls)


@dataclass(frozen=True)
class CrawlResult:
    """A crawl: what it fetched and missed, how long it took, what the seen set cost."""

    seen_set: str
    fetched: int
    reachable: int
    missed: int  # reachable pages never fetched (false positives of the seen set)
    duration: float  # simulated seconds
    seen_bytes: int  # the seen set's size: URL text, or the Bloom filter's bits
    politeness_bound: float  # largest host's pages x delay
    fetcher_bound: float  # pages x fetch_time / fetchers
    progress: list[tuple[float, int]] = field(repr=False, default_factory=list)


def _reachable(web: Web, seeds: list[int]) -> int:
    seen, todo = set(seeds), deque(seeds)
    while todo:
        for nxt in web.links[todo.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return len(seen)


def crawl(web: Web, *, seen_set: str = "exact", fp_rate: float = 0.01, fetchers: int = 50,
          delay: float = 1.0, fetch_time: float = 0.5, seeds: int = 10) -> CrawlResult:
    """Crawl ``web`` from the first page of ``seeds`` hosts; ``seen_set`` is ``"exact"`` (a set of
    URLs) or ``"bloom"`` (a ``BloomFilter`` sized for every page at ``fp_rate``)."""
    if seen_set not in ("exact", "bloom"):
        raise ValueError(f"seen_set must be 'exact' or 'bloom', got {seen_set!r}")
    p = require_probability(fp_rate, "fp_rate", allow_zero=False, allow_one=False)
    workers = require_int(fetchers, "fetchers", minimum=1, maximum=100_000)
    delay = require_seconds(delay, "delay", positive=False, maximum=3_600.0)
    fetch_time = require_seconds(fetch_time, "fetch_time", maximum=3_600.0)
    first_pages = np.searchsorted(web.host, np.arange(int(web.host.max()) + 1)).tolist()
    start = [int(x) for x in first_pages[: require_int(seeds, "seeds", minimum=1, maximum=len(first_pages))]]
    bloom = BloomFilter.for_capacity(web.pages, p) if seen_set == "bloom" else None
    hashes = murmur64_many(web.urls) if bloom is not None else None  # hashed once, as a fetcher would
    exact: set[str] = set()
    queues: dict[int, deque[int]] = {}

    def enqueue(pages: list[int]) -> list[int]:
        """Queue the pages whose URLs are new (recording them as seen); the hosts that got one."""
        distinct = list(dict.fromkeys(pages))
        if bloom is None or hashes is None:
            new = [web.urls[q] not in exact for q in distinct]
            exact.update(web.urls[q] for q in distinct)
        else:
            batch = hashes[np.array(distinct, dtype=np.intp)]
            known = bloom.contains_hashes(batch)
            if not known.all():
                bloom.add_hashes(batch[~known])
            new = (~known).tolist()
        added = []
        for page, is_new in zip(distinct, new, strict=True):
            if is_new:
                host = int(web.host[page])
                queues.setdefault(host, deque()).append(page)
                added.append(host)
        return added

    events: list[tuple[float, int, str, int]] = []
    order = 0

    def push(at: float, kind: str, value: int) -> None:
        nonlocal order
        order += 1
        heapq.heappush(events, (at, order, kind, value))

    next_allowed: dict[int, float] = {}
    scheduled: set[int] = set()  # hosts with a pending "ready" event or waiting for a fetcher
    waiting: deque[int] = deque()  # ready hosts waiting for a free fetcher
    free = workers
    fetched = 0
    now = 0.0
    progress = [(0.0, 0)]

    def wake(host: int, now: float) -> None:
        if host not in scheduled and queues.get(host):
            scheduled.add(host)
            push(max(now, next_allowed.get(host, 0.0)), "ready", host)

    for host in enqueue(start):
        wake(host, 0.0)
    while events:
        now, _, kind, value = heapq.heappop(events)
        if kind == "done":
            fetched += 1
            progress.append((now, fetched))
            for host in enqueue(web.links[value]):
                wake(host, now)
            free += 1
            if waiting:
                push(now, "ready", waiting.popleft())
            continue
        host = value  # "ready": the host may be fetched from now
        if free == 0:
            waiting.append(host)
            continue
        page = queues[host].popleft()
        free -= 1
        next_allowed[host] = now + delay
        push(now + fetch_time, "done", page)
        scheduled.discard(host)
        wake(host, now)
    reachable = _reachable(web, start)
    sizes = np.bincount(web.host)
    seen_bytes = bloom.size_bytes if bloom is not None else sum(len(u.encode()) for u in exact)
    return CrawlResult(seen_set if bloom is None else f"bloom {p:g}", fetched, reachable, reachable - fetched,
                       now, seen_bytes, float(sizes.max()) * delay, web.pages * fetch_time / workers, progress)
