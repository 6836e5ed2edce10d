"""The durable half of resharding: router specs, the changed ranges, and the migration log.

A reshard that lives only in memory is lost with the process: after a crash nobody knows that some
keys sit on their old shard, some on their new one, and that one shard file is about to be dropped.
So ``ShardedStore`` writes down, in a small SQLite *catalog* next to the shard files:

* the **layout**: which router places the rows (as a spec such as
  ``{"router": "ring", "nodes": ["s0", "s1"], "vnodes": 160}``) and the columns;
* during a reshard, the **plan** (the target router, how many rows moved from where to where) and
  the **moves still to do**, one row per key ``(src, dst, hash, key)``, deleted as keys finish.

The plan and its moves are written in one transaction before the first row is copied, and the
layout switches to the target in one transaction after the last one: so after a crash at any
instant the catalog says either "no reshard", or "this reshard, these keys left".

Finding the keys to move without reading every key: a ring (and a range router) can describe its
owner function as sorted pieces ``(first hash or key, owner)``. Comparing two routers' pieces gives
the ranges whose owner changed (``changed_ranges``); shards store rows in hash order, so each
range is one contiguous read. The cost is proportional to the keys that move, not to all keys. Other routers (modulo,
jump, rendezvous) scatter their moves across the whole hash space, so the store scans the
shard's hashes instead (vectorised, about 0.1 µs per key).
"""

from __future__ import annotations

import heapq
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from patterns._validate import require_mapping
from patterns.sharding.base import Router
from patterns.storage import sqlite_errors, transaction

__all__ = [
    "router_spec",
    "router_from_spec",
    "same_router",
    "spec_text",
    "router_pieces",
    "changed_ranges",
    "Layout",
    "Plan",
    "MigrationLog",
    "CATALOG_FILE",
    "Move",
]

CATALOG_FILE = "_catalog.sqlite"  # node names cannot start with "_", so no shard can collide
Move = tuple[str, str, int, str]  # (src, dst, stored hash, key)


# -- router specs ---------------------------------------------------------------------------------
def router_spec(router: Router) -> dict[str, Any] | None:
    """The router's ``spec()`` (JSON-able), or None for a router that cannot describe itself."""
    spec = getattr(router, "spec", None)
    return spec() if callable(spec) else None


def router_from_spec(spec: dict[str, Any]) -> Router:
    """Rebuild a router from its spec (the package's five routers)."""
    from patterns.sharding.rendezvous import Rendezvous
    from patterns.sharding.ring import ConsistentHashRing
    from patterns.sharding.routers import JumpRouter, ModuloRouter, RangeRouter

    require_mapping(spec, "spec")
    kind = spec.get("router")
    if kind == "ring":
        return ConsistentHashRing(spec["nodes"], vnodes=spec["vnodes"])
    if kind == "modulo":
        return ModuloRouter(spec["nodes"])
    if kind == "jump":
        return JumpRouter(spec["nodes"])
    if kind == "rendezvous":
        return Rendezvous(spec["nodes"], weights=spec["weights"])
    if kind == "range":
        return RangeRouter([tuple(pair) for pair in spec["bounds"]])
    raise ValueError(f"spec must describe one of the package's routers, got {spec!r}")


def spec_text(spec: dict[str, Any] | None) -> str | None:
    """A spec as canonical JSON text (sorted keys): equal texts, equal routers."""
    return None if spec is None else json.dumps(spec, sort_keys=True)


def same_router(a: Router, b: Router) -> bool:
    """Whether two routers place every key alike: equal specs (or the very same object)."""
    if a is b:
        return True
    spec_a, spec_b = router_spec(a), router_spec(b)
    return spec_a is not None and spec_text(spec_a) == spec_text(spec_b)


# -- the ranges whose owner changes ---------------------------------------------------------------
def router_pieces(router: Router) -> tuple[str, list[tuple[Any, str | None]]] | None:
    """``(domain, pieces)`` for routers whose owner is piecewise constant, else None.

    The domain is ``"hash"`` (pieces over ``stable_hash64(key)``, starting at 0) or ``"key"`` (over
    the key itself, starting at ``""``; keys below a range router's first bound have owner None).
    """
    from patterns.sharding.ring import ConsistentHashRing
    from patterns.sharding.routers import RangeRouter

    if isinstance(router, ConsistentHashRing):
        return "hash", list(router.segments())
    if isinstance(router, RangeRouter) and all(isinstance(b, str) for b, _ in router.bounds):
        pieces: list[tuple[Any, str | None]] = list(router.bounds)
        if pieces[0][0] != "":
            pieces.insert(0, ("", None))
        return "key", pieces
    return None


