"""Keyset pagination's guarantee, tested on random tables and random writes between page fetches:
no row twice, order strictly monotone, and every row that existed throughout is returned."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from patterns.api import CursorCodec, InvalidCursor, KeysetPaginator, create_items_table, walk_pages
from patterns.infra import sqlite_db

SECRET = b"property-test-secret-0123"

# created_at values from a small range, so ties are common and the tie-breaker matters
timestamps = st.integers(min_value=0, max_value=12).map(float)
writes = st.lists(  # per page: rows to insert (created_at) and how many existing rows to delete
    st.tuples(st.lists(timestamps, max_size=3), st.integers(min_value=0, max_value=2)), max_size=30
)


def build(times: list[float]) -> Any:
    db = sqlite_db()
    table = create_items_table(db, "items", 0)
    table.insert_all({"id": i, "created_at": t, "title": ""} for i, t in enumerate(times, start=1))
    return db


@given(times=st.lists(timestamps, max_size=40), limit=st.integers(1, 9), descending=st.booleans())
def test_without_writes_pages_concatenate_to_the_full_ordered_table(
    times: list[float], limit: int, descending: bool
) -> None:
    db = build(times)
    pager = KeysetPaginator(db, "items", CursorCodec(SECRET), descending=descending)
    expected = sorted(((t, i) for i, t in enumerate(times, start=1)), reverse=descending)
    pages = walk_pages(pager, limit)
    assert sum(pages, []) == [i for _, i in expected]
    assert all(len(p) == limit for p in pages[:-1])


@given(times=st.lists(timestamps, max_size=40), limit=st.integers(1, 9), descending=st.booleans(),
       plan=writes, seed=st.randoms(use_true_random=False))
def test_writes_between_pages_cause_no_duplicates_and_no_skips(
    times: list[float], limit: int, descending: bool, plan: list[tuple[list[float], int]], seed: Any
) -> None:
    db = build(times)
    table = db["items"]
    original = set(range(1, len(times) + 1))
    deleted: set[int] = set()
    next_id = [len(times) + 1]

    def between(page: int) -> None:
        if page >= len(plan):
            return
        inserts, deletes = plan[page]
        for t in inserts:
            table.insert({"id": next_id[0], "created_at": t, "title": "new"})
            next_id[0] += 1
        alive = sorted(r["id"] for r in table.rows)
        for victim in seed.sample(alive, min(deletes, len(alive))):
            table.delete(victim)
            deleted.add(victim)

    pager = KeysetPaginator(db, "items", CursorCodec(SECRET), descending=descending)
    seen = sum(walk_pages(pager, limit, between), [])
    assert len(seen) == len(set(seen)), "a row was returned twice"
    survivors = original - deleted
    assert survivors <= set(seen), f"rows existing throughout were skipped: {sorted(survivors - set(seen))}"
    created = {r["id"]: r["created_at"] for r in table.rows}
    created.update({i: t for i, t in enumerate(times, start=1)})
    keys = [(created[i], i) for i in seen if i in created]
    assert keys == sorted(keys, reverse=descending), "pages are out of order"


@given(key=st.tuples(st.floats(allow_nan=False, allow_infinity=False), st.integers()),
       scope=st.text(max_size=20), flip=st.integers(min_value=0))
def test_any_single_byte_change_to_a_cursor_is_rejected(key: tuple[float, int], scope: str, flip: int) -> None:
    codec = CursorCodec(SECRET)
    token = codec.encode(key, scope)
    assert codec.decode(token, scope) == key
    position = flip % len(token)
    replacement = "A" if token[position] != "A" else "B"
    forged = token[:position] + replacement + token[position + 1:]
    try:
        decoded = codec.decode(forged, scope)
    except InvalidCursor:
        return
    # base64 padding bits: a changed last character may decode to the same bytes, so the same key
    assert decoded == key
