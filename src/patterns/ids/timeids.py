"""Time-ordered 128-bit ids: UUIDv7 (RFC 9562) and ULID.

Both put a 48-bit Unix timestamp in milliseconds first and randomness after it, so sorting the
ids (as bytes, as strings, as UUIDs) sorts them by creation time to the millisecond, and a
database index receives them roughly in order, instead of at random places as with UUIDv4. Unlike
Snowflake they need no worker id: 74 (UUIDv7) or 80 (ULID) random bits make a collision between
two generators negligible (about ``k**2 / 2**75`` for ``k`` ids in one millisecond).

Within one millisecond plain random bits sort at random. With ``monotonic=True`` (the default) a
generator that is asked again in the same millisecond, or finds its clock behind the last id,
keeps the last timestamp and adds one to the last random value (RFC 9562 section 6.2, method 2;
the ULID specification's monotonic mode), so its own ids strictly increase. Ids from *different*
generators are ordered only as well as their clocks agree.

* ``UUIDv7Generator(clock, rng).next()`` -> ``uuid.UUID`` (version 7, RFC 9562 variant). If the
  74 random bits overflow, the timestamp moves one millisecond ahead.
* ``ULIDGenerator(clock, rng).next()`` -> 26-character Crockford base32 string. If the 80
  random bits overflow within one millisecond, generation fails, as the specification says
  (``ULIDOverflow``): it takes 2**80 ids.
"""

from __future__ import annotations

import math
import random
import threading
import uuid

from patterns._validate import require_instance, require_int, require_text
from patterns.clock import Clock, WallClock
from patterns.errors import PatternError

__all__ = [
    "UUIDv7Generator",
    "ULIDGenerator",
    "ULIDOverflow",
    "uuid7_time_ms",
    "encode_ulid",
    "decode_ulid",
    "ulid_time_ms",
    "CROCKFORD",
]

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DECODE = {ch: i for i, ch in enumerate(CROCKFORD)}
_MAX_MS = (1 << 48) - 1


class ULIDOverflow(PatternError):
    """A monotonic ULID generator used up all 2**80 values of one millisecond."""


class _TimeOrdered:
    """The shared part: a clock read in whole ms, a seeded rng, the monotonic rule."""

    random_bits = 74

    def __init__(self, *, clock: Clock | None = None, rng: random.Random | None = None, monotonic: bool = True) -> None:
        self.clock: Clock = clock if clock is not None else WallClock()
        self._rng = require_instance(rng, "rng", random.Random) if rng is not None else random.SystemRandom()
        self.monotonic = require_instance(monotonic, "monotonic", bool)
        self._last_ms = -1
        self._last_random = 0
        self._lock = threading.Lock()

    def _now_ms(self) -> int:
        ms = math.floor(self.clock.now() * 1000.0 + 1e-6)
        if not 0 <= ms <= _MAX_MS:
            raise ValueError(f"the clock must read between 1970 and the year 10889, got {ms} ms")
        return ms

    def _overflow(self) -> tuple[int, int]:  # pragma: no cover - overridden
        raise NotImplementedError

    def _fields(self) -> tuple[int, int]:
        """(timestamp in ms, random bits) of the next id."""
        with self._lock:
            ms = self._now_ms()
            if self.monotonic and ms <= self._last_ms:
                ms, rand = self._last_ms, self._last_random + 1
                if rand >> self.random_bits:
                    ms, rand = self._overflow()
            else:
                rand = self._rng.getrandbits(self.random_bits)
            self._last_ms, self._last_random = ms, rand
            return ms, rand


class UUIDv7Generator(_TimeOrdered):
    """RFC 9562 version 7 UUIDs: ``unix_ts_ms`` (48) | ver 7 (4) | ``rand_a`` (12) | var (2) | ``rand_b`` (62)."""

    random_bits = 74

    def _overflow(self) -> tuple[int, int]:
        if self._last_ms + 1 > _MAX_MS:
            raise ValueError("the 48-bit timestamp is exhausted")
        return self._last_ms + 1, self._rng.getrandbits(self.random_bits)

    def next(self) -> uuid.UUID:
        ms, rand = self._fields()
        rand_a, rand_b = rand >> 62, rand & ((1 << 62) - 1)
        value = (ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
        return uuid.UUID(int=value)


def uuid7_time_ms(value: uuid.UUID) -> int:
    """The Unix time in ms stored in a version 7 UUID."""
    value = require_instance(value, "value", uuid.UUID)
    if value.version != 7:
        raise ValueError(f"value must be a version 7 UUID, got version {value.version}")
    return value.int >> 80


class ULIDGenerator(_TimeOrdered):
    """ULIDs: 48-bit ms timestamp and 80 random bits, as 26 Crockford base32 characters."""

    random_bits = 80

    def _overflow(self) -> tuple[int, int]:
        raise ULIDOverflow(f"all 2**80 ULIDs of millisecond {self._last_ms} are used")

    def next(self) -> str:
        ms, rand = self._fields()
        return encode_ulid(ms, rand)


def encode_ulid(ms: int, randomness: int) -> str:
    """26 characters: 10 for the timestamp, 16 for the randomness (5 bits each, most significant first)."""
    value = (require_int(ms, "ms", minimum=0, maximum=_MAX_MS) << 80) | require_int(
        randomness, "randomness", minimum=0, maximum=(1 << 80) - 1
    )
    return "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in range(25, -1, -1))


def decode_ulid(text: str) -> tuple[int, int]:
    """``(ms, randomness)`` of a ULID (case-insensitive; Crockford's I, L -> 1 and O -> 0 accepted)."""
    text = require_text(text, "text", min_length=26, max_length=26).upper()
    text = text.translate(str.maketrans("ILO", "110"))
    value = 0
    for ch in text:
        if ch not in _DECODE:
            raise ValueError(f"text must be Crockford base32, got {ch!r} in {text!r}")
        value = (value << 5) | _DECODE[ch]
    if value >> 128:
        raise ValueError(f"text must encode at most 128 bits (first character 0-7), got {text!r}")
    return value >> 80, value & ((1 << 80) - 1)


def ulid_time_ms(text: str) -> int:
    return decode_ulid(text)[0]
