"""A consistent-hash ring with virtual nodes (Karger et al. 1997; Dynamo and Cassandra style).

Each node is hashed onto a 64-bit circle at ``vnodes`` points; a key belongs to the first point
clockwise from the key's hash. Adding a node only takes over arcs ending at its new points, so keys
move only *to* the new node (about ``1/(n+1)`` of them); removing a node hands only *its* keys to
the neighbours. More virtual nodes make the arcs, and so the load, more even: the spread of a
node's share shrinks roughly like ``1/sqrt(vnodes)``.

Thread-safe: ``add``/``remove`` build a new table and swap it in with one assignment (under a
lock), so a concurrent lookup sees either the old ring or the new one, never a mix.
"""

from __future__ import annotations

import threading
from bisect import bisect_left as _bisect_left
from collections.abc import Iterable

import numpy as np

from patterns.sharding.base import check_new_node, check_nodes
from patterns.sharding.hashing import Key, stable_hash64

__all__ = ["ConsistentHashRing"]


class ConsistentHashRing:
    """``ConsistentHashRing(["a", "b", "c"], vnodes=160).node_for("user:1")``."""

    def __init__(self, nodes: Iterable[str], vnodes: int = 160) -> None:
        if isinstance(vnodes, bool) or not isinstance(vnodes, int):
            raise TypeError(f"vnodes must be an int >= 1, got {type(vnodes).__name__}")
        if vnodes < 1:
            raise ValueError(f"vnodes must be an int >= 1, got {vnodes}")
        self._vnodes = vnodes
        self._nodes = list(check_nodes(nodes))
        self._node_points: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        self._rebuild()

    @property
    def nodes(self) -> tuple[str, ...]:
        return self._table[2]

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
        # One assignment publishes the whole table: (points, owner per point plus a wrap-around
        # entry, node names, points as an array, owner index per point).
        self._table = (
            points,
            [*owners, owners[0]],
            tuple(self._nodes),
            np.array(points, dtype=np.uint64),
            np.array([index[n] for n in owners], dtype=np.int64),
        )

    def node_for(self, key: Key) -> str:
        """The node owning ``key``: the first virtual node at or clockwise after its hash."""
        table = self._table  # read once: add/remove may swap in a new table meanwhile
        return table[1][_bisect_left(table[0], stable_hash64(key))]

    def indices_of_hashes(self, hashes: np.ndarray) -> np.ndarray:
        """For pre-hashed keys (``uint64`` array), the index in ``nodes`` of each owner."""
        return _route(self._table, hashes)

    def owners_of_hashes(self, hashes: np.ndarray) -> np.ndarray:
        """``node_for`` for pre-hashed keys (``uint64`` array); returns node names."""
        table = self._table
        return np.array(table[2], dtype=object)[_route(table, hashes)]

    def add(self, node: str) -> None:
        """Add ``node``; only keys on the arcs its new points take over move (all of them to it)."""
        with self._lock:
            self._nodes.append(check_new_node(node, self._nodes))
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

    def __repr__(self) -> str:
        return f"ConsistentHashRing({list(self.nodes)!r}, vnodes={self._vnodes})"


def _route(table: tuple, hashes: np.ndarray) -> np.ndarray:
    """Owner indices for ``hashes`` on one published ring table."""
    _, _, _, points, owner_index = table
    i = np.searchsorted(points, np.array(hashes, dtype=np.uint64, ndmin=1), side="left")
    i[i == len(points)] = 0
    return owner_index[i]
