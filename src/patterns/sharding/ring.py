"""A consistent-hash ring with virtual nodes (Karger et al. 1997; Dynamo and Cassandra style).

Each node is hashed onto a 64-bit circle at ``vnodes`` points; a key belongs to the first point
clockwise from the key's hash. Adding a node only takes over arcs ending at its new points, so keys
move only *to* the new node (about ``1/(n+1)`` of them); removing a node hands only *its* keys to
the neighbours. More virtual nodes make the arcs, and so the load, more even: the spread of a
node's share shrinks roughly like ``1/sqrt(vnodes)``.

How a lookup stays fast: the definition is a binary search (``bisect``) over the sorted points.
The ring also keeps a *slot table*: the circle cut into ``2**k`` equal slots (about 16 per point,
at most a million), each slot holding its owner's index when no point falls inside it. A lookup
reads the slot of the hash's top ``k`` bits; only the few slots that contain a point fall back to
the binary search. Same answer, one array index instead of ~17 comparisons for most keys. The
table is a compact ``array`` of 1- or 2-byte indices, so even a large ring's table stays in the
CPU cache.

Thread-safe: ``add``/``remove`` build a new table and swap it in with one assignment (under a
lock), so a concurrent lookup sees either the old ring or the new one, never a mix.
"""

from __future__ import annotations

import threading
from array import array
from bisect import bisect_left as _bisect_left
from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np

from patterns._validate import require_int
from patterns.sharding.base import names_at, require_hashes, require_new_node, require_nodes
from patterns.sharding.hashing import MASK64, Key, new_str_hash, stable_hash64

__all__ = ["ConsistentHashRing", "MAX_VNODES", "MAX_POINTS"]

#: Virtual nodes per node, and points on the whole ring, accepted at most: each point costs a
#: hash at construction and about 100 bytes of memory (10**9 vnodes would never finish).
MAX_VNODES = 10_000
MAX_POINTS = 1_000_000
_MAX_SLOT_BITS = 20  # at most 2**20 slots (2 MB) however large the ring
_from_bytes = int.from_bytes


class _Table(NamedTuple):
    """One published version of the ring (replaced whole by ``add``/``remove``)."""

    points: list[int]  # sorted positions of every virtual node
    owners: list[str]  # owner of each point, plus a wrap-around entry (owner of points[0])
    nodes: tuple[str, ...]
    point_array: np.ndarray  # ``points`` as uint64, for vectorised routing
    owner_index: np.ndarray  # index in ``nodes`` of each point's owner (np.intp)
    slots: array[int]  # owner index of each slot of the circle; ``split`` where a point falls inside
    shift: int  # a hash's slot is ``hash >> shift``
    split: int  # the marker of a slot with a point inside (an index no node has)


