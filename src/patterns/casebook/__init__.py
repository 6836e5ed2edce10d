"""The interview casebook (chapter 17): eight worked designs, each with its numbers and experiment.

Every case is a module with a ``design(...)`` returning a ``CaseStudy`` (requirements, an
``Estimate`` computed with ``patterns.estimate``, API, data model, components, a ``Diagram``, the
chapters whose patterns it uses, a scoring ``Rubric``) and one experiment on the design's
bottleneck, run on simulated time with seeded randomness:

==================  ==========================================================================
``shortener``       ``redirect_cache``: how much of the redirect peak a cache of hot links absorbs
``ratelimiter``     ``shared_limit``: exact, split, leased and synced limits across a fleet
``notifications``   ``campaign_isolation``: a tenant's burst against everyone's latency (capstone)
``newsfeed``        ``fanout_costs``: push, pull and hybrid fan-out on a heavy-tailed follow graph
``chat``            ``delivery``: loss, duplicates and reordering, mechanism by mechanism
``idservice``       ``id_strategies``: counters, leased blocks and Snowflake under a clock step
``crawler``         ``crawl``: politeness bounds and a Bloom-filter seen set
``payments``        ``payment_retries``: idempotency keys, a double-entry ledger, reconciliation
==================  ==========================================================================

``cases()`` builds all eight with their default numbers; ``case(slug, **params)`` one of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from patterns.casebook import (
    chat,
    crawler,
    idservice,
    newsfeed,
    notifications,
    payments,
    ratelimiter,
    shortener,
)
from patterns.casebook.model import (
    KINDS,
    LEVELS,
    VERDICTS,
    CaseStudy,
    Criterion,
    Diagram,
    PatternUse,
    Rubric,
    Score,
)

__all__ = [
    "CASES",
    "case",
    "cases",
    "KINDS",
    "LEVELS",
    "VERDICTS",
    "CaseStudy",
    "Criterion",
    "Diagram",
    "PatternUse",
    "Rubric",
    "Score",
    "chat",
    "crawler",
    "idservice",
    "newsfeed",
    "notifications",
    "payments",
    "ratelimiter",
    "shortener",
]

#: slug -> the function that builds the case, in the chapter's order.
CASES: dict[str, Callable[..., CaseStudy]] = {
    "shortener": shortener.design,
    "ratelimiter": ratelimiter.design,
    "notifications": notifications.design,
    "newsfeed": newsfeed.design,
    "chat": chat.design,
    "idservice": idservice.design,
    "crawler": crawler.design,
    "payments": payments.design,
}


def case(slug: str, *args: Any, **params: Any) -> CaseStudy:
    """The case called ``slug`` built with ``params`` (e.g. ``case("chat", 500e6)``)."""
    if slug not in CASES:
        raise ValueError(f"slug must be one of {', '.join(CASES)}, got {slug!r}")
    return CASES[slug](*args, **params)


def cases() -> list[CaseStudy]:
    """All eight cases with their default numbers, in the chapter's order."""
    return [build() for build in CASES.values()]
