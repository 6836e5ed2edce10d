"""Offset and keyset (cursor) pagination over a SQLite table, and a way to count rows visited.

Offset pagination (``ORDER BY ... LIMIT n OFFSET k``) is simple and lets a client jump to page 7, but
it addresses rows by *position*: an insert before the current position shifts every later row by
one (the next page repeats a row), a delete shifts them back (a row is skipped), and the database
must walk past all ``k`` skipped rows. Keyset pagination addresses rows by *value*: "the next ``n``
rows after (created_at, id) = (t, 42)". With an index on the sort key it seeks straight there, and
rows that exist throughout a walk are returned exactly once, whatever is inserted or deleted.
The ``id`` tie-breaker makes the order total: without it, rows sharing a ``created_at`` could be
split across a page boundary and skipped.

NULL in the sort column: SQL's ``(a, b) < (?, ?)`` is never true when ``a`` is NULL, so a plain
keyset walk would silently skip every NULL row (and a cursor could not even hold a NULL). The order
here is SQLite's own: NULL sorts before every value ascending (NULLS FIRST) and after every value
descending (NULLS LAST), ties broken by ``id``; on a nullable column the paginator writes the
predicate with ``IS NULL`` branches that follow exactly that order, and the cursor carries NULL as
``None``. A column declared ``NOT NULL`` keeps the simpler row-value predicate (it uses the index).
The paginator reads the table's schema at construction and refuses a missing column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from patterns._validate import require_callable, require_instance, require_int, require_number
from patterns.api.cursor import CursorCodec
from patterns.api.errors import InvalidCursor
from patterns.storage import require_sql_name

__all__ = ["Page", "OffsetPaginator", "KeysetPaginator", "require_limit", "walk_pages", "create_items_table"]

def _require_database(db: object) -> None:
    if not callable(getattr(db, "query", None)) or not hasattr(db, "conn"):
        raise TypeError(f"db must be a sqlite_utils.Database, got {type(db).__name__}")


def create_items_table(db: Any, table: str = "items", count: int = 0, step: float = 1.0) -> Any:
    """A table ``(id, created_at, title)`` with an index on (created_at, id), holding ``count`` rows
    created ``step`` seconds apart. Returns the sqlite-utils table."""
    require_sql_name(table, "table")
    _require_database(db)
    require_int(count, "count", minimum=0, maximum=10_000_000)
    require_number(step, "step", minimum=0.0, maximum=1e9)
    t = db[table]
    t.create({"id": int, "created_at": float, "title": str}, pk="id", not_null={"created_at"})
    t.create_index(["created_at", "id"], index_name=f"{table}_by_created")
    t.insert_all({"id": i, "created_at": i * step, "title": f"item {i}"} for i in range(1, count + 1))
    return t


def require_limit(limit: object, max_limit: int) -> int:
    """``limit`` as an int in [1, max_limit], else ValueError/TypeError naming it (a 400 upstream)."""
    max_limit = require_int(max_limit, "max_limit", minimum=1)
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise TypeError(f"limit must be an integer in [1, {max_limit}], got {type(limit).__name__}")
    if not 1 <= limit <= max_limit:
        raise ValueError(f"limit must be an integer in [1, {max_limit}], got {limit}")
    return limit


@dataclass(frozen=True)
class Page:
    """One page: the rows, the token for the next page (None on the last page) and whether more exist."""

    items: list[dict[str, Any]]
    next_cursor: str | None
    has_more: bool

    @property
    def ids(self) -> list[Any]:
        return [row["id"] for row in self.items]


class _Paginator:
    """Shared set-up: table, ordering (created_at, id), page-size bounds, and the visit counter."""

    def __init__(self, db: Any, table: str, *, descending: bool = True, default_limit: int = 20,
                 max_limit: int = 100, sort_column: str = "created_at") -> None:
        require_sql_name(table, "table")
        require_sql_name(sort_column, "sort_column")
        _require_database(db)
        if not isinstance(descending, bool):
            raise TypeError(f"descending must be a bool, got {type(descending).__name__}")
        max_limit = require_int(max_limit, "max_limit", minimum=1, maximum=10_000)
        self.default_limit = require_int(default_limit, "default_limit", minimum=1, maximum=max_limit)
        columns = {row[1]: bool(row[3]) for row in db.conn.execute(f"PRAGMA table_info({table})")}
        if not columns:
            raise ValueError(f"table {table!r} does not exist")
        for needed in (sort_column, "id"):
            if needed not in columns:
                raise ValueError(f"table {table!r} has no column {needed!r} (columns: {sorted(columns)})")
        self.nullable = not columns[sort_column]  # may the sort column hold NULL?
        self.db, self.table, self.sort_column = db, table, sort_column
        self.descending, self.max_limit = descending, max_limit
        self.visited = 0  # rows the last query examined (counted by a SQL function in its WHERE)
        self._visit_fn = f"_visit_{id(self):x}"  # one SQL function per paginator, same connection ok
        db.conn.create_function(self._visit_fn, 1, self._count_visit)
        direction = "DESC" if descending else "ASC"
        self._order = f"ORDER BY {sort_column} {direction}, id {direction}"

    def _count_visit(self, _row_id: Any) -> int:
        self.visited += 1
        return 1

    def _query(self, where: str, params: list[Any], tail: str) -> list[dict[str, Any]]:
        sql = f"SELECT * FROM {self.table} WHERE {where} AND {self._visit_fn}(id) {self._order} {tail}"
        self.visited = 0
        return [dict(row) for row in self.db.query(sql, params)]

    def query_plan(self, where: str = "1") -> list[str]:
        """SQLite's EXPLAIN QUERY PLAN for this paginator's ordered scan (SCAN vs SEARCH, index used)."""
        sql = f"EXPLAIN QUERY PLAN SELECT * FROM {self.table} WHERE {where} {self._order} LIMIT 1"
        return [row[3] for row in self.db.execute(sql).fetchall()]


class OffsetPaginator(_Paginator):
    """``?offset=k&limit=n``: position-based; can skip or repeat rows when the table changes."""

    def page(self, offset: int = 0, limit: int | None = None) -> Page:
        limit = self.default_limit if limit is None else require_limit(limit, self.max_limit)
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ValueError(f"offset must be an integer >= 0, got {offset!r}")
        rows = self._query("1", [], f"LIMIT {limit + 1} OFFSET {offset}")
        has_more = len(rows) > limit
        return Page(rows[:limit], str(offset + limit) if has_more else None, has_more)

    def pages(self, limit: int | None = None) -> Iterator[Page]:
        """Every page in turn; the cursor is just the next offset."""
        offset = 0
        while True:
            page = self.page(offset, limit)
            yield page
            if page.next_cursor is None:
                return
            offset = int(page.next_cursor)


class KeysetPaginator(_Paginator):
    """``?cursor=...&limit=n``: value-based, signed cursors; stable under inserts and deletes."""

    def __init__(self, db: Any, table: str, codec: CursorCodec, **options: Any) -> None:
        if not isinstance(codec, CursorCodec):
            raise TypeError(f"codec must be a CursorCodec, got {type(codec).__name__}")
        super().__init__(db, table, **options)
        self.codec = codec
        self.scope = f"{table}:{self.sort_column}:{'desc' if self.descending else 'asc'}"

    def page(self, cursor: str | None = None, limit: int | None = None) -> Page:
        limit = self.default_limit if limit is None else require_limit(limit, self.max_limit)
        params: list[Any] = []
        if cursor is None:
            where = "1"
        else:
            after = self.codec.decode(cursor, self.scope)  # InvalidCursor (400) if forged
            if len(after) != 2:
                raise InvalidCursor("cursor key must be (sort value, id)")
            where, params = self._after(after[0], after[1])
        rows = self._query(where, params, f"LIMIT {limit + 1}")  # one extra row: is there more?
        has_more = len(rows) > limit
        items = rows[:limit]
        token = self.codec.encode((items[-1][self.sort_column], items[-1]["id"]), self.scope) if has_more else None
        return Page(items, token, has_more)

    def _after(self, value: Any, last_id: Any) -> tuple[str, list[Any]]:
        """The WHERE clause for "rows after (value, last_id)" in this paginator's order."""
        col, op = self.sort_column, ("<" if self.descending else ">")
        if not self.nullable:
            return f"({col}, id) {op} (?, ?)", [value, last_id]
        if self.descending:  # values (descending), then the NULLs (by id descending)
            if value is None:
                return f"({col} IS NULL AND id < ?)", [last_id]
            return f"({col} < ? OR ({col} = ? AND id < ?) OR {col} IS NULL)", [value, value, last_id]
        if value is None:  # ascending: the NULLs first (by id), then every value
            return f"(({col} IS NULL AND id > ?) OR {col} IS NOT NULL)", [last_id]
        return f"({col} > ? OR ({col} = ? AND id > ?))", [value, value, last_id]

    def pages(self, limit: int | None = None) -> Iterator[Page]:
        cursor = None
        while True:
            page = self.page(cursor, limit)
            yield page
            if page.next_cursor is None:
                return
            cursor = page.next_cursor


def walk_pages(paginator: OffsetPaginator | KeysetPaginator, limit: int,
               between: Callable[[int], None] | None = None, max_pages: int = 10_000) -> list[list[Any]]:
    """Fetch every page, calling ``between(page_number)`` after each (to insert/delete rows as other
    clients would). Returns the ids of each page."""
    require_instance(paginator, "paginator", (OffsetPaginator, KeysetPaginator))
    require_int(limit, "limit", minimum=1)
    max_pages = require_int(max_pages, "max_pages", minimum=1)
    if between is not None:
        require_callable(between, "between")
    seen: list[list[Any]] = []
    for number, page in enumerate(paginator.pages(limit)):
        seen.append(page.ids)
        if number + 1 >= max_pages:
            raise RuntimeError(f"more than max_pages={max_pages} pages: is the table growing without end?")
        if between is not None and page.has_more:
            between(number)
    return seen
