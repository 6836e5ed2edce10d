"""Redis's own HyperLogLog (``PFADD``/``PFCOUNT``/``PFMERGE``) behind the same small interface.

``RedisHyperLogLog(client, "visitors")`` keeps one sketch in Redis at
``<namespace>:sketches:{<group>}:<name>``. All sketches of one ``group`` share a hash tag, so
``merge`` (``PFMERGE``) works on Redis Cluster too. Items travel in batches of ``batch`` per
``PFADD``, pipelined.

On a real server ``count()`` is Redis's estimate, which equals ``patterns.sketches.HyperLogLog``'s
for the same items (same hash, same registers, same estimator). The embedded fakeredis does not
implement the sketch: it keeps a set and its ``PFCOUNT`` is exact. Connection failures surface
as ``BackendUnavailable``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from patterns import infra
from patterns._validate import require_int, require_text
from patterns.keys import KeySpace
from patterns.sketches.hashing import Item, item_bytes

__all__ = ["RedisHyperLogLog"]

_FORBIDDEN = "{}"


class RedisHyperLogLog:
    """``add_many``, ``count``, ``merge``, ``clear`` on one Redis key."""

    def __init__(self, client: Any, name: str, *, group: str = "hll", batch: int = 10_000) -> None:
        self.client = infra.require_redis_client(client)
        self.name = require_text(name, "name", max_length=200, forbidden=_FORBIDDEN)
        self.group = require_text(group, "group", max_length=200, forbidden=_FORBIDDEN)
        self.batch = require_int(batch, "batch", minimum=1, maximum=1_000_000)
        self.keys = KeySpace.of(f"sketches:{self.group}")
        self.key = self.keys.key(self.group, self.name)

    @property
    def backend(self) -> str:
        return infra.backend_name(self.client)

    def add_many(self, items: Iterable[Item]) -> None:
        """``PFADD`` every item, ``batch`` per command, pipelined."""
        encoded = [item_bytes(x) for x in items]
        with infra.redis_errors(action="PFADD to"):
            pipe = self.client.pipeline(transaction=False)
            for start in range(0, len(encoded), self.batch):
                pipe.pfadd(self.key, *encoded[start : start + self.batch])
            pipe.execute()

    def add(self, item: Item) -> bool:
        with infra.redis_errors(action="PFADD to"):
            return bool(self.client.pfadd(self.key, item_bytes(item)))

    def count(self) -> int:
        with infra.redis_errors(action="PFCOUNT on"):
            return int(self.client.pfcount(self.key))

    def merge(self, *others: RedisHyperLogLog, into: str) -> RedisHyperLogLog:
        """``PFMERGE`` this sketch and ``others`` (same group) into a new sketch named ``into``."""
        for other in others:
            if not isinstance(other, RedisHyperLogLog):
                raise TypeError(f"others must be RedisHyperLogLog sketches, got {type(other).__name__}")
            if other.group != self.group:
                raise ValueError(f"others must be in group {self.group!r} (one hash tag), got {other.group!r}")
        target = RedisHyperLogLog(self.client, into, group=self.group, batch=self.batch)
        with infra.redis_errors(action="PFMERGE on"):
            self.client.pfmerge(target.key, self.key, *(o.key for o in others))
        return target

    def clear(self) -> None:
        """Delete this sketch's key."""
        with infra.redis_errors(action="delete a sketch on"):
            self.client.delete(self.key)

    def __repr__(self) -> str:
        return f"RedisHyperLogLog({self.name!r}, group={self.group!r}, backend={self.backend})"
