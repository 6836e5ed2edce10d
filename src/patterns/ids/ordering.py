"""How well ids keep time order, and what that does to a database index.

* ``out_of_order(ids)``: the fraction of ids smaller than the id generated just before them
  (0 for a strictly increasing sequence, about 1/2 for random ids).
* ``appends(ids)``: the fraction of ids larger than *every* id before them: in a B-tree index
  those inserts go to the rightmost leaf.
* ``time_inversion(ids, times)``: sort the ids and read their creation times in that order: the
  largest step *back* in time is how far "sorted by id" can misorder events. Within one generator
  of a monotonic scheme it is zero; across machines it is about the clock skew plus the timestamp's
  resolution.
* ``leaves_touched(ids)``: a model of the index's working set. At the moment an id is inserted the
  index holds the ids before it, sorted, in leaves of ``leaf_size`` keys; the id lands in leaf
  ``rank // leaf_size``. The result is the average number of *distinct* leaves a window of
  ``window`` consecutive inserts writes to. Time-ordered ids keep writing the same few leaves at
  the right edge, which stay in memory; random ids (UUIDv4) write all over the index, so the
  database must keep the whole index in its buffer pool or read leaves from disk for inserts.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from typing import Any

from patterns._validate import require_instance, require_int, require_sequence

__all__ = ["out_of_order", "appends", "time_inversion", "leaves_touched"]


def _items(value: object, name: str, *, min_length: int, max_length: int) -> list[Any]:
    """``value`` (any iterable, e.g. a numpy array) as a list of ``min_length``..``max_length`` items."""
    items = list(require_instance(value, name, Iterable, what="an iterable"))
    return require_sequence(items, name, min_length=min_length, max_length=max_length)


def out_of_order(ids: Sequence[Any]) -> float:
    """The fraction of consecutive pairs (in generation order) where the later id is smaller."""
    ids = _items(ids, "ids", min_length=2, max_length=10_000_000)
    later_smaller: int = sum(b < a for a, b in zip(ids, ids[1:], strict=False))
    return later_smaller / (len(ids) - 1)


def appends(ids: Sequence[Any]) -> float:
    """The fraction of ids (after the first) larger than every id generated before them."""
    ids = _items(ids, "ids", min_length=2, max_length=10_000_000)
    best, count = ids[0], 0
    for value in ids[1:]:
        if value > best:
            best, count = value, count + 1
    return count / (len(ids) - 1)


def time_inversion(ids: Sequence[Any], times: Sequence[float]) -> float:
    """The largest amount by which an id sorted *after* another was created *before* it (0 if none)."""
    ids = _items(ids, "ids", min_length=1, max_length=10_000_000)
    times = _items(times, "times", min_length=len(ids), max_length=len(ids))
    order = sorted(range(len(ids)), key=ids.__getitem__)
    latest, worst = float("-inf"), 0.0
    for i in order:
        t = float(times[i])
        if t < latest:
            worst = max(worst, latest - t)
        latest = max(latest, t)
    return worst


def leaves_touched(ids: Sequence[Any], *, leaf_size: int = 100, window: int = 1_000) -> float:
    """Average distinct leaves written per ``window`` consecutive inserts (see the module docstring).

    Only whole windows after the first are counted (the first fills an empty index).
    """
    ids = _items(ids, "ids", min_length=2, max_length=2_000_000)
    leaf_size = require_int(leaf_size, "leaf_size", minimum=1, maximum=100_000)
    window = require_int(window, "window", minimum=1, maximum=len(ids) // 2)
    index: list[Any] = []
    touched: set[int] = set()
    counts: list[int] = []
    for i, value in enumerate(ids):
        rank = bisect_left(index, value)
        index.insert(rank, value)
        touched.add(rank // leaf_size)
        if (i + 1) % window == 0:
            if i + 1 > window:
                counts.append(len(touched))
            touched = set()
    return sum(counts) / len(counts)
