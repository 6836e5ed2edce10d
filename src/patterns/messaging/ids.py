"""Event ids: reproducible in a lab, unique across producers, processes and restarts.

A consumer deduplicates on the event id, and the outbox stores it with a UNIQUE constraint, so two
different events must never share one. A purely seeded id breaks that: two producers seeded alike,
or one producer restarted with the same seed on its old database, produce the same ids again, and
the idempotent consumer silently drops the second producer's real events (or every insert into the
outbox fails).

So an id built from a seeded ``rng`` has two parts:

* 80 bits drawn from ``rng`` (the high part). The seed fixes them: one run of a lab draws the same
  sequence every time, ids sort in the same order every time, and the rng's state advances exactly
  as it did when ids were plain seeded UUIDs, so everything else drawn from it is unchanged;
* a 48-bit **incarnation** (the low part, where a time-based UUID keeps its node id), drawn from the
  operating system once per ``rng`` object and kept for as long as that object lives. Two generator
  objects, in one process or in two, seeded alike or not, get different incarnations (the chance of
  a clash is about n² / 2⁴⁹ for n generators), so their ids differ even where the seeded parts agree.

Without an ``rng`` the id is a plain random UUID4. Either way the result is a valid version-4 UUID
string. What is not promised: the same *string* on two runs (the incarnation differs); labs print
counts and orders, never ids.
"""

from __future__ import annotations

import random
import secrets
import threading
import uuid
import weakref

from patterns._validate import require_instance

__all__ = ["new_event_id", "incarnation_of", "INCARNATION_BITS"]

INCARNATION_BITS = 48
_LOW = (1 << INCARNATION_BITS) - 1
_incarnations: weakref.WeakKeyDictionary[random.Random, int] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def incarnation_of(rng: random.Random) -> int:
    """The 48-bit incarnation of ``rng``: drawn from the OS the first time, the same afterwards."""
    with _lock:
        value = _incarnations.get(rng)
        if value is None:
            value = _incarnations[rng] = secrets.randbits(INCARNATION_BITS)
        return value


def new_event_id(rng: random.Random | None = None) -> str:
    """A version-4 UUID string; with a seeded ``rng``, a reproducible sequence that stays unique.

    See the module docstring: the seeded part orders and reproduces, the incarnation separates
    generators that were seeded alike.
    """
    if rng is None:
        return str(uuid.uuid4())
    require_instance(rng, "rng", random.Random)
    seeded = rng.getrandbits(128)
    return str(uuid.UUID(int=(seeded & ~_LOW) | incarnation_of(rng), version=4))
