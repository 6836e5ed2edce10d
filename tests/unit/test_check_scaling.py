"""The lab 08 checkers accept right answers, reject wrong ones with a hint, and never raise."""

from __future__ import annotations

import pytest

from patterns.check.scaling import (
    VNODE_CHOICES,
    check_modulo_moves,
    check_pick_replica,
    check_shard_for,
    check_vnodes_for_balance,
    modulo_moved_fraction,
    smallest_balanced_vnodes,
)
from patterns.sharding import jump_hash, stable_hash64


def test_modulo_moves(capsys):
    assert abs(modulo_moved_fraction(4, 5) - 0.8) < 0.01  # 4 of every 20 hash values stay
    assert check_modulo_moves(0.8) is True
    assert check_modulo_moves(0.25) is False
    assert "hint" in capsys.readouterr().out
    assert check_modulo_moves(...) is False
    assert "not answered" in capsys.readouterr().out
    assert check_modulo_moves("80%") is False


def good_shard_for(key, n):
    return jump_hash(stable_hash64(key), n)


@pytest.mark.parametrize(
    "bad",
    [
        lambda k, n: stable_hash64(k) % n,  # even, but reshuffles everything
        lambda k, n: len(k) % n,  # uneven
        lambda k, n: n,  # out of range
        lambda k, n: 1 / 0,  # raises
        "not a function",
        ...,
    ],
)
def test_shard_for_rejects_wrong_answers(bad):
    assert check_shard_for(bad) is False


def test_shard_for_accepts_jump_hash():
    assert check_shard_for(good_shard_for) is True


def test_pick_replica():
    def right(applied, min_lsn):
        eligible = [n for n, lsn in applied.items() if lsn >= min_lsn]
        return max(eligible, key=applied.get) if eligible else None

    assert check_pick_replica(right) is True
    assert check_pick_replica(lambda a, m: None) is False  # always the primary
    assert check_pick_replica(lambda a, m: max(a, key=a.get)) is False  # ignores the token
    assert check_pick_replica(lambda a, m: "primary") is False
    assert check_pick_replica(lambda a, m: a["missing"]) is False
    assert check_pick_replica(...) is False


def test_vnodes_for_balance():
    right = smallest_balanced_vnodes()
    assert right in VNODE_CHOICES
    assert check_vnodes_for_balance(right) is True
    assert all(check_vnodes_for_balance(v) is False for v in VNODE_CHOICES if v != right)
    assert check_vnodes_for_balance(123) is False
