"""Rendezvous (highest-random-weight) hashing (Thaler & Ravishankar, 1998).

Every node scores every key with a hash of the pair; the highest score wins. No ring, no table:
adding a node moves only the keys the new node now wins (about ``1/(n+1)``), removing one moves
only its keys, and the runner-up gives a natural replica order. The cost is ``O(n)`` per lookup,
which is fine for tens of nodes.

Weights use the logarithmic method (as in Ceph's straw2): score = ``weight / -ln(u)`` with ``u``
uniform in (0, 1) from the pair's hash, which gives each node a share proportional to its weight.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from patterns._validate import require_mapping, require_number
from patterns.sharding.base import names_at, require_hashes, require_new_node, require_nodes
from patterns.sharding.hashing import Key, mix64, mix64_array, stable_hash64

__all__ = ["Rendezvous", "MAX_WEIGHT"]

_TWO_53 = float(1 << 53)


MAX_WEIGHT = 1e9  # a node's weight relative to others (1e9 times a weight-1 node is plenty)


def _require_weight(node: str, weight: object) -> float:
    return require_number(weight, f"weights[{node!r}]", minimum=0.0, maximum=MAX_WEIGHT, strict_min=True)


class Rendezvous:
    """``Rendezvous(["a", "b", "c"], weights={"a": 2}).node_for("user:1")``; unlisted weights are 1."""

    def __init__(self, nodes: Iterable[str], weights: Mapping[str, float] | None = None) -> None:
        self._nodes = list(require_nodes(nodes))
        given = {} if weights is None else require_mapping(weights, "weights (node -> weight)")
        unknown = sorted(repr(n) for n in set(given) - set(self._nodes))
        if unknown:
            raise ValueError(f"weights must only name nodes in nodes, got unknown node(s) {', '.join(unknown)}")
        self._weights = {n: _require_weight(n, given.get(n, 1.0)) for n in self._nodes}
        self._refresh()

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(self._nodes)

    @property
    def weights(self) -> dict[str, float]:
        return dict(self._weights)

    def _refresh(self) -> None:
        self._seeds = [stable_hash64(f"node:{n}") for n in self._nodes]
        self._w = [self._weights[n] for n in self._nodes]
        self._weighted = len(set(self._w)) > 1

    def _score(self, h: int, i: int) -> float | int:
        z = mix64(h ^ self._seeds[i])
        if not self._weighted:
            return z
        u = ((z >> 11) + 0.5) / _TWO_53  # strictly inside (0, 1)
        return self._w[i] / -math.log(u)

    def node_for(self, key: Key) -> str:
        """The node with the highest score for ``key`` (the first such node on an exact tie)."""
        h = stable_hash64(key)
        best, best_score = 0, self._score(h, 0)
        for i in range(1, len(self._nodes)):
            s = self._score(h, i)
            if s > best_score:
                best, best_score = i, s
        return self._nodes[best]

    def ranking(self, key: Key) -> list[str]:
        """All nodes, best first: the owner, then where its replicas (or its fallback) go."""
        h = stable_hash64(key)
        order = sorted(range(len(self._nodes)), key=lambda i: self._score(h, i), reverse=True)
        return [self._nodes[i] for i in order]

    def owners_of_hashes(self, hashes: np.ndarray) -> np.ndarray:
        """``node_for`` for pre-hashed keys (``uint64`` array); returns node names."""
        return names_at(self._nodes, self.indices_of_hashes(hashes))

    def indices_of_hashes(self, hashes: np.ndarray) -> np.ndarray:
        """For pre-hashed keys (``uint64`` array), the index in ``nodes`` of each owner."""
        h = np.array(require_hashes(hashes), dtype=np.uint64, ndmin=1)
        z = np.stack([mix64_array(h ^ np.uint64(seed)) for seed in self._seeds], axis=1)
        if self._weighted:
            u = ((z >> np.uint64(11)).astype(np.float64) + 0.5) / _TWO_53
            scores = np.array(self._w) / -np.log(u)
        else:
            scores = z
        best: np.ndarray = np.argmax(scores, axis=1).astype(np.intp)
        return best

    def add(self, node: str, weight: float = 1.0) -> None:
        """Add ``node``; only keys it now wins move, all of them to it."""
        self._nodes.append(require_new_node(node, self._nodes))
        self._weights[node] = _require_weight(node, weight)
        self._refresh()

    def remove(self, node: str) -> None:
        """Remove ``node``; only its keys move, each to its runner-up."""
        if node not in self._nodes:
            raise ValueError(f"node must be one of {self._nodes}, got unknown node {node!r}")
        if len(self._nodes) == 1:
            raise ValueError(f"nodes must keep at least 1 node, cannot remove the last one {node!r}")
        self._nodes.remove(node)
        del self._weights[node]
        self._refresh()

    def copy(self) -> Rendezvous:
        return Rendezvous(self._nodes, self._weights)

    def spec(self) -> dict[str, Any]:
        """A JSON-able description (see ``patterns.sharding.migration.router_from_spec``)."""
        return {"router": "rendezvous", "nodes": list(self._nodes), "weights": dict(self._weights)}

    def __repr__(self) -> str:
        return f"Rendezvous({self._nodes!r}, weights={self._weights!r})"
