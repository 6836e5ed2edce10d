"""Limiter state in Redis: one atomic Lua script call per decision.

Why a script: read-modify-write from the client (GET, decide, SET) lets two app servers both read
"9 of 10 used" and both admit; a script runs alone on the server, so the check and the update are
one step. The script is sent once and then called by its SHA (redis-py's ``Script`` does that).
"""

from __future__ import annotations

from typing import Any

from patterns import infra

__all__ = ["RedisStore"]


class RedisStore:
    """Runs one limiter's script on a redis-py (or fakeredis) client."""

    def __init__(self, client: Any, script: str) -> None:
        if not infra.is_redis_client(client):
            raise TypeError(
                "backend must be a Redis client (redis.Redis or fakeredis.FakeRedis, e.g. "
                f"patterns.infra.redis_client()) or None for memory, got {type(client).__name__}"
            )
        self.client = client
        self._script = client.register_script(script)

    def run(
        self, keys: list[str], now: int | None, tick_us: int, cost: int, params: list[int]
    ) -> tuple[Any, ...]:
        """Execute the script; ``now=None`` makes it read the server's TIME. Returns an ``Outcome``."""
        args = ["server" if now is None else str(now), str(tick_us), str(cost), *map(str, params)]
        allowed, *numbers = self._script(keys=keys, args=args)
        return (allowed == 1, *map(int, numbers))

    def delete(self, keys: list[str]) -> None:
        self.client.delete(*keys)
