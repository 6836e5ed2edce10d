"""Bloom filter, count-min sketch and HyperLogLog: sizing formulas, exact guarantees, the hash."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from patterns.caching.workload import ZipfWorkload
from patterns.sketches import (
    BloomFilter,
    CountMinSketch,
    HyperLogLog,
    bloom_fp_rate,
    bloom_size,
    countmin_size,
    item_bytes,
    murmur64,
    murmur64_many,
    standard_error,
)


def test_murmur_vectorised_matches_the_scalar_version_for_every_length() -> None:
    items = ["", "a", "ab", "abcdefg", "abcdefgh", "abcdefghi", "é" * 9, b"\x00\xff" * 13, 0, -17, 10**30]
    items += [f"item:{i}" for i in range(500)]
    hashes = murmur64_many(items)
    assert [int(h) for h in hashes] == [murmur64(item_bytes(x)) for x in items]


def test_murmur_is_stable() -> None:
    # a regression anchor: the sketches' registers (and Redis compatibility) depend on these bits
    assert murmur64(b"hello") == 0x0F656F01EECFE400
    assert murmur64(b"") == murmur64_many([b""])[0]


def test_items_hash_as_redis_receives_them() -> None:
    assert item_bytes(42) == b"42" and item_bytes("42") == b"42" and item_bytes(b"42") == b"42"
    with pytest.raises(TypeError):
        item_bytes(4.2)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        item_bytes(True)


def test_bloom_sizing_follows_the_textbook_formulas() -> None:
    bits, hashes = bloom_size(1_000_000, 0.01)
    assert bits == math.ceil(1_000_000 * math.log(100) / math.log(2) ** 2) == 9_585_059
    assert hashes == 7
    assert bloom_fp_rate(bits, hashes, 1_000_000) == pytest.approx(0.01, rel=0.01)


def test_bloom_has_no_false_negatives_and_about_the_promised_false_positives() -> None:
    bloom = BloomFilter.for_capacity(20_000, 0.02)
    members = [f"url:{i}" for i in range(20_000)]
    bloom.add_many(members)
    assert bloom.contains_many(members).all()
    assert all(m in bloom for m in members[:100])
    rate = bloom.contains_many([f"other:{i}" for i in range(50_000)]).mean()
    assert 0.015 < rate < 0.025
    assert bloom.estimated_items() == pytest.approx(20_000, rel=0.02)
    assert bloom.size_bytes == (bloom.m + 7) // 8


def test_bloom_single_item_api() -> None:
    bloom = BloomFilter(1024, 3)
    bloom.add("x")
    bloom.add(7)
    assert "x" in bloom and 7 in bloom and "7" in bloom  # 7 travels as b"7", as in Redis
    assert bloom.added == 2
    with pytest.raises(TypeError):
        1.5 in bloom  # noqa: B015


def test_a_full_bloom_filter_says_yes_to_everything() -> None:
    bloom = BloomFilter(64, 2)
    bloom.add_many(range(10_000))
    assert bloom.fill_ratio == 1.0 and bloom.estimated_items() == math.inf
    assert bloom.contains_many(["anything", "at all"]).all()


def test_countmin_sizing_and_guarantees() -> None:
    assert countmin_size(0.001, 0.01) == (2719, 5)
    sketch = CountMinSketch.for_error(0.001, 0.01)
    items = ZipfWorkload(20_000, 1.0, seed=3).sample(100_000)
    sketch.add_many(items)
    truth = Counter(items)
    keys = list(truth)
    estimates = sketch.estimate_many(keys)
    exact = np.array([truth[k] for k in keys])
    assert (estimates >= exact).all()  # never underestimates
    assert (estimates - exact > sketch.error_bound).mean() <= 0.01
    assert sketch.estimate("item:1") >= truth["item:1"]
    assert sketch.total == 100_000 and sketch.confidence == pytest.approx(1 - math.exp(-5))


def test_countmin_weighted_counts() -> None:
    sketch = CountMinSketch(100, 4)
    sketch.add("a", 5)
    sketch.add_many(["b", "a"], [2, 3])
    assert sketch.estimate("a") >= 8 and sketch.total == 10
    with pytest.raises(ValueError):
        sketch.add_many(["a"], [1, 2])
    with pytest.raises(ValueError):
        sketch.add_many(["a"], [-1])


def test_hll_basics() -> None:
    hll = HyperLogLog()
    assert hll.count() == 0 and hll.size_bytes == 12_288
    assert hll.standard_error == pytest.approx(1.04 / 128)
    assert hll.add("a") is True and hll.add("a") is False
    hll.add_many(["b", "c", "a", "b"])
    assert hll.count() == 3


def test_hll_duplicates_and_order_change_nothing() -> None:
    a, b = HyperLogLog(12), HyperLogLog(12)
    items = [f"user:{i}" for i in range(30_000)]
    a.add_many(items)
    b.add_many(items[::-1] + items[:5000])
    assert np.array_equal(a.registers, b.registers)


def test_hll_merge_is_the_sketch_of_the_union() -> None:
    left, right, both = HyperLogLog(10), HyperLogLog(10), HyperLogLog(10)
    left.add_many(range(0, 60_000))
    right.add_many(range(40_000, 100_000))
    both.add_many(range(0, 100_000))
    assert np.array_equal(left.merge(right).registers, both.registers)
    with pytest.raises(ValueError):
        left.merge(HyperLogLog(11))
    with pytest.raises(TypeError):
        left.merge({1, 2})  # type: ignore[arg-type]


def test_hll_is_accurate_from_tiny_to_large() -> None:
    hll = HyperLogLog()
    added = 0
    for target in (10, 100, 1000, 10_000, 100_000, 400_000):
        hll.add_many(range(added, target))
        added = target
        assert abs(hll.count() - target) <= max(1, 4 * standard_error(14) * target), target


@pytest.mark.parametrize(
    "make, error",
    [
        (lambda: BloomFilter(4, 3), ValueError),
        (lambda: BloomFilter(1024, 0), ValueError),
        (lambda: bloom_size(100, 0.0), ValueError),
        (lambda: bloom_size(100, 1.0), ValueError),
        (lambda: CountMinSketch(0, 3), ValueError),
        (lambda: countmin_size(0.0, 0.1), ValueError),
        (lambda: countmin_size(0.01, 1.0), ValueError),
        (lambda: HyperLogLog(3), ValueError),
        (lambda: HyperLogLog(19), ValueError),
        (lambda: standard_error(2), ValueError),
    ],
)
def test_bad_arguments(make, error) -> None:
    with pytest.raises(error):
        make()
