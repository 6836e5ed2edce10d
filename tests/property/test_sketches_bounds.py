"""The sketches keep their published error bounds.

Hypothesis draws the sizes; the items are derived from the drawn numbers, and ``derandomize=True``
fixes the examples, so each test is a fixed set of experiments: it cannot flake. The margins are
confidence margins (several standard deviations), not fudge: each says what it allows for.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from patterns.caching.workload import ZipfWorkload
from patterns.sketches import BloomFilter, CountMinSketch, HyperLogLog, standard_error

FIXED = settings(derandomize=True, max_examples=40, deadline=None)
PROBES = 4000


@FIXED
@given(st.integers(1_000, 50_000), st.integers(1, 10), st.floats(0.005, 0.5), st.integers(0, 10**6))
def test_bloom_false_positive_rate_matches_the_formula(m: int, k: int, target: float, tag: int) -> None:
    n = int(-m / k * math.log(1 - target ** (1 / k)))  # items that make (1 - e^(-kn/m))^k = target
    bloom = BloomFilter(m, k)
    bloom.add_many([f"in:{tag}:{i}" for i in range(n)])
    measured = float(bloom.contains_many([f"out:{tag}:{i}" for i in range(PROBES)]).mean())
    expected = bloom.expected_fp_rate()
    sigma = math.sqrt(expected * (1 - expected) / PROBES)
    # 6 sigma of probe noise, plus 10% for the spread of the fill itself and the formula's bias
    assert abs(measured - expected) <= 6 * sigma + 0.1 * expected


@FIXED
@given(st.integers(500, 20_000), st.integers(1, 64), st.integers(0, 10**6))
def test_bloom_never_forgets(m: int, n: int, tag: int) -> None:
    bloom = BloomFilter(m, 1 + tag % 8)
    items = [f"{tag}:{i}" for i in range(n)]
    bloom.add_many(items)
    assert bloom.contains_many(items).all()


@FIXED
@given(st.floats(0.0005, 0.02), st.floats(0.001, 0.3), st.floats(0.5, 1.5), st.integers(0, 10**6))
def test_countmin_overestimates_beyond_epsilon_n_at_most_delta_of_the_time(
    epsilon: float, delta: float, skew: float, seed: int
) -> None:
    sketch = CountMinSketch.for_error(epsilon, delta)
    items = ZipfWorkload(5_000, skew, seed=seed).sample(30_000)
    sketch.add_many(items)
    truth = Counter(items)
    keys = list(truth)
    errors = sketch.estimate_many(keys) - np.array([truth[k] for k in keys])
    assert errors.min() >= 0  # exact guarantee: never an underestimate
    over = float((errors > sketch.error_bound).mean())
    # the bound is per item; over len(keys) items allow 5 binomial standard deviations above delta
    assert over <= delta + 5 * math.sqrt(delta * (1 - delta) / len(keys))


@FIXED
@given(st.integers(6, 14), st.integers(0, 200_000), st.integers(0, 10**6))
def test_hll_estimate_within_five_standard_errors(p: int, n: int, tag: int) -> None:
    hll = HyperLogLog(p)
    hll.add_many([f"{tag}:{i}" for i in range(n)])
    # 5 standard errors, and one item of slack for the rounding at tiny n
    assert abs(hll.count() - n) <= 5 * standard_error(p) * n + 1


def test_hll_empirical_standard_error_is_about_1_04_over_sqrt_m() -> None:
    """200 independent sketches of 5,000 items with m = 1024: the RMS relative error is within 25%
    of 1.04 / 32 = 3.25% (the standard deviation of an estimate of it from 200 runs is about 5%)."""
    p, n, runs = 10, 5_000, 200
    errors = []
    for run in range(runs):
        hll = HyperLogLog(p)
        hll.add_many([f"run{run}:{i}" for i in range(n)])
        errors.append(hll.count() / n - 1)
    rms = math.sqrt(sum(e * e for e in errors) / runs)
    assert 0.75 * standard_error(p) <= rms <= 1.25 * standard_error(p)
    assert abs(sum(errors) / runs) < 3 * standard_error(p) / math.sqrt(runs)  # unbiased


@FIXED
@given(st.lists(st.integers(0, 10**9), max_size=300), st.lists(st.integers(0, 10**9), max_size=300))
def test_hll_merge_equals_the_sketch_of_the_union(a: list[int], b: list[int]) -> None:
    left, right, union = HyperLogLog(8), HyperLogLog(8), HyperLogLog(8)
    left.add_many(a)
    right.add_many(b)
    union.add_many(a + b)
    assert np.array_equal(left.merge(right).registers, union.registers)
