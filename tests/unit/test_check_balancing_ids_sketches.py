"""The lab 13 and 14 checkers accept right answers, reject wrong ones with a hint, and never raise."""

from __future__ import annotations

import math

import pytest

from patterns.check.balancing import (
    LoadView,
    check_bounded_capacity,
    check_health_check_errors,
    check_pick_two,
    check_weights,
)
from patterns.check.ids import check_backwards_policy, check_decode_snowflake
from patterns.check.sketches import check_bloom_size, check_cms_size, check_hll_precision
from patterns.ids import TWITTER_EPOCH_MS


def good_pick_two(loads, rng):
    i, j = rng.randrange(len(loads)), rng.randrange(len(loads))
    return i if loads[i] <= loads[j] else j


@pytest.mark.parametrize(
    "bad, says",
    [
        (lambda loads, rng: min(range(len(loads)), key=lambda i: loads[i]), "may look at 2"),
        (lambda loads, rng: rng.randrange(len(loads)), "never looked at"),
        (lambda loads, rng: (lambda i: (loads[i], i)[1])(rng.randrange(len(loads))), "the fullest"),
        (lambda loads, rng: 0 if loads[0] <= loads[1] else 1, "must be random"),
        (lambda loads, rng: (lambda i, j: i if loads[i] > loads[j] else j)(rng.randrange(len(loads)),
                                                                         rng.randrange(len(loads))), "smaller"),
        (lambda loads, rng: len(loads), "index in range"),
        (lambda loads, rng: 1 / 0, "ZeroDivisionError"),
        (lambda loads, rng: (loads[0], 5)[1], "never looked at"),
        ("not a function", "expected a function"),
        (..., "not answered"),
    ],
)
def test_pick_two_rejections(bad, says, capsys) -> None:
    assert check_pick_two(bad, n=1024) is False
    assert says in capsys.readouterr().out


def test_pick_two_accepts_the_real_thing(capsys) -> None:
    assert check_pick_two(good_pick_two) is True
    assert "✓" in capsys.readouterr().out


def test_load_view_records_reads() -> None:
    view = LoadView([3, 1, 2])
    assert view[1] == 1 and view[-1] == 2 and view.read == {1, 2}
    list(view)
    assert view.read == {0, 1, 2}


def test_weights(capsys) -> None:
    assert check_weights([4, 4, 4, 1, 2]) is True
    assert "p99" in capsys.readouterr().out
    assert check_weights([1, 1, 1, 1, 1]) is False
    assert "hint" in capsys.readouterr().out
    for bad in ([1, 2], [1, 1, 1, -1, 1], [1, 1, 1, math.nan, 1], ..., "4,4,4,1,2"):
        assert check_weights(bad) is False


def test_bounded_capacity(capsys) -> None:
    assert check_bounded_capacity(16) is True
    assert check_bounded_capacity(15) is False
    assert "in_flight + 1" in capsys.readouterr().out
    assert check_bounded_capacity(1.25 * 121 / 10) is False
    assert "round up" in capsys.readouterr().out
    assert check_bounded_capacity("16") is False and check_bounded_capacity(...) is False


def test_health_check_errors(capsys) -> None:
    assert check_health_check_errors(750) is True
    assert check_health_check_errors(500) is False
    assert "best case" in capsys.readouterr().out
    assert check_health_check_errors(5) is False and check_health_check_errors(None) is False


def test_decode_snowflake(capsys) -> None:
    def decode(i):
        return ((i >> 22) + TWITTER_EPOCH_MS, (i >> 12) & 0x3FF, i & 0xFFF)

    assert check_decode_snowflake(decode) is True
    assert check_decode_snowflake(lambda i: (i >> 22, (i >> 12) & 0x3FF, i & 0xFFF)) is False
    assert "TWITTER_EPOCH_MS" in capsys.readouterr().out
    assert check_decode_snowflake(lambda i: ((i >> 22) + TWITTER_EPOCH_MS, (i >> 12) & 0xFF, i & 0xFFF)) is False
    assert "0x3FF" in capsys.readouterr().out
    assert check_decode_snowflake(lambda i: ((i >> 22) + TWITTER_EPOCH_MS, (i >> 12) & 0x3FF, i & 0x7FF)) is False
    assert check_decode_snowflake(lambda i: i) is False
    assert check_decode_snowflake(lambda i: 1 / 0) is False
    assert check_decode_snowflake(...) is False


def test_backwards_policy(capsys) -> None:
    assert check_backwards_policy({"payments": "raise", "chat": "logical", "batch": "wait"}) is True
    assert check_backwards_policy({"payments": "logical", "chat": "logical", "batch": "wait"}) is False
    assert "payments" in capsys.readouterr().out
    assert check_backwards_policy({"payments": "ignore", "chat": ..., "batch": "wait"}) is False
    out = capsys.readouterr().out
    assert "choose one of" in out and "not answered" in out
    assert check_backwards_policy(...) is False and check_backwards_policy(["raise"]) is False


def test_bloom_size(capsys) -> None:
    assert check_bloom_size({"bits": 143_775_876, "hashes": 10}) is True
    assert check_bloom_size({"bits": 100_000_000, "hashes": 10}) is False
    assert "14.4 bits" in capsys.readouterr().out
    assert check_bloom_size({"bits": 143_775_876, "hashes": 2}) is False
    assert "(m / n) ln 2" in capsys.readouterr().out
    assert check_bloom_size({"bits": 300_000_000, "hashes": 10}) is False
    assert "wastes" in capsys.readouterr().out
    assert check_bloom_size({"bits": ..., "hashes": ...}) is False
    assert check_bloom_size({"bits": "many", "hashes": 3}) is False
    assert check_bloom_size(...) is False


def test_hll_precision(capsys) -> None:
    assert check_hll_precision(16) is True
    assert check_hll_precision(15) is False and check_hll_precision(17) is False
    assert check_hll_precision(16.0) is False and check_hll_precision(...) is False


def test_cms_size(capsys) -> None:
    assert check_cms_size((27183, 7)) is True
    assert check_cms_size([27183, 7]) is True
    assert check_cms_size((10000, 7)) is False
    assert "e / epsilon" in capsys.readouterr().out
    assert check_cms_size((27183, 3)) is False
    assert "ln(1 / delta)" in capsys.readouterr().out
    assert check_cms_size((100000, 7)) is False
    assert check_cms_size((1, 2, 3)) is False and check_cms_size(...) is False
