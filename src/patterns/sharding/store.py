"""A sharded key-value store on SQLite: one file per shard, scatter-gather, online resharding.

``ShardedStore(router, directory)`` keeps ``<node>.sqlite`` per shard (``patterns.sharding.shard``)
plus ``_catalog.sqlite`` with the layout and the migration log (``patterns.sharding.migration``).
``put``/``get``/``delete`` touch the owner of the key; ``query`` scatters SQL to every shard and
merges; ``reshard(new_router)`` moves exactly the rows whose owner changed, which is why the choice
of router decides how painful adding a shard is.

**Online resharding, and the rule while it runs.** ``begin_reshard(new_router)`` writes the plan
(every key to move, with its source and destination) to the migration log in one transaction;
``migrate(max_keys)`` then moves keys in batches, each batch in three commits: *copy* the rows to
the destination, *delete* them from the source, *forget* them in the log. Between batches the store
keeps serving, by one rule:

* **write to the new owner**, with a version above any copy the old owner still holds, then delete
  the old copy; a delete removes the old copy first, then the new one;
* **read the new owner, then the old one**;
* a copy **never overwrites a newer version**: every row carries ``_version`` (+1 per write of the
  key), and a copy replaces a destination row only if its own version is higher;
* a query asks every shard and counts a row on the old owner only if the new owner lacks the key.

``reshard`` is ``begin_reshard`` plus ``migrate()`` to the end. When the last key has moved, the
files of dropped shards are deleted, then the layout switches to the new router.

**Crashes.** A process killed at any instant leaves the catalog saying "no reshard" or "this plan,
these keys left", and every step is safe to redo (a copy found at both ends has the same version;
a source already deleted has nothing left to copy). Opening the directory again finishes an
interrupted reshard before anything else, including draining a dropped shard's file. A store then
refuses a router other than the one its rows are placed by (``ShardedStore.open(directory)`` uses
the recorded one) instead of silently looking for rows in the wrong files.

Cost: planning a ring or range reshard reads only the changed ranges, so it is proportional to
the moved keys; other routers scan each shard's hashes once. One process owns a directory at a
time. Safe to share between threads (one lock, released between migration batches).
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Any

import numpy as np

from patterns._validate import require_instance, require_int, require_mapping
from patterns.sharding.base import HashRouter, Router
from patterns.sharding.hashing import hash_keys, stable_hash64
from patterns.sharding.migration import (
    CATALOG_FILE,
    Layout,
    MigrationLog,
    Move,
    Plan,
    changed_ranges,
    router_from_spec,
    router_pieces,
    router_spec,
    same_router,
    spec_text,
)
from patterns.sharding.shard import HASH_OFFSET, TABLE, Ident, Shard, require_columns, require_value

__all__ = ["ShardedStore", "QueryResult", "ReshardReport", "BATCH"]

_SAFE_NODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_TYPE_NAMES: dict[str, type] = {"str": str, "int": int, "float": float, "bytes": bytes}
BATCH = 2000  # keys moved per migration batch


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


def _ident(key: str) -> Ident:
    return stable_hash64(key) - HASH_OFFSET, key


class ShardedStore:
    """``ShardedStore(router, directory, columns={"name": str, "age": int})``; keys are strings."""

    def __init__(
        self,
        router: Router,
        directory: str | os.PathLike[str],
        columns: Mapping[str, type] | None = None,
    ) -> None:
        router = _check_router(router)
        self._dir = _check_directory(directory)
        wanted = None if columns is None else require_columns(columns)
        self._lock = threading.RLock()
        self._shards: dict[str, Shard] = {}
        self.shard_queries: Counter[str] = Counter()  # how many statements each shard has served
        if not (self._dir / CATALOG_FILE).exists():
            strays = sorted(n for n in router.nodes if self.path_of(n).exists())
            if strays:
                raise ValueError(f"directory holds shard files {strays} but no {CATALOG_FILE}: "
                                 "not a ShardedStore directory (or one from an older version)")
        self._catalog = MigrationLog(self._dir / CATALOG_FILE)
        layout = self._catalog.layout()
        if layout is None:  # a new store
            self._columns = wanted if wanted is not None else {"value": str}
            self._catalog.create(Layout(router_spec(router), router.nodes, _type_names(self._columns)))
            self._router: Router = router
            self._target: Router | None = None
        else:
            self._columns = {c: _TYPE_NAMES[t] for c, t in layout.columns.items()}
            if wanted is not None and wanted != self._columns:
                self._catalog.close()
                raise ValueError(f"columns must match the store's columns {layout.columns}, "
                                 f"got {_type_names(wanted)}")
            self._recover(layout, router)
        for node in self._router.nodes:
            self._shard(node)

    @classmethod
    def open(cls, directory: str | os.PathLike[str]) -> ShardedStore:
        """Reopen an existing store with the router and columns recorded in its catalog."""
        path = _check_directory(directory)
        if not (path / CATALOG_FILE).exists():
            raise ValueError(f"directory must hold a ShardedStore ({CATALOG_FILE}), got {os.fspath(directory)!r}")
        catalog = MigrationLog(path / CATALOG_FILE)
        try:
            layout, plan = catalog.layout(), catalog.plan()
        finally:
            catalog.close()
        spec = plan.router if plan is not None else layout.router if layout is not None else None
        if spec is None:
            raise ValueError("this store's router has no spec(): open it with ShardedStore(router, directory)")
        return cls(router_from_spec(spec), path)

    def _recover(self, layout: Layout, router: Router) -> None:
        """Insist on the router the rows are (being) placed by; finish an interrupted reshard."""
        plan = self._catalog.plan()
        spec, nodes = (plan.router, plan.nodes) if plan is not None else (layout.router, layout.nodes)
        if spec is not None:
            matches = spec_text(router_spec(router)) == spec_text(spec)
        else:  # a router without a spec: trust any router over the same shards
            matches = set(router.nodes) == set(nodes)
        if not matches:
            self._catalog.close()
            expected = repr(router_from_spec(spec)) if spec is not None else f"a router over {list(nodes)}"
            what = "the target of the interrupted reshard" if plan is not None else "the store's router"
            raise ValueError(
                f"router must be {what}, {expected}; got {router!r}. Reopen the store with "
                "ShardedStore.open(directory), then call reshard() to change its router."
            )
        self._router, self._target = router, None
        if plan is not None:
            self._target = router
            self._migrate_all(plan)

    # -- plumbing ---------------------------------------------------------------------------------
    @property
    def router(self) -> Router:
        return self._router

    @property
    def migrating(self) -> bool:
        """True while a reshard has started and not finished (e.g. after an error mid-way)."""
        return self._target is not None

    @property
    def pending_moves(self) -> int:
        """Keys the reshard in progress has still to move (0 when not migrating)."""
        with self._lock:
            return self._catalog.remaining() if self._target is not None else 0

    @property
    def columns(self) -> dict[str, type]:
        return dict(self._columns)

    def path_of(self, node: str) -> Path:
        return self._dir / f"{node}.sqlite"

    def _shard(self, node: str) -> Shard:
        shard = self._shards.get(node)
        if shard is None:
            shard = self._shards[node] = Shard(self.path_of(node), node, self._columns, self.shard_queries)
        return shard

    def _existing(self, node: str) -> Shard | None:
        """The shard if its file exists (a dropped shard's file is gone once drained)."""
        return self._shard(node) if node in self._shards or self.path_of(node).exists() else None

    def _homes(self, key: str) -> tuple[str, str | None]:
        """Where ``key`` belongs now, and where an older copy may still sit during a migration."""
        if self._target is None:
            return self._router.node_for(key), None
        new, old = self._target.node_for(key), self._router.node_for(key)
        return new, (old if old != new else None)

    def _check_record(self, key: object, record: object) -> dict[str, Any]:
        if not isinstance(key, str):
            raise TypeError(f"key must be a str, got {type(key).__name__}")
        fields = require_mapping(record, "record")
        unknown = sorted(str(c) for c in set(fields) - set(self._columns))
        if unknown:
            raise ValueError(f"record columns must be among {sorted(self._columns)}, got {unknown}")
        for column, value in fields.items():
            require_value(column, value, self._columns[column])
        return dict(fields)

    def _row(self, ident: Ident, fields: Mapping[str, Any], version: int = 1) -> list[Any]:
        return [*ident, *(fields.get(c) for c in self._columns), version]

    # -- single-shard operations -------------------------------------------------------------------
    def put(self, key: str, record: Mapping[str, Any]) -> str:
        """Insert or replace ``key``'s whole row on its owner; returns the owner's name."""
        fields = self._check_record(key, record)
        ident = _ident(key)
        with self._lock:
            node, old = self._homes(key)
            version = 1
            if old is not None:  # migrating: outrank any copy on the old owner, then remove it
                version = (self._shard(old).version(ident) or 0) + 1
            self._shard(node).upsert([self._row(ident, fields, version)])
            if old is not None:
                self._shard(old).delete([ident])
            return node

    def put_many(self, items: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
        """Bulk ``put``: one transaction per shard. Returns the number of rows written."""
        if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
            raise TypeError(f"items must be an iterable of (key, record) pairs, got {type(items).__name__}")
        checked = [(item[0], self._check_record(*item)) for item in map(_pair, items)]
        if not checked:
            return 0
        hashes = hash_keys([k for k, _ in checked])
        with self._lock:
            if self._target is not None:  # rare: route row by row, removing old copies
                for key, fields in checked:
                    self.put(key, fields)
                return len(checked)
            router = self._router
            if isinstance(router, HashRouter):
                nodes = router.owners_of_hashes(hashes).tolist()
            else:
                nodes = [router.node_for(k) for k, _ in checked]
            by_node: dict[str, list[list[Any]]] = {}
            for (key, fields), h, node in zip(checked, hashes.tolist(), nodes, strict=True):
                by_node.setdefault(node, []).append(self._row((h - HASH_OFFSET, key), fields))
            for node, rows in by_node.items():
                self._shard(node).upsert(rows)
        return len(checked)

    def get(self, key: str) -> dict[str, Any] | None:
        """``key``'s record (without the key), or None. One shard (two while migrating)."""
        if not isinstance(key, str):
            raise TypeError(f"key must be a str, got {type(key).__name__}")
        ident = _ident(key)
        with self._lock:
            for node in self._homes(key):  # the owner, then (while migrating) the old owner
                if node is not None:
                    found = self._shard(node).get(ident)
                    if found is not None:
                        return found
        return None

    def delete(self, key: str) -> bool:
        """Delete ``key``; True if it existed. (While migrating: the old copy first, then the new.)"""
        if not isinstance(key, str):
            raise TypeError(f"key must be a str, got {type(key).__name__}")
        ident = _ident(key)
        with self._lock:
            new, old = self._homes(key)
            removed = self._shard(old).delete([ident]) if old is not None else 0
            return removed + self._shard(new).delete([ident]) > 0

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
        """Scatter ``select ... where <where>`` to every shard, gather, merge, then apply ``limit``.

        With ``order_by`` and ``limit`` each shard returns its own top ``limit`` rows, so the
        coordinator receives up to ``shards * limit`` rows to keep ``limit``: the fan-out cost.
        ``where`` is SQL text: write it yourself and pass every value through ``params``.
        """
        if where is not None and not isinstance(where, str):
            raise TypeError(f"where must be SQL text (str) or None, got {type(where).__name__}")
        if where is not None and ";" in where:
            raise ValueError(f"where must be one SQL expression (no ';'), got {where!r}")
        if isinstance(params, (str, bytes)) or not isinstance(params, (list, tuple, Mapping)):
            raise TypeError(f"params must be a list, tuple or mapping of values, got {type(params).__name__}")
        if order_by is not None and (not isinstance(order_by, str) or order_by != "key" and order_by not in self._columns):
            raise ValueError(f"order_by must be 'key' or one of {sorted(self._columns)}, got {order_by!r}")
        if limit is not None:
            limit = require_int(limit, "limit", minimum=0)
        names = ["key", *self._columns]
        sql = f"SELECT _hash, {', '.join(names)} FROM {TABLE}"
        if where:
            sql += f" WHERE {where}"
        if order_by:
            sql += f" ORDER BY {order_by} {'DESC' if descending else 'ASC'}, key"
        else:
            sql += " ORDER BY key"
        if limit is not None:
            sql += f" LIMIT {limit}"
        gathered: list[dict[str, Any]] = []
        with self._lock:
            nodes = list(self._shards) if self._target is not None else list(self._router.nodes)
            for node in nodes:
                try:
                    found = self._shard(node).run(sql, params)
                except (sqlite3.OperationalError, sqlite3.ProgrammingError, sqlite3.InterfaceError) as exc:
                    raise ValueError(f"where and params must make valid SQL for {sql!r}: {exc}") from None
                if self._target is not None:
                    found = [r for r in found if self._is_live_copy((r[0], r[1]), node)]
                gathered.extend(dict(zip(names, r[1:], strict=True)) for r in found)
        transferred = len(gathered)
        gathered.sort(key=lambda r: r["key"])
        if order_by:  # stable sorts: ties stay in key order; NULLs first ascending, as in SQLite
            gathered.sort(key=lambda r: (r[order_by] is not None, r[order_by]), reverse=descending)
        if limit is not None:
            gathered = gathered[:limit]
        return QueryResult(gathered, len(nodes), transferred)

    def _is_live_copy(self, ident: Ident, node: str) -> bool:
        """While migrating, a row on ``node`` counts unless its new owner already holds the key."""
        owner = self._homes(ident[1])[0]
        return owner == node or not self._shard(owner).has(ident)

    def count(self) -> int:
        """Rows in the store (while migrating, a key copied but not yet deleted counts once)."""
        with self._lock:
            if self._target is not None:
                return len(self.query().rows)
            return sum(self.shard_sizes().values())

    def shard_sizes(self) -> dict[str, int]:
        """Rows per shard file currently open (every node of the router, plus any not yet drained)."""
        with self._lock:
            return {node: shard.count() for node, shard in self._shards.items()}

    def keys_on(self, node: str) -> list[str]:
        """The keys physically stored in ``node``'s file, sorted."""
        with self._lock:
            if not isinstance(node, str) or node not in self._shards:
                raise ValueError(f"node must be one of {sorted(self._shards)}, got {node!r}")
            return sorted(key for _, key in self._shards[node].idents())

    # -- resharding --------------------------------------------------------------------------------
    def reshard(self, new_router: Router) -> ReshardReport:
        """Move every row whose owner under ``new_router`` differs from the shard it is on.

        Rows that stay put are not touched. Shards the new router no longer uses are emptied and
        their files deleted. If a reshard to the same router was interrupted, this finishes it.
        Returns how many rows the plan moved, out of how many.
        """
        new_router = _check_router(new_router)
        with self._lock:
            if self._target is None:
                self.begin_reshard(new_router)
            elif not same_router(new_router, self._target):
                raise ValueError("new_router must be the router of the interrupted reshard: finish that one first")
            plan = self._catalog.plan()
            assert plan is not None
            self._migrate_all(plan)
        return ReshardReport(sum(plan.routes.values()), plan.total, plan.routes)

    def begin_reshard(self, new_router: Router) -> int:
        """Plan a reshard to ``new_router`` and record it; returns how many keys will move.

        From here on the store is migrating (see the rule in the module docstring) until
        ``migrate`` has moved every planned key.
        """
        new_router = _check_router(new_router)
        with self._lock:
            if self._target is not None:
                raise ValueError("a reshard is already in progress: finish it with migrate() or reshard()")
            sources = list(self._router.nodes)
            total = sum(self._shard(n).count() for n in sources)
            moves = self._plan_moves(new_router, sources)
            counts = Counter((src, dst) for src, dst, _, _ in moves)
            order = {n: i for i, n in enumerate([*sources, *new_router.nodes])}
            routes = {r: counts[r] for r in sorted(counts, key=lambda r: (order[r[0]], order[r[1]]))}
            self._catalog.start(Plan(router_spec(new_router), new_router.nodes, tuple(sources), total, routes),
                                moves)
            self._target = new_router
            for node in new_router.nodes:
                self._shard(node)
            return len(moves)

    def migrate(self, max_keys: int | None = None) -> int:
        """Move up to ``max_keys`` planned keys (all if None); returns how many are still pending.

        When none are left, the reshard completes: dropped shards' files are deleted and the store
        routes by the new router. The lock is released between batches, so other threads keep
        reading and writing (by the rule in the module docstring) while a big reshard runs.
        """
        budget = None if max_keys is None else require_int(max_keys, "max_keys", minimum=1)
        while True:
            with self._lock:
                if self._target is None:
                    return 0
                moves = self._catalog.pending(BATCH if budget is None else min(BATCH, budget))
                if not moves:
                    plan = self._catalog.plan()
                    assert plan is not None
                    self._finish(plan)
                    return 0
                self._move_batch(moves)
                if budget is not None:
                    budget -= len(moves)
                    if budget <= 0:
                        return self._catalog.remaining()

    def _migrate_all(self, plan: Plan) -> None:
        for node in plan.sources:
            self._existing(node)  # a dropped shard may still hold rows to drain
        while moves := self._catalog.pending(BATCH):
            self._move_batch(moves)
        self._finish(plan)

    def _move_batch(self, moves: list[Move]) -> None:
        """Copy, delete, forget: three commits per route, each one safe to redo after a crash."""
        for (src, dst), group in groupby(moves, key=lambda m: (m[0], m[1])):
            idents = [(h, key) for _, _, h, key in group]
            source = self._existing(src)
            if source is not None:
                rows = source.rows(idents)
                if rows:
                    self._shard(dst).upsert(rows, copy=True)  # 1. copy (never over a newer version)
                    source.delete(idents)  # 2. delete from the source
            self._catalog.done(src, dst, idents[0], idents[-1])  # 3. forget them in the log

    def _finish(self, plan: Plan) -> None:
        """Every key has moved: delete dropped shards' files, then switch the layout."""
        assert self._target is not None
        for node in dict.fromkeys([*self._shards, *plan.sources]):
            shard = self._existing(node) if node not in plan.nodes else None
            if shard is None:
                continue  # kept, or already deleted before a crash
            left = shard.count()
            if left:
                raise RuntimeError(f"shard {node!r} still holds {left} rows after its reshard: not deleting it")
            shard.close()
            del self._shards[node]
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path_of(node)}{suffix}").unlink(missing_ok=True)
        self._catalog.finish(Layout(plan.router, plan.nodes, _type_names(self._columns)))
        self._router, self._target = self._target, None

    def _plan_moves(self, new_router: Router, sources: list[str]) -> list[Move]:
        """``(src, dst, hash, key)`` for every key whose owner changes: by changed ranges if possible."""
        moves: list[Move] = []
        old_pieces, new_pieces = router_pieces(self._router), router_pieces(new_router)
        if old_pieces is not None and new_pieces is not None and old_pieces[0] == new_pieces[0]:
            by_hash = old_pieces[0] == "hash"
            column, offset = ("_hash", HASH_OFFSET) if by_hash else ("key", 0)
            for start, end, src, dst in changed_ranges(old_pieces[1], new_pieces[1]):
                if src is None:
                    continue  # the old router placed no key here
                where, params = f"WHERE {column} >= ?", [start - offset if by_hash else start]
                if end is not None:
                    where += f" AND {column} < ?"
                    params.append(end - offset if by_hash else end)
                found = self._shard(src).idents(where, params)
                if found and dst is None:
                    raise ValueError(f"new_router must place every key, it cannot place {found[0][1]!r}")
                moves.extend((src, dst, h, key) for h, key in found if dst is not None)
            return moves
        for src in sources:
            found = self._shard(src).idents()
            if isinstance(new_router, HashRouter):
                hashes = np.array([h for h, _ in found], dtype=np.int64).view(np.uint64) ^ np.uint64(HASH_OFFSET)
                owners = new_router.owners_of_hashes(hashes).tolist() if found else []
            else:
                owners = [new_router.node_for(key) for _, key in found]
            moves.extend((src, dst, h, key) for (h, key), dst in zip(found, owners, strict=True) if dst != src)
        return moves

    def close(self) -> None:
        """Close every shard's connection (files stay on disk)."""
        with self._lock:
            for shard in self._shards.values():
                shard.close()
            self._shards.clear()
            self._catalog.close()

    def __enter__(self) -> ShardedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ShardedStore({self._router!r}, {os.fspath(self._dir)!r})"


def _pair(item: object) -> tuple[Any, Any]:
    if isinstance(item, (str, bytes)) or not isinstance(item, (tuple, list)) or len(item) != 2:
        raise TypeError(f"items must be (key, record) pairs, got {item!r:.80}")
    return item[0], item[1]


def _check_router(router: object) -> Router:
    checked: Router = require_instance(router, "router", Router, what="a router (.nodes and .node_for(key))")
    for node in checked.nodes:
        if not isinstance(node, str) or not _SAFE_NODE.match(node):
            raise ValueError(f"node names must match {_SAFE_NODE.pattern} to be file names, got {node!r}")
    return checked


def _check_directory(directory: object) -> Path:
    if not isinstance(directory, (str, os.PathLike)):
        raise TypeError(f"directory must be a path (str or os.PathLike), got {type(directory).__name__}")
    path = Path(directory)
    if not path.is_dir():
        raise ValueError(f"directory must be an existing directory, got {os.fspath(directory)!r}")
    return path


def _type_names(columns: Mapping[str, type]) -> dict[str, str]:
    return {c: t.__name__ for c, t in columns.items()}
