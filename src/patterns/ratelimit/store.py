"""Where a limiter keeps its state: in this process (``MemoryStore``) or in Redis (``RedisStore``).

Both stores answer one call, ``run(key, now, cost)``: load the key's state, let the algorithm's
``step`` decide, save the new state, return the ``Outcome``. The limiter never asks which store
it has. The difference is who makes the three steps atomic:

* ``MemoryStore``: one lock per limiter, so threads of one process never interleave a decision;
* ``RedisStore``: one Lua script per decision, which Redis runs alone. Read-modify-write from the
  client (GET, decide, SET) would let two app servers both read "9 of 10 used" and both admit.
  Where Lua is missing (fakeredis in the browser) the same ``step`` runs in Python inside a
  WATCH/MULTI transaction instead: optimistic, but just as atomic, on the same keys.

A denied request writes nothing: state changes only when quota is used, so a client hammering a
full key never keeps the key alive (see ``SlidingWindowLog`` for the one exception: dropping
entries that have left the window, which only ever shortens state).
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from redis.exceptions import NoScriptError, RedisError, WatchError

from patterns import compat, infra
from patterns.keys import KeySpace

__all__ = [
    "Outcome",
    "Step",
    "Store",
    "MemoryStore",
    "RedisStore",
    "RedisClient",
    "Layout",
    "NUMBERS",
    "LOG",
]

S = TypeVar("S")

# A decision in integers: (allowed, remaining, retry, reset, delay), durations in ticks measured
# from the caller's "now". Each algorithm's ``step`` and its Lua script return this shape.
Outcome = tuple[bool, int, int, int, int]

# An algorithm's decision function: (state or None, now in ticks, cost) -> (new state, outcome).
Step = Callable[[S | None, int, int], tuple[S, Outcome]]

_MIN_SWEEP = 1024  # the memory table is swept for idle keys when it doubles past this size


class Store(Protocol):
    """What a limiter needs from the place its state lives."""

    def run(self, key: str, now: int | None, cost: int) -> Outcome:
        """Decide one request atomically; ``now=None`` means "the store's own clock"."""
        ...

    def delete(self, key: str) -> None: ...

    def clear(self) -> int: ...

    def __len__(self) -> int: ...

    def describe(self) -> str: ...


class MemoryStore(Generic[S]):
    """State in a dict in this process, one lock around each decision.

    Idle keys are dropped lazily: each entry remembers the tick at which its state runs out
    (equivalent to no state), and the table is swept when it has doubled since the last sweep,
    so memory stays proportional to the recently active keys at O(1) amortised cost per call.
    """

    def __init__(self, step: Step[S]) -> None:
        self._step = step
        self._lock = threading.Lock()
        self._states: dict[str, tuple[S, int]] = {}  # key -> (state, tick at which it runs out)
        self._sweep_at = _MIN_SWEEP

    def run(self, key: str, now: int | None, cost: int) -> Outcome:
        if now is None:
            raise ValueError("a MemoryStore needs the time from the limiter's clock")
        # acquire/release rather than ``with self._lock``: the same guarantee, but the with
        # statement's two extra method calls cost about 50 ns, several percent of a decision
        self._lock.acquire()
        try:
            entry = self._states.get(key)
            state, outcome = self._step(None if entry is None else entry[0], now, cost)
            if outcome[0]:  # admitted: keep the new state until it runs out
                self._states[key] = (state, now + outcome[3])
                if entry is None and len(self._states) >= self._sweep_at:
                    self._sweep(now)
        finally:
            self._lock.release()
        return outcome

    def _sweep(self, now: int) -> None:
        expired = [key for key, (_, until) in self._states.items() if until <= now]
        for key in expired:
            del self._states[key]
        self._sweep_at = max(_MIN_SWEEP, 2 * len(self._states))

    def delete(self, key: str) -> None:
        with self._lock:
            self._states.pop(key, None)

    def clear(self) -> int:
        with self._lock:
            count = len(self._states)
            self._states.clear()
        return count

    def __len__(self) -> int:
        with self._lock:
            return len(self._states)

    def describe(self) -> str:
        return "memory"


@runtime_checkable
class RedisClient(Protocol):
    """The redis-py commands a limiter uses. ``redis.Redis``, ``redis.cluster.RedisCluster`` and
    ``fakeredis.FakeRedis`` all have them; anything else with these methods works too."""

    def evalsha(self, sha: str, numkeys: int, *keys_and_args: Any) -> Any: ...

    def eval(self, script: str, numkeys: int, *keys_and_args: Any) -> Any: ...

    def delete(self, *names: Any) -> Any: ...

    def scan_iter(self, *args: Any, **kwargs: Any) -> Iterator[Any]: ...

    def pipeline(self, *args: Any, **kwargs: Any) -> Any: ...

    def time(self) -> Any: ...


class Layout(Protocol[S]):
    """How one algorithm's state is stored in Redis (used by the pure-Python path)."""

    def load(self, client: Any, key: str) -> S | None: ...

    def save(self, pipe: Any, key: str, state: S, keep_ms: int) -> None: ...


