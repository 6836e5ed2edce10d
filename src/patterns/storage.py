"""SQLite plumbing shared by every family that keeps durable state (outbox, sagas, CQRS, shards).

SQLite is the real engine for the book's databases. Two helpers keep its use honest:

* ``connection_of(db)`` accepts a ``sqlite3.Connection`` or a sqlite-utils ``Database``;
* ``transaction(conn)`` is ``BEGIN IMMEDIATE ... COMMIT`` (or ``ROLLBACK``): all or nothing, and the
  write lock is taken up front, so two writers fail fast instead of deadlocking half-way.

A database that stays locked by another connection past the busy timeout raises ``StorageLocked``
naming the file, not a bare ``sqlite3.OperationalError``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from patterns._validate import require_identifier
from patterns.errors import StorageLocked

__all__ = ["connection_of", "transaction", "sqlite_errors", "database_file", "require_sql_name"]


def connection_of(db: Any) -> sqlite3.Connection:
    """The ``sqlite3.Connection`` behind ``db`` (a connection or a sqlite-utils ``Database``)."""
    conn = getattr(db, "conn", db)
    if not isinstance(conn, sqlite3.Connection):
        raise TypeError(f"db must be a sqlite3.Connection or sqlite_utils.Database, got {type(db).__name__}")
    return conn


def database_file(conn: sqlite3.Connection) -> str:
    """The file behind ``conn`` (``':memory:'`` for an in-memory database)."""
    try:
        for _, name, path in conn.execute("PRAGMA database_list").fetchall():
            if name == "main":
                return str(path) or ":memory:"
    except sqlite3.Error:
        pass
    return "<unknown database>"


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "database is locked" in text or "database table is locked" in text or "database is busy" in text


@contextmanager
def sqlite_errors(conn: sqlite3.Connection) -> Iterator[None]:
    """Turn SQLite's "database is locked" into ``StorageLocked`` naming the file; re-raise the rest."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if _is_locked(exc):
            raise StorageLocked(
                f"SQLite database {database_file(conn)} is locked by another connection "
                f"(gave up after its busy timeout): {exc}"
            ) from exc
        raise


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK if the block raises: all or nothing."""
    if conn.in_transaction:
        raise RuntimeError(
            "a transaction is already open on this connection; nested transactions are not supported"
        )
    with sqlite_errors(conn):
        conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    with sqlite_errors(conn):
        conn.execute("COMMIT")


def require_sql_name(value: object, name: str) -> str:
    """An identifier SQLite accepts unquoted as a table and a column name, else ValueError/TypeError.

    ``select`` or ``order`` pass a plain identifier check, are accepted by ``CREATE TABLE`` when
    quoted, and then break every hand-written query: SQLite itself is asked whether the name works.
    """
    text = require_identifier(value, name)
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute(f"CREATE TABLE {text} ({text} INTEGER)")
    except sqlite3.OperationalError:
        raise ValueError(f"{name} must not be an SQL keyword, got {text!r}") from None
    finally:
        probe.close()
    return text
