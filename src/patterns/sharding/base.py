"""What every router shares: the ``Router`` protocol, node-list validation, bulk routing.

A router answers one question, "which node owns this key?", and must answer it the same way in
every process. Routers whose answer depends only on the key's 64-bit hash also offer
``owners_of_hashes`` (node names) and ``indices_of_hashes`` (positions in ``nodes``), vectorised
with numpy, so labs and tests can route a million keys quickly.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from patterns._validate import require_instance, require_text
from patterns.sharding.hashing import MASK64, Key, hash_keys

__all__ = [
    "Router",
    "HashRouter",
    "MAX_NODES",
    "require_nodes",
    "require_new_node",
    "require_hashes",
    "names_at",
    "owners",
    "load",
    "moved_fraction",
]


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


MAX_NODES = 100_000  # shards a router accepts (real clusters have tens to thousands)


def require_nodes(nodes: object, name: str = "nodes") -> tuple[str, ...]:
    """A non-empty sequence of distinct, non-empty node names (at most ``MAX_NODES``)."""
    if isinstance(nodes, (str, bytes)) or not isinstance(nodes, Iterable) or isinstance(nodes, Mapping):
        raise TypeError(f"{name} must be a sequence of node names (str), got {type(nodes).__name__}")
    result = tuple(itertools.islice(iter(nodes), MAX_NODES + 1))
    if not result:
        raise ValueError(f"{name} must hold at least 1 node, got an empty list")
    if len(result) > MAX_NODES:
        raise ValueError(f"{name} must hold at most {MAX_NODES:,} nodes, got more")
    for node in result:
        require_text(node, f"{name}: each node name", max_length=200)
    duplicates = sorted(n for n, c in Counter(result).items() if c > 1)
    if duplicates:
        raise ValueError(f"{name} must be distinct, got duplicate node(s) {duplicates}")
    return result


def require_new_node(node: object, existing: Sequence[str]) -> str:
    """A node name about to be added to ``existing``."""
    name = require_text(node, "node", max_length=200)
    if name in existing:
        raise ValueError(f"node must not already be present, got duplicate node {name!r}")
    if len(existing) >= MAX_NODES:
        raise ValueError(f"nodes must hold at most {MAX_NODES:,} nodes")
    return name


def require_hashes(hashes: object, name: str = "hashes") -> np.ndarray:
    """Pre-hashed keys as a ``uint64`` array: a uint64 array, or integers in ``[0, 2**64)``."""
    if isinstance(hashes, np.ndarray) and hashes.dtype == np.uint64:
        return hashes
    if isinstance(hashes, (str, bytes, Mapping)) or not isinstance(hashes, (Sequence, np.ndarray, int)):
        raise TypeError(f"{name} must be a uint64 array (or integers in [0, 2**64)), got {type(hashes).__name__}")
    array = np.asarray(hashes, dtype=object) if not isinstance(hashes, np.ndarray) else hashes
    if array.dtype.kind not in "iuO":
        raise TypeError(f"{name} must hold integers (stable_hash64 values), got dtype {array.dtype}")
    values = array.ravel().tolist()
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must hold integers (stable_hash64 values), got {type(value).__name__}")
        if not 0 <= value <= MASK64:
            raise ValueError(f"{name} must hold integers in [0, 2**64), got {value}")
    return np.array(values, dtype=np.uint64).reshape(array.shape)


def names_at(nodes: Sequence[str], indices: np.ndarray) -> np.ndarray:
    """Node names for an array of node indices (what ``owners_of_hashes`` returns)."""
    names: np.ndarray = np.array(nodes, dtype=object)[indices]
    return names


def owners(router: Router, keys: Sequence[Key]) -> np.ndarray:
    """The owner of every key, as an array of node names (vectorised when the router allows it)."""
    router = require_instance(router, "router", Router, what="a router (.nodes and .node_for(key))")
    keys = _require_keys(keys)
    if isinstance(router, HashRouter):
        return router.owners_of_hashes(hash_keys(keys))
    return np.array([router.node_for(k) for k in keys], dtype=object)


def load(router: Router, keys: Sequence[Key] | np.ndarray) -> dict[str, int]:
    """How many keys each node owns (every node listed, zeros included).

    ``keys`` may also be a ``uint64`` array of pre-hashed keys for a ``HashRouter``.
    """
    router = require_instance(router, "router", Router, what="a router (.nodes and .node_for(key))")
    if isinstance(keys, np.ndarray) and keys.dtype == np.uint64:
        if not isinstance(router, HashRouter):
            raise TypeError(f"router must route hashes to take pre-hashed keys, got {type(router).__name__}")
        indices = np.asarray(router.indices_of_hashes(keys), dtype=np.intp)  # bincount needs np.intp
        counts = np.bincount(indices, minlength=len(router.nodes))
        return dict(zip(router.nodes, counts.tolist(), strict=True))
    found = Counter(owners(router, _require_keys(keys)).tolist())
    return {node: found.get(node, 0) for node in router.nodes}


def moved_fraction(before: np.ndarray, after: np.ndarray) -> float:
    """Fraction of keys whose owner differs between two ``owners`` arrays."""
    for name, value in (("before", before), ("after", after)):
        if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
            raise TypeError(f"{name} must be an array of owners (from owners()), got {type(value).__name__}")
    if len(before) != len(after):
        raise ValueError(f"before and after must have the same length, got {len(before)} and {len(after)}")
    if len(before) == 0:
        return 0.0
    return float(np.mean(np.asarray(before) != np.asarray(after)))


def _require_keys(keys: object) -> Sequence[Key]:
    if isinstance(keys, (str, bytes, Mapping)) or not isinstance(keys, (Sequence, np.ndarray)):
        raise TypeError(f"keys must be a sequence of keys (str, bytes or int), got {type(keys).__name__}")
    return keys  # type: ignore[return-value]
