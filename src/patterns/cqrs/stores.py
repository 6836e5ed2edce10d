"""Read-model stores: a SQLite table or Redis hashes, each updating rows AND checkpoint atomically.

A projector's checkpoint says "every event up to this position is in the read model". If the
rows and the checkpoint were written separately, a crash between the two writes would either
apply an event twice after restart (rows written, checkpoint not) or lose it (checkpoint written,
rows not). So both stores write them in ONE transaction:

* ``SQLiteReadStore`` - ``BEGIN IMMEDIATE`` ... rows ... checkpoint ... ``COMMIT``. A database
  locked by another connection past the busy timeout raises ``StorageLocked`` naming the file.
* ``RedisReadStore`` - ``WATCH`` the checkpoint and tables, read, then ``MULTI`` with every row
  write and the checkpoint write, ``EXEC``. Nothing reaches Redis before ``EXEC``; if another
  writer changed a watched key, ``EXEC`` fails and the body runs again on fresh data. Every key
  of one store carries the same hash tag (the store's name), so the transaction is legal on Redis
  Cluster, and the namespace (``patterns.keys``), so learners sharing a Redis never see, skip past
  or clear each other's read models and checkpoints.

``fault`` is a failure-injection hook: it is called with ``"rows-written"`` after the row writes
and before the checkpoint write, inside the transaction. Tests make it raise to prove the crash
window does not exist.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from patterns import infra
from patterns._validate import require_text
from patterns.cqrs.projections import Table
from patterns.keys import KeySpace, glob_escape, validate_namespace
from patterns.storage import connection_of, sqlite_errors, transaction

__all__ = ["Checkpoint", "StoreTx", "ReadStore", "SQLiteReadStore", "RedisReadStore"]

T = TypeVar("T")
FaultHook = Callable[[str], None]


@dataclass(frozen=True)
class Checkpoint:
    """The last event position a projector applied, and the clock time it did so."""

    position: int = 0
    applied_at: float | None = None


class StoreTx:
    """Rows changed in one transaction, read through: a projection sees its own earlier writes."""

    def __init__(self, store: ReadStore, name: str, checkpoint: Checkpoint) -> None:
        self._store = store
        self.name = name
        self.checkpoint = checkpoint
        self.new_checkpoint: Checkpoint | None = None
        self.pending: dict[tuple[Table, str], dict[str, Any] | None] = {}

    def get(self, table: Table, key: str) -> dict[str, Any] | None:
        if (table, key) in self.pending:
            row = self.pending[(table, key)]
            return dict(row) if row is not None else None
        return self._store._load(table, key)

    def put(self, table: Table, row: Mapping[str, Any]) -> None:
        if set(row) != set(table.columns):
            raise ValueError(f"row for {table.name} must have exactly the columns {table.columns}, "
                             f"got {tuple(row)}")
        key = row[table.key]
        if not isinstance(key, str):
            raise TypeError(f"{table.key} must be a string, got {type(key).__name__}")
        self.pending[(table, key)] = {c: row[c] for c in table.columns}

    def delete(self, table: Table, key: str) -> None:
        self.pending[(table, key)] = None

    def find(self, table: Table, column: str, value: Any) -> list[str]:
        """Keys of rows whose ``column`` equals ``value`` (``column`` must be indexed)."""
        if column not in table.indexes:
            raise ValueError(f"column must be one of the indexed columns {table.indexes}, got {column!r}")
        keys = set(self._store._find_keys(table, column, value))
        for (t, key), row in self.pending.items():
            if t == table:
                if row is not None and row[column] == value:
                    keys.add(key)
                else:
                    keys.discard(key)
        return sorted(keys)

    def set_checkpoint(self, position: int, applied_at: float) -> None:
        if position < self.checkpoint.position:
            raise ValueError(f"position must be >= {self.checkpoint.position}, got {position}")
        self.new_checkpoint = Checkpoint(position, applied_at)


class ReadStore:
    """Base of the stores: committed reads for queries, and ``atomically`` for projectors."""

    fault: FaultHook | None = None

    def ensure(self, tables: Iterable[Table]) -> None:
        raise NotImplementedError

    def atomically(self, name: str, body: Callable[[StoreTx], T]) -> T:
        """Run ``body`` on a transaction for projector ``name``; commit rows + checkpoint together."""
        raise NotImplementedError

    def checkpoint(self, name: str) -> Checkpoint:
        raise NotImplementedError

    def rows(self, table: Table) -> dict[str, dict[str, Any]]:
        raise NotImplementedError

    def get(self, table: Table, key: str) -> dict[str, Any] | None:
        return self._load(table, key)

    def find(self, table: Table, column: str, value: Any) -> list[dict[str, Any]]:
        """Committed rows whose indexed ``column`` equals ``value``, in key order."""
        if column not in table.indexes:
            raise ValueError(f"column must be one of the indexed columns {table.indexes}, got {column!r}")
        rows = (self._load(table, k) for k in sorted(self._find_keys(table, column, value)))
        return [r for r in rows if r is not None]

    def _load(self, table: Table, key: str) -> dict[str, Any] | None:
        raise NotImplementedError

    def _find_keys(self, table: Table, column: str, value: Any) -> list[str]:
        raise NotImplementedError

    def _inject(self, stage: str) -> None:
        if self.fault is not None:
            self.fault(stage)


class SQLiteReadStore(ReadStore):
    """Read-model tables in SQLite, one real column per field, so they can be queried with SQL.

    Columns have no declared type (SQLite keeps each value exactly as written: ints stay ints).
    Safe to share between threads: one lock serializes transactions on the one connection.
    """

    def __init__(self, db: Any = None) -> None:
        if db is None:
            db = sqlite3.connect(":memory:", check_same_thread=False)
        self.conn = connection_of(db)
        self._lock = threading.RLock()
        self._tables: dict[str, Table] = {}
        with self._lock, sqlite_errors(self.conn):
            self.conn.execute("CREATE TABLE IF NOT EXISTS read_checkpoints"
                              " (name TEXT PRIMARY KEY, position INTEGER NOT NULL, applied_at REAL)")
            self._commit_ddl()

    def _commit_ddl(self) -> None:
        if self.conn.in_transaction:
            self.conn.commit()

    def ensure(self, tables: Iterable[Table]) -> None:
        with self._lock, sqlite_errors(self.conn):
            for t in tables:
                cols = ", ".join(t.columns)
                self.conn.execute(f"CREATE TABLE IF NOT EXISTS {t.name} ({cols}, PRIMARY KEY ({t.key}))")
                for col in t.indexes:
                    self.conn.execute(f"CREATE INDEX IF NOT EXISTS {t.name}_{col} ON {t.name}({col})")
                self._tables[t.name] = t
            self._commit_ddl()

    def atomically(self, name: str, body: Callable[[StoreTx], T]) -> T:
        with self._lock:
            self._commit_ddl()
            with transaction(self.conn), sqlite_errors(self.conn):
                tx = StoreTx(self, name, self.checkpoint(name))
                result = body(tx)
                for (table, key), row in tx.pending.items():
                    if row is None:
                        self.conn.execute(f"DELETE FROM {table.name} WHERE {table.key} = ?", (key,))
                    else:
                        marks = ", ".join("?" for _ in table.columns)
                        self.conn.execute(f"INSERT OR REPLACE INTO {table.name} ({', '.join(table.columns)})"
                                          f" VALUES ({marks})", [row[c] for c in table.columns])
                self._inject("rows-written")
                if tx.new_checkpoint is not None:
                    self.conn.execute("INSERT OR REPLACE INTO read_checkpoints(name, position, applied_at)"
                                      " VALUES (?, ?, ?)",
                                      (name, tx.new_checkpoint.position, tx.new_checkpoint.applied_at))
            return result

    def checkpoint(self, name: str) -> Checkpoint:
        with self._lock, sqlite_errors(self.conn):
            row = self.conn.execute("SELECT position, applied_at FROM read_checkpoints WHERE name = ?",
                                    (name,)).fetchone()
        return Checkpoint(row[0], row[1]) if row else Checkpoint()

    def rows(self, table: Table) -> dict[str, dict[str, Any]]:
        with self._lock, sqlite_errors(self.conn):
            found = self.conn.execute(f"SELECT {', '.join(table.columns)} FROM {table.name}"
                                      f" ORDER BY {table.key}").fetchall()
        return {r[table.columns.index(table.key)]: dict(zip(table.columns, r, strict=True)) for r in found}

    def _load(self, table: Table, key: str) -> dict[str, Any] | None:
        with self._lock, sqlite_errors(self.conn):
            r = self.conn.execute(f"SELECT {', '.join(table.columns)} FROM {table.name}"
                                  f" WHERE {table.key} = ?", (key,)).fetchone()
        return dict(zip(table.columns, r, strict=True)) if r else None

    def _find_keys(self, table: Table, column: str, value: Any) -> list[str]:
        with self._lock, sqlite_errors(self.conn):
            found = self.conn.execute(f"SELECT {table.key} FROM {table.name} WHERE {column} = ?",
                                      (value,)).fetchall()
        return [r[0] for r in found]


class RedisReadStore(ReadStore):
    """Read-model tables as Redis hashes (field = row key, value = the row as JSON).

    Keys, all with the store's ``name`` as hash tag (one slot, so one transaction can touch them
    all, on a single server or a cluster), in the ``KeySpace`` of ``prefix`` (namespaced):
    ``...:{<name>}:rows:<table>`` (rows), ``...:{<name>}:index:<table>:<column>=<json value>`` (a
    set of row keys per indexed value), ``...:{<name>}:checkpoints`` (projector name -> JSON).
    Projector checkpoints therefore live inside the namespace too: a learner's projector named
    ``orders`` never finds another learner's checkpoint. Several projector processes may share one
    store: ``WATCH`` turns a concurrent write into a retry. Redis failures raise
    ``BackendUnavailable``.
    """

    MAX_RETRIES = 100

    def __init__(self, client: Any, *, prefix: str | KeySpace = "cqrs", name: str = "read-model") -> None:
        self.client = infra.require_redis_client(client)
        if isinstance(prefix, KeySpace):
            self.keys = prefix
        else:
            require_text(prefix, "prefix", max_length=200, forbidden="{}")
            self.keys = KeySpace.of(prefix)
        self.name = validate_namespace(name, "name")  # letters, digits, - and _: safe inside a tag
        self._tables: dict[str, Table] = {}
        self._local = threading.local()  # per thread: the watching pipeline during a transaction

    @property
    def _reader(self) -> Any:
        reader = getattr(self._local, "reader", None)
        return self.client if reader is None else reader  # a Pipeline is falsy when empty

    def _rows_key(self, table: Table) -> str:
        return self.keys.key(self.name, "rows", table.name)

    def _index_key(self, table: Table, column: str, value: Any) -> str:
        return self.keys.key(self.name, "index", table.name, f"{column}={json.dumps(value)}")

    @property
    def _checkpoints_key(self) -> str:
        return self.keys.key(self.name, "checkpoints")

    def ensure(self, tables: Iterable[Table]) -> None:
        for t in tables:
            self._tables[t.name] = t

    def atomically(self, name: str, body: Callable[[StoreTx], T]) -> T:
        import redis

        watched = [self._checkpoints_key, *(self._rows_key(t) for t in self._tables.values())]
        for _ in range(self.MAX_RETRIES):
            with infra.redis_errors(action="update the read model on"), \
                    self.client.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(*watched)
                    self._local.reader = pipe  # reads run immediately while watching
                    tx = StoreTx(self, name, self._read_checkpoint(pipe, name))
                    result = body(tx)
                    old = {tk: self._load(tk[0], tk[1]) for tk in tx.pending}
                    self._local.reader = None
                    pipe.multi()
                    for (table, key), row in tx.pending.items():
                        self._queue_write(pipe, table, key, old[(table, key)], row)
                    self._inject("rows-written")
                    if tx.new_checkpoint is not None:
                        cp = tx.new_checkpoint
                        pipe.hset(self._checkpoints_key, name,
                                  json.dumps({"position": cp.position, "applied_at": cp.applied_at}))
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue
                finally:
                    self._local.reader = None
        raise RuntimeError(f"projector {name!r}: {self.MAX_RETRIES} conflicting concurrent writes in a row")

    def _queue_write(self, pipe: Any, table: Table, key: str, old: dict[str, Any] | None,
                     row: dict[str, Any] | None) -> None:
        for col in table.indexes:
            if old is not None and (row is None or row[col] != old[col]):
                pipe.srem(self._index_key(table, col, old[col]), key)
            if row is not None:
                pipe.sadd(self._index_key(table, col, row[col]), key)
        if row is None:
            pipe.hdel(self._rows_key(table), key)
        else:
            pipe.hset(self._rows_key(table), key, json.dumps(row, sort_keys=True))

    def _read_checkpoint(self, reader: Any, name: str) -> Checkpoint:
        with infra.redis_errors(action="read a checkpoint from"):
            raw = reader.hget(self._checkpoints_key, name)
        if raw is None:
            return Checkpoint()
        data = json.loads(raw)
        return Checkpoint(data["position"], data["applied_at"])

    def checkpoint(self, name: str) -> Checkpoint:
        return self._read_checkpoint(self.client, name)

    def rows(self, table: Table) -> dict[str, dict[str, Any]]:
        with infra.redis_errors(action="read the read model from"):
            raw = self.client.hgetall(self._rows_key(table))
        decoded = {k.decode() if isinstance(k, bytes) else k: json.loads(v) for k, v in raw.items()}
        return {k: decoded[k] for k in sorted(decoded)}

    def _load(self, table: Table, key: str) -> dict[str, Any] | None:
        with infra.redis_errors(action="read the read model from"):
            raw = self._reader.hget(self._rows_key(table), key)
        return json.loads(raw) if raw is not None else None

    def _find_keys(self, table: Table, column: str, value: Any) -> list[str]:
        with infra.redis_errors(action="read the read model from"):
            members = self._reader.smembers(self._index_key(table, column, value))
        return sorted(m.decode() if isinstance(m, bytes) else m for m in members)

    def clear(self) -> int:
        """Delete this store's keys and nothing else (glob characters in the prefix are escaped);
        returns how many were deleted. Other stores, namespaces and learners are untouched."""
        pattern = glob_escape(self.keys.key(self.name)) + ":*"
        deleted = 0
        with infra.redis_errors(action="clear the read model on"):
            batch: list[Any] = []
            for key in self.client.scan_iter(match=pattern, count=500):
                batch.append(key)
                if len(batch) >= 500:
                    deleted += int(self.client.delete(*batch))
                    batch.clear()
            if batch:
                deleted += int(self.client.delete(*batch))
        return deleted