def changed_ranges(
    old: Sequence[tuple[Any, str | None]], new: Sequence[tuple[Any, str | None]]
) -> list[tuple[Any, Any | None, str | None, str | None]]:
    """Half-open ranges ``[start, end)`` (``end`` None: to the end) whose owner differs.

    Both inputs are sorted pieces ``(start, owner)`` over the same domain, each starting at the
    domain's minimum. Returns ``(start, end, old_owner, new_owner)``, adjacent ranges with the same
    pair of owners merged.
    """
    events = heapq.merge(((s, 0, o) for s, o in old), ((s, 1, o) for s, o in new), key=lambda e: e[:2])
    owners: list[str | None] = [None, None]
    bounds: list[tuple[Any, str | None, str | None]] = []  # (start, old owner, new owner)
    for start, side, owner in events:
        owners[side] = owner
        if bounds and bounds[-1][0] == start:
            bounds.pop()  # several pieces start here: keep the state after all of them
        bounds.append((start, owners[0], owners[1]))
    changed: list[tuple[Any, Any | None, str | None, str | None]] = []
    for i, (start, was, becomes) in enumerate(bounds):
        end = bounds[i + 1][0] if i + 1 < len(bounds) else None
        if was == becomes:
            continue
        if changed and changed[-1][1] == start and changed[-1][2:] == (was, becomes):
            changed[-1] = (changed[-1][0], end, was, becomes)
        else:
            changed.append((start, end, was, becomes))
    return changed


# -- the catalog ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Layout:
    """How the rows are placed: the router (spec, or None if it has none), shards and columns."""

    router: dict[str, Any] | None
    nodes: tuple[str, ...]
    columns: dict[str, str]  # column -> type name ("str", "int", "float", "bytes")


@dataclass(frozen=True)
class Plan:
    """A reshard in progress: the target, where rows were, and what the plan moves."""

    router: dict[str, Any] | None
    nodes: tuple[str, ...]
    sources: tuple[str, ...]  # every shard that held rows when the plan was made
    total: int  # rows in the store when the plan was made
    routes: dict[tuple[str, str], int]  # (src, dst) -> keys planned to move


_SCHEMA = """
CREATE TABLE IF NOT EXISTS layout (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    router TEXT,
    nodes TEXT NOT NULL,
    columns TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS migration (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    router TEXT,
    nodes TEXT NOT NULL,
    sources TEXT NOT NULL,
    total INTEGER NOT NULL,
    routes TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS moves (
    src TEXT NOT NULL,
    dst TEXT NOT NULL,
    hash INTEGER NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (src, dst, hash, key)
) WITHOUT ROWID;
"""


class MigrationLog:
    """The catalog file: the layout, and the plan and remaining moves of a reshard in progress."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        with sqlite_errors(self._conn):
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL: a commit survives a process crash
            self._conn.executescript(_SCHEMA)

    def layout(self) -> Layout | None:
        row = self._conn.execute("SELECT router, nodes, columns FROM layout").fetchone()
        if row is None:
            return None
        return Layout(_load(row[0]), tuple(json.loads(row[1])), json.loads(row[2]))

    def create(self, layout: Layout) -> None:
        with transaction(self._conn):
            self._conn.execute(
                "INSERT INTO layout (id, router, nodes, columns) VALUES (1, ?, ?, ?)",
                (spec_text(layout.router), json.dumps(list(layout.nodes)), json.dumps(layout.columns)),
            )

    def plan(self) -> Plan | None:
        row = self._conn.execute("SELECT router, nodes, sources, total, routes FROM migration").fetchone()
        if row is None:
            return None
        routes = {(src, dst): count for src, dst, count in json.loads(row[4])}
        return Plan(_load(row[0]), tuple(json.loads(row[1])), tuple(json.loads(row[2])), row[3], routes)

    def start(self, plan: Plan, moves: Iterable[Move]) -> None:
        """Record the plan and every ``(src, dst, hash, key)`` move in one transaction."""
        with transaction(self._conn):
            self._conn.execute(
                "INSERT INTO migration (id, router, nodes, sources, total, routes) VALUES (1, ?, ?, ?, ?, ?)",
                (
                    spec_text(plan.router),
                    json.dumps(list(plan.nodes)),
                    json.dumps(list(plan.sources)),
                    plan.total,
                    json.dumps([[src, dst, n] for (src, dst), n in plan.routes.items()]),
                ),
            )
            self._conn.executemany("INSERT INTO moves (src, dst, hash, key) VALUES (?, ?, ?, ?)", moves)

    def pending(self, limit: int) -> list[Move]:
        """Up to ``limit`` moves still to do, ``(src, dst, hash, key)``, route by route, in hash order."""
        return self._conn.execute(
            "SELECT src, dst, hash, key FROM moves ORDER BY src, dst, hash, key LIMIT ?", (limit,)
        ).fetchall()

    def remaining(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM moves").fetchone()[0])

    def done(self, src: str, dst: str, first: tuple[int, str], last: tuple[int, str]) -> None:
        """The moves of one route from ``first`` to ``last`` (consecutive in ``pending``) are done."""
        with transaction(self._conn):
            self._conn.execute(
                "DELETE FROM moves WHERE src = ? AND dst = ? AND (hash, key) BETWEEN (?, ?) AND (?, ?)",
                (src, dst, *first, *last),
            )

    def finish(self, layout: Layout) -> None:
        """Switch to the new layout and forget the plan, in one transaction."""
        with transaction(self._conn):
            self._conn.execute(
                "UPDATE layout SET router = ?, nodes = ? WHERE id = 1",
                (spec_text(layout.router), json.dumps(list(layout.nodes))),
            )
            self._conn.execute("DELETE FROM migration")
            self._conn.execute("DELETE FROM moves")

    def close(self) -> None:
        self._conn.close()


def _load(text: str | None) -> dict[str, Any] | None:
    return None if text is None else dict(json.loads(text))
