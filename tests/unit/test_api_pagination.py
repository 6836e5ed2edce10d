"""Offset and keyset pagination on SQLite: pages, bounds, cursors, and offset's failure under writes."""

from __future__ import annotations

import pytest

from patterns.api import (
    CursorCodec,
    InvalidCursor,
    KeysetPaginator,
    OffsetPaginator,
    create_items_table,
    walk_pages,
)
from patterns.infra import sqlite_db

SECRET = b"0123456789abcdef-test-secret"


@pytest.fixture
def db():  # type: ignore[no-untyped-def]
    database = sqlite_db()
    create_items_table(database, "items", 50)
    return database


def keyset(db, **kw):  # type: ignore[no-untyped-def]
    return KeysetPaginator(db, "items", CursorCodec(SECRET), **kw)


def test_offset_pages_cover_the_table_newest_first(db) -> None:  # type: ignore[no-untyped-def]
    pages = walk_pages(OffsetPaginator(db, "items"), 7)
    assert [len(p) for p in pages] == [7] * 7 + [1]
    assert sum(pages, []) == list(range(50, 0, -1))


def test_keyset_pages_cover_the_table_in_both_directions(db) -> None:  # type: ignore[no-untyped-def]
    assert sum(walk_pages(keyset(db), 7), []) == list(range(50, 0, -1))
    assert sum(walk_pages(keyset(db, descending=False), 7), []) == list(range(1, 51))


def test_exact_multiple_has_no_empty_last_page(db) -> None:  # type: ignore[no-untyped-def]
    for pager in (OffsetPaginator(db, "items"), keyset(db)):
        pages = walk_pages(pager, 10)
        assert [len(p) for p in pages] == [10] * 5


def test_ties_on_created_at_are_broken_by_id() -> None:
    db = sqlite_db()
    t = create_items_table(db, "items", 0)
    t.insert_all({"id": i, "created_at": 5.0, "title": "same instant"} for i in range(1, 12))
    assert sum(walk_pages(keyset(db), 3), []) == list(range(11, 0, -1))


@pytest.mark.parametrize("limit", [0, -1, 101])
def test_page_size_out_of_bounds_is_rejected_naming_limit(db, limit: int) -> None:  # type: ignore[no-untyped-def]
    for pager in (OffsetPaginator(db, "items"), keyset(db)):
        with pytest.raises(ValueError, match=r"limit must be an integer in \[1, 100\]"):
            pager.page(limit=limit)


def test_bad_arguments_are_rejected(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError, match="limit"):
        OffsetPaginator(db, "items").page(limit=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="offset"):
        OffsetPaginator(db, "items").page(offset=-1)
    with pytest.raises(ValueError, match="table"):
        OffsetPaginator(db, "items; DROP TABLE items")
    with pytest.raises(ValueError, match="max_limit"):
        OffsetPaginator(db, "items", max_limit=0)
    with pytest.raises(ValueError, match="limit"):
        OffsetPaginator(db, "items", default_limit=500)
    with pytest.raises(TypeError, match="codec"):
        KeysetPaginator(db, "items", SECRET)  # type: ignore[arg-type]


def test_default_limit_applies(db) -> None:  # type: ignore[no-untyped-def]
    assert len(keyset(db, default_limit=5).page().items) == 5


def test_tampered_or_foreign_cursors_are_invalid_cursor_errors(db) -> None:  # type: ignore[no-untyped-def]
    pager = keyset(db)
    token = pager.page(limit=5).next_cursor
    assert token is not None
    body, _, tag = token.partition(".")
    for bad in ["", "garbage", body + ".", "!!!." + tag, body[:-2] + "AA." + tag, token + "x"]:
        with pytest.raises(InvalidCursor):
            pager.page(bad, 5)
    other = KeysetPaginator(db, "items", CursorCodec(b"another-secret-of-16b"))
    with pytest.raises(InvalidCursor, match="signature"):
        other.page(token, 5)
    ascending = keyset(db, descending=False)
    with pytest.raises(InvalidCursor, match="belongs to"):
        ascending.page(token, 5)