class _Numbers:
    """A few integers in one string, ``"k count"``: read with GET, written with SET ... PX."""

    def load(self, client: Any, key: str) -> tuple[int, ...] | None:
        raw = client.get(key)
        return None if raw is None else tuple(int(part) for part in raw.split())

    def save(self, pipe: Any, key: str, state: tuple[int, ...], keep_ms: int) -> None:
        pipe.set(key, " ".join(str(number) for number in state), px=keep_ms)


class _Log:
    """A list of admission times, oldest first: read with LRANGE, rewritten with RPUSH."""

    def load(self, client: Any, key: str) -> deque[int] | None:
        entries = client.lrange(key, 0, -1)
        return deque(int(entry) for entry in entries) if entries else None

    def save(self, pipe: Any, key: str, state: deque[int], keep_ms: int) -> None:
        pipe.delete(key)
        pipe.rpush(key, *state)
        pipe.pexpire(key, keep_ms)


NUMBERS: Layout[tuple[int, ...]] = _Numbers()
LOG: Layout[deque[int]] = _Log()


class RedisStore(Generic[S]):
    """State in Redis, one key per limited entity, one atomic script per decision.

    ``params`` are the algorithm's integers (period in ticks, limit, ...) passed to the script
    after ``now``, the tick, the cost and ``keep_ms``: how long a key outlives its last admission
    (the algorithm's longest state lifetime plus slack, never more; see ``RateLimiter``).
    """

    def __init__(
        self,
        client: RedisClient,
        keys: KeySpace,
        *,
        script: str,
        step: Step[S],
        layout: Layout[S],
        tick_us: int,
        keep_ms: int,
        params: tuple[int, ...],
    ) -> None:
        self.client = client
        self.keys = keys
        self._script = script
        self._sha = hashlib.sha1(script.encode()).hexdigest()
        self._step = step
        self._layout = layout
        self._tick = tick_us
        self._keep_ms = keep_ms
        # The script's arguments after now and cost never change: encode them once.
        self._tick_arg = str(tick_us).encode()
        self._fixed_args = tuple(str(number).encode() for number in (keep_ms, *params))
        self._lua = compat.lua_available(client)  # False for fakeredis in the browser
        self._where = _describe(client)

    def run(self, key: str, now: int | None, cost: int) -> Outcome:
        name = self.keys.key(key)
        try:
            if self._lua:
                args = ("server" if now is None else now, self._tick_arg, cost, *self._fixed_args)
                allowed, remaining, retry, reset, delay = map(int, self._eval(name, args).split())
                return allowed == 1, remaining, retry, reset, delay
            return self._run_in_python(name, now, cost)
        except (RedisError, OSError):
            # Only on failure: turn "Redis is down / not answering" into BackendUnavailable.
            with infra.redis_errors(self._where, "decide on"):
                raise

    def _eval(self, name: str, args: tuple[Any, ...]) -> bytes:
        """EVALSHA, falling back to EVAL (which also caches the script) on a server that has not
        seen it yet: after a restart, or on a cluster node that never received SCRIPT LOAD."""
        try:
            reply: bytes = self.client.evalsha(self._sha, 1, name, *args)
        except NoScriptError:
            reply = self.client.eval(self._script, 1, name, *args)
        return reply

    def _run_in_python(self, name: str, now: int | None, cost: int) -> Outcome:
        """The script's logic in Python (the algorithm's own ``step``), for clients without Lua.

        WATCH makes the transaction fail if another client changed the key between our read
        and our write; then we read again and decide again."""
        with self.client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(name)
                    at = now
                    if at is None:  # the server's clock, as the script's TIME call reads it
                        seconds, micros = pipe.time()
                        at = (int(seconds) * 1_000_000 + int(micros)) // self._tick
                    state, outcome = self._step(self._layout.load(pipe, name), at, cost)
                    pipe.multi()
                    if outcome[0]:
                        self._layout.save(pipe, name, state, self._keep_ms)
                    pipe.execute()
                    return outcome
                except WatchError:
                    continue

    def delete(self, key: str) -> None:
        try:
            self.client.delete(self.keys.key(key))
        except (RedisError, OSError):
            with infra.redis_errors(self._where, "reset a key on"):
                raise

    def clear(self) -> int:
        try:
            return self.keys.clear(self.client)
        except (RedisError, OSError):
            with infra.redis_errors(self._where, "clear keys on"):
                raise

    def __len__(self) -> int:
        return sum(1 for _ in self.client.scan_iter(match=self.keys.pattern(), count=500))

    def describe(self) -> str:
        return "redis"


def _describe(client: Any) -> str | None:
    """``redis://host:port/db`` for messages, from the client's connection settings (never the
    password), or None when the client does not say."""
    pool = getattr(client, "connection_pool", None)
    settings = getattr(pool, "connection_kwargs", None)
    if not isinstance(settings, dict) or "host" not in settings:
        return None
    return f"redis://{settings['host']}:{settings.get('port', 6379)}/{settings.get('db', 0)}"
