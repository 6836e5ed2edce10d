"""The simple routers: modulo, jump-hash-by-name and key ranges.

* ``ModuloRouter``: ``hash(key) % n``. Perfectly even and trivial, but changing ``n`` moves about
  ``n/(n+1)`` of all keys: almost everything.
* ``JumpRouter``: ``jump_hash(hash(key), n)`` over a node list. Even and minimal-movement, but
  nodes can only be added or removed at the end of the list.
* ``RangeRouter``: contiguous key ranges (``A-H``, ``I-P``, ``Q-Z``). Range scans stay on one shard
  and a hot range can be split, but sequential or skewed keys pile onto one shard.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from patterns._validate import require_text
from patterns.sharding.base import MAX_NODES, names_at, require_hashes, require_new_node, require_nodes
from patterns.sharding.hashing import Key, require_key, stable_hash64
from patterns.sharding.jump import jump_hash, jump_hash_array

__all__ = ["ModuloRouter", "JumpRouter", "RangeRouter"]


class ModuloRouter:
    """``nodes[stable_hash64(key) % len(nodes)]``: the textbook ``user_id % 3``."""

    def __init__(self, nodes: Iterable[str]) -> None:
        self._nodes = require_nodes(nodes)

    @property
    def nodes(self) -> tuple[str, ...]:
        return self._nodes

    def node_for(self, key: Key) -> str:
        return self._nodes[stable_hash64(key) % len(self._nodes)]

    def indices_of_hashes(self, hashes: np.ndarray) -> np.ndarray:
        wanted = np.array(require_hashes(hashes), dtype=np.uint64, ndmin=1)
        indices: np.ndarray = (wanted % np.uint64(len(self._nodes))).astype(np.intp)
        return indices

    def owners_of_hashes(self, hashes: np.ndarray) -> np.ndarray:
        return names_at(self._nodes, self.indices_of_hashes(hashes))

    def spec(self) -> dict[str, Any]:
        """A JSON-able description (see ``patterns.sharding.migration.router_from_spec``)."""
        return {"router": "modulo", "nodes": list(self._nodes)}

    def __repr__(self) -> str:
        return f"ModuloRouter({list(self._nodes)!r})"


class JumpRouter:
    """Jump consistent hash over named nodes: ``nodes[jump_hash(stable_hash64(key), n)]``."""

    def __init__(self, nodes: Iterable[str]) -> None:
        self._nodes = list(require_nodes(nodes))

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(self._nodes)

    def node_for(self, key: Key) -> str:
        return self._nodes[jump_hash(stable_hash64(key), len(self._nodes))]

    def indices_of_hashes(self, hashes: np.ndarray) -> np.ndarray:
        return jump_hash_array(require_hashes(hashes), len(self._nodes))

    def owners_of_hashes(self, hashes: np.ndarray) -> np.ndarray:
        return names_at(self._nodes, self.indices_of_hashes(hashes))

    def add(self, node: str) -> None:
        """Append ``node`` as the new last bucket; keys move only to it."""
        self._nodes.append(require_new_node(node, self._nodes))

    def remove(self, node: str) -> None:
        """Remove the last node (jump hash cannot remove from the middle of the list)."""
        if node not in self._nodes:
            raise ValueError(f"node must be one of {self._nodes}, got unknown node {node!r}")
        if node != self._nodes[-1]:
            raise ValueError(
                f"node must be the last node {self._nodes[-1]!r}: jump hash only shrinks from the end, "
                f"got {node!r}"
            )
        if len(self._nodes) == 1:
            raise ValueError(f"nodes must keep at least 1 node, cannot remove the last one {node!r}")
        self._nodes.pop()

    def copy(self) -> JumpRouter:
        return JumpRouter(self._nodes)

    def spec(self) -> dict[str, Any]:
        """A JSON-able description (see ``patterns.sharding.migration.router_from_spec``)."""
        return {"router": "jump", "nodes": list(self._nodes)}

    def __repr__(self) -> str:
        return f"JumpRouter({self._nodes!r})"


class RangeRouter:
    """Contiguous ranges: ``RangeRouter([("A", "shard-0"), ("I", "shard-1"), ("Q", "shard-2")])``.

    ``bounds`` is a list of ``(lower_bound, node)`` pairs with strictly increasing lower bounds
    (all str or all int). A key belongs to the last range whose lower bound is ``<= key``; a key
    below the first bound is an error (start at ``""`` or ``0`` to cover everything). Keys are
    compared as they are, so ``"alice"`` sorts after ``"Zed"``: normalise case before routing if
    your bounds are letters. One node may own several ranges.
    """

    def __init__(self, bounds: Sequence[tuple[Any, str]]) -> None:
        if isinstance(bounds, (str, bytes)) or not isinstance(bounds, Iterable):
            raise TypeError(f"bounds must be a sequence of (lower_bound, node) pairs, got {type(bounds).__name__}")
        pairs = list(itertools.islice(iter(bounds), MAX_NODES + 1))
        if not pairs:
            raise ValueError("bounds must hold at least 1 (lower_bound, node) pair, got an empty list")
        if len(pairs) > MAX_NODES:
            raise ValueError(f"bounds must hold at most {MAX_NODES:,} ranges, got more")
        for pair in pairs:
            if isinstance(pair, (str, bytes)) or not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"bounds must be (lower_bound, node) pairs, got {pair!r:.80}")
        lowers = [p[0] for p in pairs]
        kinds = {str if isinstance(b, str) else int if isinstance(b, int) and not isinstance(b, bool)
                 else None for b in lowers}
        if None in kinds or len(kinds) != 1:
            raise TypeError(f"bounds' lower bounds must be all str or all int, got {lowers!r:.200}")
        if any(a >= b for a, b in zip(lowers, lowers[1:], strict=False)):
            raise ValueError(f"bounds' lower bounds must be strictly increasing, got {lowers!r:.200}")
        self._kind: type = str if str in kinds else int
        self._lowers = lowers
        self._owners = [require_text(p[1], "bounds: each node name", max_length=200) for p in pairs]

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self._owners))

    @property
    def bounds(self) -> list[tuple[Any, str]]:
        return list(zip(self._lowers, self._owners, strict=True))

    def node_for(self, key: Key) -> str:
        require_key(key)
        if not isinstance(key, self._kind) or isinstance(key, bool):
            raise TypeError(f"key must be a {self._kind.__name__} like the bounds, got {type(key).__name__}")
        i = bisect.bisect_right(self._lowers, key) - 1
        if i < 0:
            raise ValueError(f"key must be >= the first lower bound {self._lowers[0]!r}, got {key!r}")
        return self._owners[i]

    def split(self, at: Any, node: str) -> RangeRouter:
        """A new router where the range containing ``at`` is split, ``[at, next)`` going to ``node``."""
        if at in self._lowers:
            raise ValueError(f"at must not already be a lower bound, got {at!r}")
        self.node_for(at)  # validates type and that `at` is inside some range
        return RangeRouter(sorted([*self.bounds, (at, node)]))

    def spec(self) -> dict[str, Any]:
        """A JSON-able description (see ``patterns.sharding.migration.router_from_spec``)."""
        return {"router": "range", "bounds": [list(pair) for pair in self.bounds]}

    def __repr__(self) -> str:
        return f"RangeRouter({self.bounds!r})"
