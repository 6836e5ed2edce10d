"""Checkers for the sketch exercises of lab 14 (unique ids and sketches).

Each ``check_*`` function tests the learner's answer against ``patterns.sketches`` and prints a
tick, or what is wrong and a hint. They return True/False and never raise on a wrong answer.
"""

from __future__ import annotations

import math
from typing import Any

from patterns.check import not_ready, report

__all__ = ["BLOOM_TARGET", "HLL_TARGET", "CMS_TARGET", "check_bloom_size", "check_hll_precision", "check_cms_size"]

BLOOM_TARGET: dict[str, Any] = {"capacity": 10_000_000, "fp_rate": 0.001}
HLL_TARGET = 0.005  # relative standard error
CMS_TARGET: dict[str, float] = {"epsilon": 0.0001, "delta": 0.001}


def _number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def check_bloom_size(answer: Any) -> bool:
    """Exercise 3: ``dict(bits=..., hashes=...)`` for 10 million items at a 0.1% false-positive rate."""
    title = "Exercise 3 (size a Bloom filter)"
    if not_ready(title, answer, expect=dict):
        return False
    from patterns.sketches import bloom_fp_rate, bloom_size

    bits, hashes = answer.get("bits", ...), answer.get("hashes", ...)
    if not_ready(title, bits) or not_ready(title, hashes):
        return False
    if not (_number(bits) and _number(hashes)) or bits < 8 or hashes < 1:
        return report(title, [f"bits and hashes must be positive numbers, got {bits!r} and {hashes!r}."])
    n, p = BLOOM_TARGET["capacity"], BLOOM_TARGET["fp_rate"]
    best_bits, best_hashes = bloom_size(n, p)
    rate = bloom_fp_rate(int(bits), max(1, round(hashes)), n)
    problems = []
    if rate > p * 1.05:
        problems.append(f"with {int(bits):,} bits and {round(hashes)} hashes the rate is {rate:.3%}, above "
                        f"{p:.1%}.")
        if bits < best_bits * 0.98:
            problems.append("hint: m = -n ln p / (ln 2)^2 bits: about 14.4 bits per item for 0.1%.")
        else:
            problems.append("hint: the best k is (m / n) ln 2, about 10 here.")
    elif bits > best_bits * 1.1:
        problems.append(f"{int(bits):,} bits works but wastes memory: {best_bits:,} are enough.")
    if problems:
        return report(title, problems)
    return report(title, [], f"{int(bits):,} bits = {int(bits) / 8 / 2**20:.1f} MiB, {round(hashes)} hashes: "
                  f"{rate:.3%} false positives. A set of 10M 60-byte URLs would take over 600 MB.")


def check_hll_precision(answer: Any) -> bool:
    """Exercise 4: the smallest ``p`` whose standard error is at most 0.5%."""
    title = "Exercise 4 (HyperLogLog precision)"
    if not_ready(title, answer):
        return False
    if isinstance(answer, bool) or not isinstance(answer, int):
        return report(title, [f"p_4 should be a whole number (registers = 2**p), got {answer!r}."])
    truth = next(p for p in range(4, 30) if 1.04 / math.sqrt(2**p) <= HLL_TARGET)
    error = 1.04 / math.sqrt(2**answer) if 0 <= answer < 64 else math.inf
    if answer < truth:
        return report(title, [f"p = {answer} gives a standard error of {error:.2%}, above 0.5%.",
                              "hint: 1.04 / sqrt(m) <= 0.005 needs m >= (1.04 / 0.005)^2 = 43,264 registers."])
    if answer > truth:
        return report(title, [f"p = {answer} works, but a smaller p does too (the sketch doubles with each step)."])
    return report(title, [], f"2**{truth} = {2**truth:,} registers: {error:.2%} standard error in "
                  f"{2**truth * 6 // 8 // 1024} kB.")


def check_cms_size(answer: Any) -> bool:
    """Exercise 5: ``(width, depth)`` of a count-min sketch for epsilon = 0.0001, delta = 0.001."""
    title = "Exercise 5 (size a count-min sketch)"
    if not_ready(title, answer, expect=(tuple, list)):
        return False
    if len(answer) != 2 or not all(_number(x) for x in answer):
        return report(title, [f"give (width, depth) as two numbers, got {answer!r}."])
    from patterns.sketches import countmin_size

    width, depth = countmin_size(CMS_TARGET["epsilon"], CMS_TARGET["delta"])
    problems = []
    if answer[0] < width:
        problems.append(f"width {answer[0]} is too narrow: the error bound needs width >= e / epsilon = {width}.")
    if answer[1] < depth:
        problems.append(f"depth {answer[1]} is too shallow: the confidence needs depth >= ln(1 / delta) = "
                        f"{math.log(1 / CMS_TARGET['delta']):.2f}, so {depth}.")
    if not problems and (answer[0] > width * 1.1 or answer[1] > depth + 1):
        problems.append(f"({answer[0]}, {answer[1]}) works but is bigger than needed: ({width}, {depth}).")
    if problems:
        return report(title, problems)
    return report(title, [], f"{width} x {depth} counters = {width * depth * 4 / 1024:.0f} kB with 32-bit counters.")
