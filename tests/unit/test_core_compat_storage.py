"""patterns.compat (browser paths forced by an env var) and patterns.storage (named lock errors)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from patterns import compat, infra
from patterns.errors import StorageLocked
from patterns.storage import connection_of, database_file, transaction


def test_browser_mode_is_forced_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(compat.BROWSER_MODE_ENV, raising=False)
    assert compat.threads_available() and compat.sockets_available()
    fake = infra.redis_client(url="", fresh=True)
    assert compat.lua_available(fake)
    monkeypatch.setenv(compat.BROWSER_MODE_ENV, "1")
    assert compat.in_browser()
    assert not compat.threads_available() and not compat.sockets_available()
    assert not compat.lua_available(fake)


def test_a_locked_database_raises_storage_locked_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    holder = sqlite3.connect(path, isolation_level=None)
    waiter = sqlite3.connect(path, isolation_level=None, timeout=0.05)
    with transaction(holder), pytest.raises(StorageLocked, match="shop.db"), transaction(waiter):
        pass
    assert database_file(waiter).endswith("shop.db")


def test_transaction_rolls_back_and_refuses_nesting() -> None:
    conn = connection_of(infra.sqlite_db())
    conn.execute("CREATE TABLE t (x INTEGER)")
    with pytest.raises(ZeroDivisionError), transaction(conn):
        conn.execute("INSERT INTO t VALUES (1)")
        raise ZeroDivisionError
    assert conn.execute("SELECT COUNT(*) FROM t").fetchone() == (0,)
    with transaction(conn), pytest.raises(RuntimeError, match="already open"), transaction(conn):
        pass
    with pytest.raises(TypeError, match="db must be"):
        connection_of("not a db")
