"""A key-value store split over N SQLite files, one per node, routed by any ``Router``.

What it shows: single-key operations touch one shard; a query on anything but the shard key has
to ask *every* shard and merge (scatter-gather), so its cost grows with the shard count; and
``reshard(new_router)`` moves exactly the rows whose owner changed, which is why the choice of
router decides how painful adding a shard is.

Guarantees: after ``reshard`` every row lives on ``new_router.node_for(key)`` and no row is lost or
duplicated. A move writes the row to its new shard before deleting it from the old one, so a crash
in the middle leaves at worst a duplicate, never a loss. Until a reshard completes the store is
*migrating*: reads try the new owner, then the old one (dual reads), writes go to the new owner and
delete any old copy, queries drop duplicates; calling ``reshard`` again with the same router
finishes the job. Safe to share between threads (one lock).
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from patterns.sharding.base import Router, owners

__all__ = ["ShardedStore", "QueryResult", "ReshardReport"]

_SAFE_NODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TYPES = {str: "TEXT", int: "INTEGER", float: "REAL", bytes: "BLOB"}


@dataclass(frozen=True)
class QueryResult:
    """Rows of a scatter-gather query, and what it cost."""

    rows: list[dict[str, Any]]
    shards_queried: int
    rows_transferred: int  # rows the shards sent back before the final merge and limit


@dataclass(frozen=True)
class ReshardReport:
    """What ``reshard`` did: ``moved`` rows out of ``total``, and how many went from where to where."""

    moved: int
    total: int
    routes: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def moved_fraction(self) -> float:
        return self.moved / self.total if self.total else 0.0


class ShardedStore:
    """``ShardedStore(router, directory, columns={"name": str, "age": int})``; keys are strings."""

    TABLE = "items"

    def __init__(
        self,
        router: Router,
        directory: str | os.PathLike[str],
        columns: Mapping[str, type] | None = None,
    ) -> None:
        self._router = _check_router(router)
        self._dir = Path(directory)
        if not self._dir.is_dir():
            raise ValueError(f"directory must be an existing directory, got {os.fspath(directory)!r}")
        self._columns = _check_columns({"value": str} if columns is None else columns)
        self._dbs: dict[str, sqlite_utils.Database] = {}
        self._target: Router | None = None  # set while a reshard is in progress (or was interrupted)
        self._lock = threading.RLock()
        self.shard_queries: Counter[str] = Counter()  # how many statements each shard has served
        for node in self._router.nodes:
            self._db(node)

    # -- plumbing ---------------------------------------------------------------------------------
    @property
    def router(self) -> Router:
        return self._router

    @property
    def migrating(self) -> bool:
        """True while a reshard has started and not finished (e.g. after a crash mid-way)."""
        return self._target is not None

    def _homes(self, key: str) -> tuple[str, str | None]:
        """Where ``key`` belongs now, and where an older copy may still sit during a migration."""
        if self._target is None:
            return self._router.node_for(key), None
        new, old = self._target.node_for(key), self._router.node_for(key)
        return new, (old if old != new else None)

    @property
    def columns(self) -> dict[str, type]:
        return dict(self._columns)

    def path_of(self, node: str) -> Path:
        return self._dir / f"{node}.sqlite"

    def _db(self, node: str) -> sqlite_utils.Database:
        db = self._dbs.get(node)
        if db is None:
            if not _SAFE_NODE.match(node):
                raise ValueError(f"node names must match {_SAFE_NODE.pattern} to be file names, got {node!r}")
            conn = sqlite3.connect(self.path_of(node), check_same_thread=False)
            # WAL + synchronous=NORMAL: commits survive a process crash without an fsync each.
            conn.execute("pragma journal_mode=wal")
            conn.execute("pragma synchronous=normal")
            db = sqlite_utils.Database(conn)
            if self.TABLE not in db.table_names():
                db[self.TABLE].create({"key": str, **self._columns}, pk="key")
            self._dbs[node] = db
        return db

    def _write(self, node: str, rows: list[dict[str, Any]]) -> None:
        """Insert or replace whole rows on ``node`` in one transaction (missing columns become NULL)."""
        names = ["key", *self._columns]
        sql = f"insert or replace into {self.TABLE} ({', '.join(names)}) values ({', '.join('?' * len(names))})"
        conn = self._db(node).conn
        with conn:
            conn.executemany(sql, [[row.get(c) for c in names] for row in rows])
        self.shard_queries[node] += 1

    def _check_record(self, key: object, record: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(key, str):
            raise TypeError(f"key must be a str, got {type(key).__name__}")
        if not isinstance(record, Mapping):
            raise TypeError(f"record must be a mapping of column to value, got {type(record).__name__}")
        unknown = sorted(set(record) - set(self._columns))
        if unknown:
            raise ValueError(f"record columns must be among {sorted(self._columns)}, got {unknown}")
        return {"key": key, **record}

    # -- single-shard operations -------------------------------------------------------------------
    def put(self, key: str, record: Mapping[str, Any]) -> str:
        """Insert or replace ``key``'s whole row on its owner; returns the owner's name."""
        row = self._check_record(key, record)
        with self._lock:
            node, old = self._homes(key)
            self._write(node, [row])
            if old is not None:
                self._delete(old, [key])
            return node

    def put_many(self, items: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
        """Bulk ``put``: one batch per shard. Returns the number of rows written."""
        rows = [self._check_record(k, r) for k, r in items]
        with self._lock:
            if self._target is not None:  # rare: route row by row, removing old copies
                for row in rows:
                    self.put(row.pop("key"), row)
                return len(rows)
            by_node: dict[str, list[dict[str, Any]]] = {}
            for row, node in zip(rows, owners(self._router, [r["key"] for r in rows]), strict=True):
                by_node.setdefault(str(node), []).append(row)
            for node, batch in by_node.items():
                self._write(node, batch)
        return len(rows)

    def get(self, key: str) -> dict[str, Any] | None:
        """``key``'s record (without the key), or None. Touches exactly one shard."""
        if not isinstance(key, str):
            raise TypeError(f"key must be a str, got {type(key).__name__}")
        with self._lock:
            rows: list[dict[str, Any]] = []
            for node in self._homes(key):  # the owner, then (while migrating) the old owner
                if node is None or rows:
                    continue
                self.shard_queries[node] += 1
                rows = list(self._db(node).query(f"select * from {self.TABLE} where key = ?", [key]))
        if not rows:
            return None
        return {c: v for c, v in rows[0].items() if c != "key"}

    def delete(self, key: str) -> bool:
        """Delete ``key``; True if it existed."""
        if not isinstance(key, str):
            raise TypeError(f"key must be a str, got {type(key).__name__}")
        with self._lock:
            return sum(self._delete(node, [key]) for node in self._homes(key) if node is not None) > 0

    def _delete(self, node: str, keys: list[str]) -> int:
        conn = self._db(node).conn
        with conn:
            cursor = conn.executemany(f"delete from {self.TABLE} where key = ?", [(k,) for k in keys])
        self.shard_queries[node] += 1
        return cursor.rowcount

    # -- cross-shard operations --------------------------------------------------------------------
    def query(
        self,
        where: str | None = None,
        params: Sequence[Any] | Mapping[str, Any] = (),
        *,
        order_by: str | None = None,
        descending: bool = False,
        limit: int | None = None,
    ) -> QueryResult:
        """Scatter ``select * ... where <where>`` to every shard, gather, merge, then apply ``limit``.

        With ``order_by`` and ``limit`` each shard returns its own top ``limit`` rows, so the
        coordinator receives up to ``shards * limit`` rows to keep ``limit``: the fan-out cost.
        ``where`` is SQL text: write it yourself and pass every value through ``params``.
        """
        if order_by is not None and order_by != "key" and order_by not in self._columns:
            raise ValueError(f"order_by must be 'key' or one of {sorted(self._columns)}, got {order_by!r}")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise ValueError(f"limit must be an int >= 0 or None, got {limit!r}")
        sql = f"select * from {self.TABLE}"
        if where:
            sql += f" where {where}"
        if order_by:
            sql += f" order by {order_by} {'desc' if descending else 'asc'}, key"
        else:
            sql += " order by key"
        if limit is not None:
            sql += f" limit {limit}"
        gathered: list[dict[str, Any]] = []
        with self._lock:
            nodes = list(self._dbs) if self._target is not None else list(self._router.nodes)
            for node in nodes:
                self.shard_queries[node] += 1
                rows = list(self._db(node).query(sql, params))
                if self._target is not None:
                    rows = [r for r in rows if self._is_live_copy(r["key"], node)]
                gathered.extend(rows)
        transferred = len(gathered)
        gathered.sort(key=lambda r: r["key"])
        if order_by:  # stable sorts: ties stay in key order; NULLs first ascending, as in SQLite
            gathered.sort(key=lambda r: (r[order_by] is not None, r[order_by]), reverse=descending)
        if limit is not None:
            gathered = gathered[:limit]
        return QueryResult(gathered, len(nodes), transferred)

    def _is_live_copy(self, key: str, node: str) -> bool:
        """While migrating, a row on ``node`` counts unless its new owner already holds the key."""
        owner = self._homes(key)[0]
        if owner == node:
            return True
        found = self._db(owner).execute(f"select 1 from {self.TABLE} where key = ?", [key]).fetchone()
        return found is None

    def count(self) -> int:
        """Rows on all shards (a scatter-gather of ``count(*)``)."""
        return sum(self.shard_sizes().values())

    def shard_sizes(self) -> dict[str, int]:
        """Rows per shard file currently open (every node of the router, plus any not yet drained)."""
        with self._lock:
            return {node: self._db(node)[self.TABLE].count for node in self._dbs}

    def keys_on(self, node: str) -> list[str]:
        """The keys physically stored in ``node``'s file, sorted."""
        with self._lock:
            if node not in self._dbs:
                raise ValueError(f"node must be one of {sorted(self._dbs)}, got {node!r}")
            return [r[0] for r in self._dbs[node].execute(f"select key from {self.TABLE} order by key")]

    # -- resharding --------------------------------------------------------------------------------
    def reshard(self, new_router: Router) -> ReshardReport:
        """Move every row whose owner under ``new_router`` differs from the shard it is on.

        Rows that stay put are not touched. Shards the new router no longer uses are emptied,
        closed and their files deleted. Returns how many rows moved, out of how many.
        """
        new_router = _check_router(new_router)
        if self._target is not None and new_router is not self._target:
            raise ValueError("new_router must be the router of the interrupted reshard: finish that one first")
        routes: Counter[tuple[str, str]] = Counter()
        total = 0
        with self._lock:
            for node in new_router.nodes:
                self._db(node)
            self._target = new_router
            plan: dict[str, dict[str, list[dict[str, Any]]]] = {}
            for src, db in self._dbs.items():  # decide every move before making any
                rows = list(db.query(f"select * from {self.TABLE}"))
                total += len(rows)
                for row, dst in zip(rows, owners(new_router, [r["key"] for r in rows]), strict=True):
                    if dst != src:
                        plan.setdefault(src, {}).setdefault(str(dst), []).append(row)
            for src, moving in plan.items():
                for dst, batch in moving.items():
                    self._write(dst, batch)  # copy first ...
                    self._delete(src, [r["key"] for r in batch])  # ... then delete from the source
                    routes[(src, dst)] += len(batch)
            self._router, self._target = new_router, None
            for node in [n for n in self._dbs if n not in new_router.nodes]:
                self._dbs.pop(node).close()
                self.path_of(node).unlink()
        return ReshardReport(sum(routes.values()), total, dict(routes))

    def close(self) -> None:
        """Close every shard's connection (files stay on disk)."""
        with self._lock:
            for db in self._dbs.values():
                db.close()
            self._dbs.clear()

    def __enter__(self) -> ShardedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ShardedStore({self._router!r}, {os.fspath(self._dir)!r})"


def _check_router(router: object) -> Router:
    if not isinstance(router, Router):
        raise TypeError(f"router must have .nodes and .node_for(key), got {type(router).__name__}")
    return router


def _check_columns(columns: Mapping[str, type]) -> dict[str, type]:
    if not isinstance(columns, Mapping) or not columns:
        raise ValueError(f"columns must be a non-empty mapping of name to type, got {columns!r}")
    for name, kind in columns.items():
        if not isinstance(name, str) or not _COLUMN.match(name) or name == "key":
            raise ValueError(f"columns must be SQL identifiers other than 'key', got {name!r}")
        if kind not in _TYPES:
            raise TypeError(f"columns[{name!r}] must be one of str, int, float, bytes, got {kind!r}")
    return dict(columns)