class ConsistentHashRing:
    """``ConsistentHashRing(["a", "b", "c"], vnodes=160).node_for("user:1")``."""

    def __init__(self, nodes: Iterable[str], vnodes: int = 160) -> None:
        self._vnodes = require_int(vnodes, "vnodes", minimum=1, maximum=MAX_VNODES)
        self._nodes = list(require_nodes(nodes))
        self._check_size(len(self._nodes))
        self._node_points: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        self._rebuild()

    def _check_size(self, node_count: int) -> None:
        if node_count * self._vnodes > MAX_POINTS:
            raise ValueError(
                f"nodes x vnodes must be at most {MAX_POINTS:,} points, got {node_count} x {self._vnodes}"
            )

    @property
    def nodes(self) -> tuple[str, ...]:
        return self._table.nodes

    @property
    def vnodes(self) -> int:
        return self._vnodes

    def points(self, node: str) -> list[int]:
        """The ring positions of ``node``'s virtual nodes (the same in every process)."""
        return [stable_hash64(f"{node}#{i}") for i in range(self._vnodes)]

    def _rebuild(self) -> None:
        # Ties between two nodes' points (astronomically rare) go to the smaller node name.
        for node in self._nodes:
            if node not in self._node_points:
                self._node_points[node] = self.points(node)
        ring = sorted((p, node) for node in self._nodes for p in self._node_points[node])
        points = [p for p, _ in ring]
        owners = [node for _, node in ring]
        index = {node: i for i, node in enumerate(self._nodes)}
        point_array = np.array(points, dtype=np.uint64)
        owners_with_wrap = [*owners, owners[0]]
        owner_index = np.array([index[n] for n in owners], dtype=np.intp)
        slots, shift, split = _slot_table(point_array, owner_index, len(self._nodes))
        # One assignment publishes the whole table; ``_lookup`` repeats the fields ``node_for``
        # reads, as a plain tuple (unpacking it is cheaper than six attribute reads).
        table = _Table(
            points,
            owners_with_wrap,
            tuple(self._nodes),
            point_array,
            owner_index,
            slots,
            shift,
            split,
        )
        self._table = table
        self._lookup = (slots, shift, split, table.nodes, points, owners_with_wrap)

    def node_for(self, key: Key) -> str:
        """The node owning ``key``: the first virtual node at or clockwise after its hash."""
        slots, shift, split, nodes, points, owners = self._lookup  # read once: add/remove swap it
        if type(key) is str:  # stable_hash64(key), inlined for the common case
            h = new_str_hash()
            h.update(key.encode())
            point = _from_bytes(h.digest(), "little")
        else:
            point = stable_hash64(key)
        i = slots[point >> shift]
        if i == split:  # a virtual node lies inside this slot: search for the exact arc
            return owners[_bisect_left(points, point)]
        return nodes[i]

    def segments(self) -> list[tuple[int, str]]:
        """The owner function as pieces ``(first hash, owner)``, sorted: each piece runs to the next.

        Hashes ``0 .. points[0]`` belong to the first point's owner, ``points[i-1] + 1 .. points[i]``
        to point i's owner, and the hashes after the last point wrap around to the first owner.
        Adjacent pieces with the same owner are merged. A reshard compares two rings' pieces to find
        the hash ranges whose owner changed, without looking at a single key.
        """
        table = self._table
        pieces: list[tuple[int, str]] = [(0, table.owners[0])]
        for i in range(1, len(table.owners)):
            start = table.points[i - 1] + 1
            if start > MASK64:
                break
            owner = table.owners[i]
            if pieces[-1][0] == start:  # two points at the same position: the later arc wins
                pieces.pop()
            if pieces and pieces[-1][1] == owner:
                continue
            pieces.append((start, owner))
        return pieces

    def indices_of_hashes(self, hashes: np.ndarray) -> np.ndarray:
        """For pre-hashed keys (``uint64`` array), the index in ``nodes`` of each owner."""
        return _route(self._table, hashes)

    def owners_of_hashes(self, hashes: np.ndarray) -> np.ndarray:
        """``node_for`` for pre-hashed keys (``uint64`` array); returns node names."""
        table = self._table
        return names_at(table.nodes, _route(table, hashes))

    def add(self, node: str) -> None:
        """Add ``node``; only keys on the arcs its new points take over move (all of them to it)."""
        with self._lock:
            require_new_node(node, self._nodes)
            self._check_size(len(self._nodes) + 1)
            self._nodes.append(node)
            self._rebuild()

    def remove(self, node: str) -> None:
        """Remove ``node``; only its keys move (each to the next point clockwise)."""
        with self._lock:
            if node not in self._nodes:
                raise ValueError(f"node must be one of {self._nodes}, got unknown node {node!r}")
            if len(self._nodes) == 1:
                raise ValueError(f"nodes must keep at least 1 node, cannot remove the last one {node!r}")
            self._nodes.remove(node)
            self._rebuild()

    def copy(self) -> ConsistentHashRing:
        """An independent ring with the same nodes (to compare before/after a change)."""
        return ConsistentHashRing(self.nodes, vnodes=self._vnodes)

    def spec(self) -> dict[str, Any]:
        """A JSON-able description from which ``router_from_spec`` rebuilds the same ring."""
        return {"router": "ring", "nodes": list(self.nodes), "vnodes": self._vnodes}

    def __repr__(self) -> str:
        return f"ConsistentHashRing({list(self.nodes)!r}, vnodes={self._vnodes})"


def _slot_table(points: np.ndarray, owner_index: np.ndarray, nodes: int) -> tuple[array[int], int, int]:
    """Cut the circle into ``2**bits`` slots (about 16 per point) and name each slot's owner.

    A slot ``[lo, hi]`` has one owner for all its hashes exactly when no point lies in ``[lo, hi)``,
    i.e. when ``bisect_left`` gives the same position for ``lo`` and ``hi``. Other slots hold
    ``split`` (``nodes``, an index no node has).
    """
    bits = min(_MAX_SLOT_BITS, max(4, (16 * len(points) - 1).bit_length()))
    shift = 64 - bits
    starts = np.arange(1 << bits, dtype=np.uint64) << np.uint64(shift)
    ends = starts + np.uint64((1 << shift) - 1)
    first = np.searchsorted(points, starts, side="left")
    last = np.searchsorted(points, ends, side="left")
    with_wrap = np.append(owner_index, owner_index[0])  # past the last point: the first point's owner
    named = np.where(first == last, with_wrap[first], nodes)
    # the smallest entries that hold every index and the marker: 1 byte up to 254 nodes, then 2, then 4
    typecode, dtype = ("B", np.uint8) if nodes < 0xFF else ("H", np.uint16) if nodes < 0xFFFF else ("I", np.uint32)
    return array(typecode, named.astype(dtype).tobytes()), shift, nodes


def _route(table: _Table, hashes: np.ndarray) -> np.ndarray:
    """Owner indices (``np.intp``) for ``hashes`` on one published ring table."""
    wanted = np.array(require_hashes(hashes), dtype=np.uint64, ndmin=1)
    i = np.searchsorted(table.point_array, wanted, side="left")
    i[i == len(table.points)] = 0
    owners: np.ndarray = table.owner_index[i]
    return owners
