"""The "database" behind the caches: a SQLite table (sqlite-utils) that charges time per query.

Real databases are slow relative to a cache; here every query advances the injected clock by
``query_cost`` seconds, so on a ``ManualClock`` the speed-up a cache buys is visible, exact and the
same on every machine. Each row carries a version that grows with every write. ``peek`` reads
without cost or counting: it is the oracle a lab uses to detect stale reads, not an access path.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from typing import Any

from patterns._validate import require_instance, require_seconds, require_text
from patterns.clock import Clock, ManualClock
from patterns.storage import require_sql_name

__all__ = ["SlowStore"]


class SlowStore:
    """Key/value rows ``(key, value JSON, version)`` in SQLite; thread-safe; counts its queries."""

    def __init__(
        self, clock: Clock | None = None, *, query_cost: float = 0.005, path: str | None = None,
        table: str = "items",
    ) -> None:
        self.query_cost = require_seconds(query_cost, "query_cost", positive=False, maximum=3600.0)
        require_sql_name(table, "table")
        if path is not None:
            require_text(path, "path")
        if clock is not None:
            require_instance(clock, "clock", Clock, what="a Clock (now() and sleep())")
        import sqlite_utils

        self.clock: Clock = clock if clock is not None else ManualClock()
        conn = sqlite3.connect(path or ":memory:", check_same_thread=False)
        self.db = sqlite_utils.Database(conn)
        self.table = self.db.table(table)
        if not self.table.exists():
            self.table.create({"key": str, "value": str, "version": int}, pk="key")
        self._lock = threading.Lock()
        self.reads = 0
        self.writes = 0

    @property
    def queries(self) -> int:
        return self.reads + self.writes

    def _charge(self) -> None:
        if self.query_cost:
            self.clock.sleep(self.query_cost)

    def _row(self, key: str) -> tuple[Any, int] | None:
        rows = list(self.table.rows_where("key = ?", [key], select="value, version"))
        return (json.loads(rows[0]["value"]), rows[0]["version"]) if rows else None

    def get(self, key: str) -> Any:
        """The value for ``key`` (None if absent). One query."""
        return self.get_versioned(key)[0]

    def get_versioned(self, key: str) -> tuple[Any, int]:
        """``(value, version)``; ``(None, 0)`` if absent. One query."""
        with self._lock:
            self.reads += 1
            row = self._row(key)
        self._charge()
        return row if row is not None else (None, 0)

    def put(self, key: str, value: Any) -> int:
        """Write one row and return its new version. One query."""
        return self.put_many([(key, value)])[key]

    def put_many(self, items: Iterable[tuple[str, Any]]) -> dict[str, int]:
        """Write a batch in one transaction and one query's cost; returns the new versions."""
        items = list(items)
        if not items:
            return {}
        versions: dict[str, int] = {}
        with self._lock:
            self.writes += 1
            with self.db.conn:
                for key, value in items:
                    old = versions.get(key) or (self._row(key) or (None, 0))[1]
                    versions[key] = old + 1
                    self.table.upsert(
                        {"key": key, "value": json.dumps(value), "version": versions[key]}, pk="key"
                    )
        self._charge()
        return versions

    def delete(self, key: str) -> None:
        with self._lock:
            self.writes += 1
            self.table.delete_where("key = ?", [key])
        self._charge()

    def peek(self, key: str) -> Any:
        """The current value without cost or counting: the lab's oracle for stale reads."""
        with self._lock:
            row = self._row(key)
        return None if row is None else row[0]

    def seed(self, items: Iterable[tuple[str, Any]]) -> None:
        """Load initial rows for free (setting up an experiment is not part of it)."""
        with self._lock, self.db.conn:
            self.table.upsert_all(
                [{"key": k, "value": json.dumps(v), "version": 1} for k, v in items], pk="key"
            )

    def __len__(self) -> int:
        with self._lock:
            return int(self.table.count)

    def reset_counts(self) -> None:
        with self._lock:
            self.reads = self.writes = 0
