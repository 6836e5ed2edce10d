"""A feed that changes while a client pages through it: count what offset and keyset get wrong.

Used by chapter 09 and its lab. Deterministic: the writes come from a seeded ``random.Random``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from patterns._validate import require_int, require_one_of
from patterns.api.cursor import CursorCodec
from patterns.api.pagination import KeysetPaginator, OffsetPaginator, create_items_table
from patterns.infra import sqlite_db

__all__ = ["PagingOutcome", "page_through_changing_feed"]


@dataclass(frozen=True)
class PagingOutcome:
    """What one walk returned: rows returned, rows seen twice, rows that existed throughout but
    were never returned, pages fetched, and whether the walk reached the end of the feed.

    An offset walk never ends when at least a page's worth of posts arrives between two fetches
    (each page is pushed back as far as the client moved forward): the walk then stops after a
    bounded number of pages and reports ``finished=False``.
    """

    returned: int
    duplicates: int
    skipped: int
    pages: int
    finished: bool = True


def page_through_changing_feed(kind: Literal["offset", "keyset"], rows: int = 200, limit: int = 20,
                               inserts_per_page: int = 0, deletes_per_page: int = 0,
                               seed: int = 0) -> PagingOutcome:
    """Walk a newest-first feed of ``rows`` posts while, between page fetches, ``inserts_per_page``
    new posts arrive at the head and ``deletes_per_page`` random posts are deleted."""
    require_one_of(kind, "kind", ("offset", "keyset"))
    require_int(rows, "rows", minimum=0, maximum=100_000)
    require_int(limit, "limit", minimum=1, maximum=1000)
    for name, value in (("inserts_per_page", inserts_per_page), ("deletes_per_page", deletes_per_page)):
        require_int(value, name, minimum=0, maximum=1000)
    require_int(seed, "seed", minimum=0, maximum=2**63 - 1)
    rng = random.Random(seed)
    db = sqlite_db()
    table = create_items_table(db, "feed", rows)
    next_id = [rows + 1]  # the id of the next post to arrive
    deleted: set[int] = set()

    def between(_page: int) -> None:
        for _ in range(inserts_per_page):
            new_id = next_id[0]
            table.insert({"id": new_id, "created_at": float(new_id), "title": f"item {new_id}"})
            next_id[0] = new_id + 1
        alive = [r["id"] for r in db.query("SELECT id FROM feed WHERE id <= ? ORDER BY id", [rows])]
        for victim in rng.sample(alive, min(deletes_per_page, len(alive))):
            table.delete(victim)
            deleted.add(victim)

    pager = (OffsetPaginator(db, "feed", max_limit=1000) if kind == "offset"
             else KeysetPaginator(db, "feed", CursorCodec(b"simulation-secret-key"), max_limit=1000))
    # Enough pages for any walk that makes progress; a walk that cannot end stops at the cap.
    cap = rows // limit + 10 if inserts_per_page < limit else 3 * (rows // limit + 1)
    pages: list[list[int]] = []
    finished = True
    for number, page in enumerate(pager.pages(limit)):
        pages.append(page.ids)
        if not page.has_more:
            break
        if number + 1 >= cap and inserts_per_page >= limit:
            finished = False
            break
        between(number)
    seen = [i for page in pages for i in page]
    survivors = set(range(1, rows + 1)) - deleted
    return PagingOutcome(
        len(seen), len(seen) - len(set(seen)), len(survivors - set(seen)), len(pages), finished
    )
