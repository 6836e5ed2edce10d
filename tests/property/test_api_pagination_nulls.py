"""Keyset pagination over a nullable sort column, and cursors that accept only the exact token issued.

Issue 20 (2): a descending walk silently skipped the NULL rows (3 of 10) and an ascending one
raised TypeError (a 500). Now NULLs sort first ascending / last descending, ties by id, and every
row is returned exactly once, in the order SQLite's own ORDER BY gives.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patterns.api import CursorCodec, InvalidCursor, KeysetPaginator, Request, Response, with_problems
from patterns.infra import sqlite_db

SECRET = b"nullable-column-secret"

SCORES = st.lists(st.one_of(st.none(), st.integers(0, 4), st.sampled_from([1.5, 2.5])), min_size=0, max_size=30)


def _table(scores: list[float | None]):  # type: ignore[no-untyped-def]
    db = sqlite_db()
    db["t"].create({"id": int, "score": float}, pk="id")
    db["t"].insert_all({"id": i, "score": s} for i, s in enumerate(scores, start=1))
    return db


@given(SCORES, st.integers(1, 7), st.booleans())
def test_every_row_exactly_once_in_sql_order(scores, limit, descending) -> None:  # type: ignore[no-untyped-def]
    db = _table(scores)
    pager = KeysetPaginator(db, "t", CursorCodec(SECRET), sort_column="score", descending=descending)
    assert pager.nullable
    walked = [i for page in pager.pages(limit) for i in page.ids]
    direction = "DESC" if descending else "ASC"
    expected = [r["id"] for r in db.query(f"SELECT id FROM t ORDER BY score {direction}, id {direction}")]
    assert walked == expected


@pytest.mark.parametrize("descending", [True, False])
def test_the_issue_example_ten_rows_three_nulls(descending: bool) -> None:
    db = _table([None if i % 3 == 0 else float(i) for i in range(1, 11)])
    pager = KeysetPaginator(db, "t", CursorCodec(SECRET), sort_column="score", descending=descending)
    ids = [i for page in pager.pages(2) for i in page.ids]
    nulls = [9, 6, 3] if descending else [3, 6, 9]
    assert sorted(ids) == list(range(1, 11))
    assert (ids[-3:] if descending else ids[:3]) == nulls  # NULLS LAST descending, FIRST ascending


def test_a_not_null_column_keeps_the_index_friendly_predicate() -> None:
    db = sqlite_db()
    db["p"].create({"id": int, "created_at": float}, pk="id", not_null={"created_at"})
    pager = KeysetPaginator(db, "p", CursorCodec(SECRET))
    assert not pager.nullable and pager._after(5.0, 5) == ("(created_at, id) < (?, ?)", [5.0, 5])


@pytest.mark.parametrize(
    ("table", "column", "error", "words"),
    [("t", "missing", ValueError, "no column 'missing'"), ("nope", "score", ValueError, "does not exist"),
     ("t", "select", ValueError, "SQL keyword"), ("select", "score", ValueError, "SQL keyword"),
     ("t", 3, TypeError, "sort_column")],
)
def test_bad_tables_and_columns_are_refused_at_construction(table, column, error, words) -> None:  # type: ignore[no-untyped-def]
    db = _table([1.0])
    with pytest.raises(error, match=words):
        KeysetPaginator(db, table, CursorCodec(SECRET), sort_column=column)


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/!"


@pytest.mark.parametrize("key", [(1.5, 7), (123.0, 99999), ("2024-01-01", 3), (None, 12)])
def test_every_single_character_edit_is_rejected(key) -> None:  # type: ignore[no-untyped-def]
    """The docstring's claim made true: on the old code 45 of 11,072 such edits (the spare bits of
    the last base64 character) decoded to the original key and were accepted."""
    codec = CursorCodec(SECRET)
    token = codec.encode(key, "s")
    accepted = []
    for i in range(len(token) + 1):
        for ch in ALPHABET:
            for edited in (token[:i] + ch + token[i + 1 :], token[:i] + ch + token[i:]):
                if edited == token:
                    continue
                try:
                    codec.decode(edited, "s")
                    accepted.append(edited)
                except InvalidCursor:
                    pass
    assert accepted == []


def test_a_garbled_cursor_is_a_400_not_a_500() -> None:
    db = _table([1.0, None, 2.0])
    pager = KeysetPaginator(db, "t", CursorCodec(SECRET), sort_column="score")
    api = with_problems(lambda r: Response(200, {}, pager.page(r.query.get("cursor"), 1).ids))
    for bad in ("x", "é", "a" * 5000, "abc.def"):
        assert api(Request("GET", f"/t?cursor={bad}")).status == 400
