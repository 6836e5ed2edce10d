"""One shard: a SQLite file holding the rows whose owner is this shard.

Each row is ``(_hash, key, <columns...>, _version)``, keyed by ``(_hash, key)`` in a ``WITHOUT
ROWID`` table, where ``_hash`` is the key's ``stable_hash64`` shifted into SQLite's signed 64-bit
range (order kept). Keying by hash first costs nothing for point reads (the router hashes the key
anyway) and stores the rows in hash order, so "every key in this hash range" (what a ring reshard
needs) is one contiguous read, with no second index to keep up to date on every write.

``_version`` starts at 1 and grows by 1 on every write of the key; a copy from another shard during
a reshard replaces a row only if the copy's version is higher (see ``ShardedStore``).
"""

from __future__ import annotations

import math
import sqlite3
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from patterns._validate import require_mapping
from patterns.storage import require_sql_name, sqlite_errors, transaction

__all__ = ["Shard", "HASH_OFFSET", "require_columns", "require_value"]

HASH_OFFSET = 1 << 63  # stored _hash = stable_hash64(key) - 2**63: signed, in the same order
TABLE = "items"
_TYPES: dict[type, str] = {str: "TEXT", int: "INTEGER", float: "REAL", bytes: "BLOB"}
_PAIRS = 400  # (hash, key) pairs per statement: 800 parameters (old SQLite builds allow 999)

Ident = tuple[int, str]  # (stored hash, key): a row's primary key


class Shard:
    """The rows of one shard in ``path``; every statement is counted in ``counter[name]``."""

    def __init__(self, path: Path, name: str, columns: Mapping[str, type], counter: Counter[str]) -> None:
        self.name = name
        self.path = path
        self._columns = list(columns)
        self._counter = counter
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        with sqlite_errors(self._conn):
            # WAL + synchronous=NORMAL: commits survive a process crash without an fsync each.
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            defined = "".join(f"{c} {_TYPES[t]}, " for c, t in columns.items())
            self._conn.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} (_hash INTEGER NOT NULL, key TEXT NOT NULL, "
                f"{defined}_version INTEGER NOT NULL, PRIMARY KEY (_hash, key)) WITHOUT ROWID"
            )
        self.row_columns = ["_hash", "key", *self._columns, "_version"]  # a full row, in order

    def run(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[Any]:
        """One read statement; returns every row."""
        self._counter[self.name] += 1
        with sqlite_errors(self._conn):
            return self._conn.execute(sql, params).fetchall()

    def _write(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        """``sql`` once per row, all in one transaction; returns the rows changed."""
        self._counter[self.name] += 1
        with transaction(self._conn):
            return int(self._conn.executemany(sql, rows).rowcount)

    # -- rows by primary key ----------------------------------------------------------------------
    def get(self, ident: Ident) -> dict[str, Any] | None:
        found = self.run(f"SELECT {', '.join(self._columns)} FROM {TABLE} WHERE _hash = ? AND key = ?", ident)
        return dict(zip(self._columns, found[0], strict=True)) if found else None

    def version(self, ident: Ident) -> int | None:
        found = self.run(f"SELECT _version FROM {TABLE} WHERE _hash = ? AND key = ?", ident)
        return int(found[0][0]) if found else None

    def has(self, ident: Ident) -> bool:
        return bool(self.run(f"SELECT 1 FROM {TABLE} WHERE _hash = ? AND key = ?", ident))

    def upsert(self, rows: Sequence[Sequence[Any]], *, copy: bool = False) -> None:
        """Store full rows (``row_columns`` order), one transaction.

        A write (``copy=False``) replaces the row and takes a version above the stored one; a copy
        from another shard replaces the stored row only if the copy's version is higher.
        """
        updates = ", ".join(f"{c} = excluded.{c}" for c in self._columns)
        if copy:
            rule = f"{updates}, _version = excluded._version WHERE excluded._version > {TABLE}._version"
        else:
            rule = f"{updates}, _version = max(excluded._version, {TABLE}._version + 1)"
        marks = ", ".join("?" * len(self.row_columns))
        self._write(
            f"INSERT INTO {TABLE} ({', '.join(self.row_columns)}) VALUES ({marks}) "
            f"ON CONFLICT (_hash, key) DO UPDATE SET {rule}",
            rows,
        )

    def delete(self, idents: Sequence[Ident]) -> int:
        return self._write(f"DELETE FROM {TABLE} WHERE _hash = ? AND key = ?", idents)

    def rows(self, idents: Sequence[Ident]) -> list[tuple[Any, ...]]:
        """The full rows of those keys that are here (a join against the wanted keys)."""
        found: list[tuple[Any, ...]] = []
        names = ", ".join(f"{TABLE}.{c}" for c in self.row_columns)
        for i in range(0, len(idents), _PAIRS):
            chunk = idents[i : i + _PAIRS]
            wanted = ", ".join(["(?, ?)"] * len(chunk))
            found += self.run(
                f"WITH wanted (h, k) AS (VALUES {wanted}) SELECT {names} FROM wanted "
                f"JOIN {TABLE} ON {TABLE}._hash = wanted.h AND {TABLE}.key = wanted.k",
                [value for ident in chunk for value in ident],
            )
        return found

    # -- whole-shard reads ------------------------------------------------------------------------
    def idents(self, where: str = "", params: Sequence[Any] = ()) -> list[Ident]:
        """``(hash, key)`` of every row (matching ``where``), in hash order."""
        return [(h, k) for h, k in self.run(f"SELECT _hash, key FROM {TABLE} {where}", params)]

    def count(self) -> int:
        return int(self.run(f"SELECT COUNT(*) FROM {TABLE}")[0][0])

    def close(self) -> None:
        self._conn.close()


def require_columns(columns: object) -> dict[str, type]:
    """Column name -> Python type (str, int, float, bytes): identifiers, no SQL keyword, no '_'."""
    columns = require_mapping(columns, "columns")
    if not columns:
        raise ValueError("columns must name at least one column, got an empty mapping")
    if len(columns) > 100:
        raise ValueError(f"columns must name at most 100 columns, got {len(columns)}")
    checked: dict[str, type] = {}
    for name, kind in columns.items():
        require_sql_name(name, "column name")
        if name == "key" or name.startswith("_"):
            raise ValueError(f"column name must not be 'key' or start with '_' (the store's own columns), got {name!r}")
        if kind not in _TYPES:
            raise TypeError(f"columns[{name!r}] must be one of str, int, float, bytes, got {kind!r}")
        checked[name] = kind
    return checked


def require_value(column: str, value: object, kind: type) -> None:
    """A value SQLite stores exactly: of the column's type (an int may go in a float column), or None."""
    if value is None:
        return
    accepted = (int, float) if kind is float else kind
    if isinstance(value, bool) or not isinstance(value, accepted):
        raise TypeError(f"record[{column!r}] must be {kind.__name__} or None, got {type(value).__name__}")
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        raise ValueError(f"record[{column!r}] must fit in a signed 64-bit integer, got {value}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"record[{column!r}] must be a finite number, got {value!r}")
