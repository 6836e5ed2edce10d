"""The resource a lock protects, and the check that makes the lock safe: fencing tokens.

``FencedStore`` stands for the storage service (a file server, a database, an object store) that
lock holders write to. With ``fencing=True`` it remembers, per key, the highest fencing token any
write carried and refuses a write whose token is lower: a holder whose lease expired while it was
paused carries an older token than the holder that replaced it, so its late write is refused
instead of silently overwriting newer data. With ``fencing=False`` it accepts every write, which is
what a storage service does when the lock is only a convention among its clients.

This is the fix Kleppmann proposed in "How to do distributed locking" (2016): the lock service hands
out a monotonically increasing token, and the *resource* checks it. A lock that produces random
values (Redlock's) cannot be fenced this way: uniqueness does not say which holder is newer.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Generic, TypeVar

from patterns._validate import require_int, require_text

__all__ = ["FencedStore", "Write"]

T = TypeVar("T")


@dataclass(frozen=True)
class Write(Generic[T]):
    """One attempted write, as the store saw it."""

    key: str
    writer: str
    token: int | None
    value: T
    accepted: bool


class FencedStore(Generic[T]):
    """A key-value store that can refuse writes carrying a stale fencing token. Thread-safe."""

    def __init__(self, *, fencing: bool = True) -> None:
        if not isinstance(fencing, bool):
            raise TypeError(f"fencing must be True or False, got {type(fencing).__name__}")
        self.fencing = fencing
        self._lock = threading.Lock()
        self._data: dict[str, T] = {}
        self._highest: dict[str, int] = {}
        self._log: list[Write[T]] = []

    def __repr__(self) -> str:
        return f"FencedStore(fencing={self.fencing}, keys={len(self._data)})"

    def seed(self, key: str, value: T) -> None:
        """Set an initial value without a token (before any lock holder writes)."""
        with self._lock:
            self._data[require_text(key, "key")] = value

    def read(self, key: str, *, token: int | None = None) -> T | None:
        """The value at ``key``. A read that carries a token raises the key's high-water mark to it.

        That matters for read-modify-write: a new holder that only showed its token when writing
        leaves a gap between its read and its write in which the old holder's late write (older
        token, but the store has seen nothing newer yet) is accepted, and the new holder then
        overwrites it: an update is lost even with fencing. Showing the token on the read closes
        the gap, because from then on the old holder's token is stale.
        """
        key = require_text(key, "key")
        if token is not None:
            token = require_int(token, "token", minimum=1, maximum=2**63 - 1)
        with self._lock:
            if token is not None:
                self._highest[key] = max(token, self._highest.get(key, 0))
            return self._data.get(key)

    def write(self, key: str, value: T, *, token: int | None, writer: str = "?") -> bool:
        """Store ``value`` unless fencing refuses it; True if stored.

        With fencing, a write must carry a token (an int >= 1) no lower than the highest one this key
        has seen; an equal token is the same holder writing again and is accepted.
        """
        key = require_text(key, "key")
        writer = require_text(writer, "writer", max_length=200)
        if token is not None:
            token = require_int(token, "token", minimum=1, maximum=2**63 - 1)
        with self._lock:
            accepted = True
            if self.fencing:
                accepted = token is not None and token >= self._highest.get(key, 0)
            if accepted:
                self._data[key] = value
                if token is not None:
                    self._highest[key] = max(token, self._highest.get(key, 0))
            self._log.append(Write(key, writer, token, value, accepted))
            return accepted

    def highest_token(self, key: str) -> int:
        """The highest token a read or write of ``key`` has carried (0 when none has)."""
        with self._lock:
            return self._highest.get(require_text(key, "key"), 0)

    @property
    def log(self) -> list[Write[T]]:
        """Every write attempt in order, refused ones included."""
        with self._lock:
            return list(self._log)
