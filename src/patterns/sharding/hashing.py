"""Stable 64-bit hashing for routing keys to shards.

Python's built-in ``hash()`` of a ``str`` is salted per process (``PYTHONHASHSEED``), so two app
servers would disagree about which shard owns ``"user:1"``. Everything in ``patterns.sharding``
hashes with BLAKE2b instead: the same key gives the same 64-bit number in every process, on every
machine, in every Python version.

Keys may be ``str``, ``bytes`` or ``int``. Each type is tagged before hashing, so ``"1"``, ``b"1"``
and ``1`` are three different keys (as they would be in a typed database column).
"""

from __future__ import annotations

from collections.abc import Iterable
from hashlib import blake2b

import numpy as np

__all__ = ["Key", "MASK64", "stable_hash64", "hash_keys", "mix64", "mix64_array", "require_key", "new_str_hash"]

Key = str | bytes | int
MASK64 = (1 << 64) - 1

# Hash states that have already absorbed each type's tag: copying one is cheaper than building a
# new hasher, and streaming the key after the tag gives exactly blake2b(tag + key).
_STR = blake2b(b"s", digest_size=8)
_BYTES = blake2b(b"b", digest_size=8)
_INT = blake2b(b"i", digest_size=8)
_from_bytes = int.from_bytes
new_str_hash = _STR.copy  # a fresh hasher that has absorbed the str tag (bound once: cheaper)


def require_key(key: object, name: str = "key") -> None:
    """Raise ``TypeError`` unless ``key`` is a str, bytes or (non-bool) int; ``ValueError`` for an
    int with more than 4,000 digits (Python refuses to write it in decimal, which the hash needs)."""
    if isinstance(key, bool) or not isinstance(key, (str, bytes, int)):
        raise TypeError(f"{name} must be a str, bytes or int, got {type(key).__name__}")
    if isinstance(key, int) and key.bit_length() > 13_000:
        raise ValueError(f"{name} must be an int of at most 4,000 digits, got one of {key.bit_length()} bits")


def stable_hash64(key: Key) -> int:
    """A 64-bit unsigned hash of ``key`` that is identical across processes and machines.

    It is ``blake2b(tag + data, digest_size=8)`` read little-endian, where the tag is ``b"s"`` and
    data the UTF-8 bytes for a str, ``b"b"`` and the bytes themselves, ``b"i"`` and the decimal
    digits for an int.
    """
    kind = type(key)
    if kind is str:
        h = new_str_hash()
        h.update(key.encode())  # type: ignore[union-attr]
    elif kind is bytes:
        h = _BYTES.copy()
        h.update(key)  # type: ignore[arg-type]
    elif kind is int and key.bit_length() <= 13_000:  # type: ignore[union-attr]
        h = _INT.copy()
        h.update(str(key).encode())
    else:
        require_key(key)  # subclasses of str/bytes/int land here and are accepted
        return stable_hash64(_plain(key))
    return _from_bytes(h.digest(), "little")


def _plain(key: Key) -> Key:
    if isinstance(key, str):
        return str(key)
    if isinstance(key, bytes):
        return bytes(key)
    return int(key)


def hash_keys(keys: Iterable[Key]) -> np.ndarray:
    """``stable_hash64`` of every key, as a ``uint64`` array (for vectorised routing)."""
    if isinstance(keys, (str, bytes)) or not isinstance(keys, Iterable):
        raise TypeError(f"keys must be an iterable of keys (str, bytes or int), got {type(keys).__name__}")
    return np.fromiter((stable_hash64(k) for k in keys), dtype=np.uint64)


# SplitMix64's finaliser (Steele, Lea, Flood 2014): a cheap, well-mixed bijection on 64-bit ints.
_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB


def mix64(x: int) -> int:
    """Scramble a 64-bit integer (used to combine a key hash with a node hash)."""
    z = (x + _GOLDEN) & MASK64
    z = ((z ^ (z >> 30)) * _M1) & MASK64
    z = ((z ^ (z >> 27)) * _M2) & MASK64
    return z ^ (z >> 31)


def mix64_array(x: np.ndarray) -> np.ndarray:
    """``mix64`` on a ``uint64`` array; bit-for-bit the same as the scalar version."""
    z = np.array(x, dtype=np.uint64, ndmin=1) + np.uint64(_GOLDEN)  # ndmin: arrays wrap silently
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
    return z ^ (z >> np.uint64(31))