def test_cursor_codec_round_trips_and_validates() -> None:
    codec = CursorCodec(SECRET)
    assert codec.decode(codec.encode((1.5, 7), "s"), "s") == (1.5, 7)
    with pytest.raises(ValueError, match="secret"):
        CursorCodec(b"short")
    with pytest.raises(TypeError, match="secret"):
        CursorCodec("a string secret!!")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="key"):
        codec.encode((), "s")
    with pytest.raises(TypeError, match="key parts"):
        codec.encode((object(), 1), "s")
    assert codec.decode(codec.encode((None, 1), "s"), "s") == (None, 1)  # NULL travels as None


def test_offset_repeats_a_row_when_one_is_inserted_between_pages(db) -> None:  # type: ignore[no-untyped-def]
    pager = OffsetPaginator(db, "items")
    first = pager.page(0, 10)
    db["items"].insert({"id": 51, "created_at": 51.0, "title": "new"})  # a new row at the head
    second = pager.page(10, 10)
    assert second.ids[0] == first.ids[-1]  # 41 again: a duplicate


def test_offset_skips_a_row_when_one_is_deleted_between_pages(db) -> None:  # type: ignore[no-untyped-def]
    pager = OffsetPaginator(db, "items")
    first = pager.page(0, 10)
    db["items"].delete(first.ids[0])
    second = pager.page(10, 10)
    assert second.ids[0] == 39  # 40 slid onto page one: never shown


def test_keyset_neither_repeats_nor_skips_in_the_same_scenarios(db) -> None:  # type: ignore[no-untyped-def]
    pager = keyset(db)
    first = pager.page(None, 10)
    db["items"].insert({"id": 51, "created_at": 51.0, "title": "new"})
    db["items"].delete(first.ids[0])
    second = pager.page(first.next_cursor, 10)
    assert second.ids == list(range(40, 30, -1))


def test_deep_offset_visits_every_skipped_row_while_keyset_seeks(db) -> None:  # type: ignore[no-untyped-def]
    offset, key = OffsetPaginator(db, "items"), keyset(db)
    offset.page(40, 5)
    assert offset.visited == 40 + 5 + 1  # skipped rows + page + the look-ahead row
    cursor = None
    for _ in range(8):
        page = key.page(cursor, 5)
        cursor = page.next_cursor
    assert key.visited == 5 + 1
    assert any("SEARCH" in step for step in key.query_plan("(created_at, id) < (1, 1)"))
    assert any("SCAN" in step for step in offset.query_plan())


def test_two_paginators_on_one_connection_count_separately(db) -> None:  # type: ignore[no-untyped-def]
    a, b = OffsetPaginator(db, "items"), OffsetPaginator(db, "items")
    a.page(20, 5)
    b.page(0, 5)
    assert (a.visited, b.visited) == (26, 6)


def test_create_items_table_validates() -> None:
    with pytest.raises(ValueError, match="count"):
        create_items_table(sqlite_db(), "t", -1)
    with pytest.raises(ValueError, match="table"):
        create_items_table(sqlite_db(), "1t", 1)


def test_changing_feed_simulation_shows_offset_anomalies_and_keyset_none() -> None:
    from patterns.api import page_through_changing_feed as walk

    assert walk("offset") == walk("keyset") == walk("offset", rows=200, limit=20)
    inserted = walk("offset", inserts_per_page=3)
    assert inserted.duplicates == 3 * (inserted.pages - 1) and inserted.skipped == 0
    assert walk("offset", deletes_per_page=2).skipped > 0
    for writes in ({"inserts_per_page": 3}, {"deletes_per_page": 2}, {"inserts_per_page": 5, "deletes_per_page": 3}):
        out = walk("keyset", **writes)  # type: ignore[arg-type]
        assert (out.duplicates, out.skipped) == (0, 0)
    with pytest.raises(ValueError, match="kind"):
        walk("page")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rows"):
        walk("offset", rows=-1)


def test_an_offset_walk_that_can_never_end_stops_and_says_so() -> None:
    # a page's worth of new posts between fetches pushes every page back as far as the client moved
    from patterns.api import page_through_changing_feed as walk

    stuck = walk("offset", rows=200, limit=20, inserts_per_page=20, seed=7)
    assert not stuck.finished and stuck.pages == 3 * (200 // 20 + 1)
    assert walk("keyset", rows=200, limit=20, inserts_per_page=20, seed=7).finished
    assert walk("offset", rows=200, limit=20, inserts_per_page=19, seed=7).finished
