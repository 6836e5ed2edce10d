"""What every router shares: the ``Router`` protocol, node-list validation, bulk routing.

A router answers one question, "which node owns this key?", and must answer it the same way in
every process. Routers whose answer depends only on the key's 64-bit hash also offer
``owners_of_hashes`` (node names) and ``indices_of_hashes`` (positions in ``nodes``), vectorised
with numpy, so labs and tests can route a million keys quickly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from patterns.sharding.hashing import Key, hash_keys

__all__ = ["Router", "HashRouter", "check_nodes", "check_new_node", "owners", "load", "moved_fraction"]


@runtime_checkable
class Router(Protocol):
    """Maps a key to the name of the node (shard) that owns it."""

    @property
    def nodes(self) -> tuple[str, ...]: ...

    def node_for(self, key: Key) -> str: ...


@runtime_checkable
class HashRouter(Router, Protocol):
    """A router whose answer depends only on ``stable_hash64(key)``."""

    def indices_of_hashes(self, hashes: np.ndarray) -> np.ndarray: ...

    def owners_of_hashes(self, hashes: np.ndarray) -> np.ndarray: ...


def check_nodes(nodes: object, name: str = "nodes") -> tuple[str, ...]:
    """Validate a node list: a non-empty sequence of distinct, non-empty strings."""
    if isinstance(nodes, (str, bytes)) or not isinstance(nodes, Iterable):
        raise TypeError(f"{name} must be a sequence of node names (str), got {type(nodes).__name__}")
    result = tuple(nodes)
    if not result:
        raise ValueError(f"{name} must hold at least 1 node, got an empty list")
    for node in result:
        if not isinstance(node, str) or not node:
            raise TypeError(f"{name} must hold non-empty strings, got {node!r}")
    duplicates = sorted(n for n, c in Counter(result).items() if c > 1)
    if duplicates:
        raise ValueError(f"{name} must be distinct, got duplicate node(s) {duplicates}")
    return result


def check_new_node(node: object, existing: Sequence[str]) -> str:
    """Validate a node about to be added to ``existing``."""
    if not isinstance(node, str) or not node:
        raise TypeError(f"node must be a non-empty string, got {node!r}")
    if node in existing:
        raise ValueError(f"node must not already be present, got duplicate node {node!r}")
    return node


def owners(router: Router, keys: Sequence[Key]) -> np.ndarray:
    """The owner of every key, as an array of node names (vectorised when the router allows it)."""
    if isinstance(router, HashRouter):
        return router.owners_of_hashes(hash_keys(keys))
    return np.array([router.node_for(k) for k in keys], dtype=object)


def load(router: Router, keys: Sequence[Key] | np.ndarray) -> dict[str, int]:
    """How many keys each node owns (every node listed, zeros included).

    ``keys`` may also be a ``uint64`` array of pre-hashed keys for a ``HashRouter``.
    """
    if isinstance(keys, np.ndarray) and keys.dtype == np.uint64:
        if not isinstance(router, HashRouter):
            raise TypeError(f"router must route hashes to take pre-hashed keys, got {type(router).__name__}")
        counts = np.bincount(router.indices_of_hashes(keys), minlength=len(router.nodes))
        return dict(zip(router.nodes, counts.tolist(), strict=True))
    found = Counter(owners(router, keys).tolist())
    return {node: found.get(node, 0) for node in router.nodes}


def moved_fraction(before: np.ndarray, after: np.ndarray) -> float:
    """Fraction of keys whose owner differs between two ``owners`` arrays."""
    if len(before) != len(after):
        raise ValueError(f"before and after must have the same length, got {len(before)} and {len(after)}")
    if len(before) == 0:
        return 0.0
    return float(np.mean(np.asarray(before) != np.asarray(after)))
