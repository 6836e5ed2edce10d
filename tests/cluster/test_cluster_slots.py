"""``patterns.sharding.key_slot`` is Redis Cluster's slot function: it agrees with ``CLUSTER KEYSLOT``
on a real cluster for 10,000 keys (a quarter of them with ``{tag}`` hash tags, and the edge cases of
the tag rule), with redis-py's independent implementation on any key, and with the specification's
CRC16 check value. ``SlotRouter`` splits slots exactly like ``redis-cli --cluster create``."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.crc import key_slot as redis_py_key_slot

from patterns.sharding import SLOTS, SlotRouter, crc16, hash_tag, key_slot, slot_ranges
from patterns.sharding.cluster import LiveCluster

EDGE_CASES = ["", "{", "}", "{}", "{}x", "x{}", "{a", "a}", "}{a}", "{a}{b}", "a{b}c", "{{a}}", "{a}}",
              "x{}{y}", "{ }", "\u00e9{\u00e9}", "user:{42}:cart", "{user:42}", "foo{bar}zap"]


def random_keys(count: int, seed: int = 13) -> list[str | bytes]:
    rng = random.Random(seed)
    alphabet = "abcxyz019:-_{}" + "\u00e9\u4e2d"
    keys: list[str | bytes] = list(EDGE_CASES)
    while len(keys) < count:
        kind = len(keys) % 4
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        if kind == 0:  # an explicit hash tag somewhere in the key
            tag = "".join(rng.choice("abcxyz0123456789-") for _ in range(rng.randint(1, 12)))
            cut = rng.randint(0, len(text))
            keys.append(f"{text[:cut]}{{{tag}}}{text[cut:]}")
        elif kind == 1:  # arbitrary bytes, braces included
            keys.append(bytes(rng.randrange(256) for _ in range(rng.randint(0, 20))))
        else:
            keys.append(text)
    return keys


def test_key_slot_equals_cluster_keyslot_for_10000_keys(live: LiveCluster) -> None:
    keys = random_keys(10_000)
    assert sum(1 for k in keys if isinstance(k, str) and "{" in k and "}" in k) > 2_500
    server = live.keyslots(keys)
    ours = [key_slot(k) for k in keys]
    mismatches = [(k, o, s) for k, o, s in zip(keys, ours, server, strict=True) if o != s]
    assert not mismatches, mismatches[:5]


@given(st.binary(max_size=40) | st.text(max_size=40) | st.text(alphabet="ab{}", max_size=12))
def test_key_slot_equals_redis_py(key: str | bytes) -> None:
    data = key.encode() if isinstance(key, str) else key
    assert key_slot(key) == redis_py_key_slot(data)


def test_key_slot_edge_cases_equal_redis_py() -> None:
    assert [key_slot(k) for k in EDGE_CASES] == [redis_py_key_slot(k.encode()) for k in EDGE_CASES]


def test_crc16_check_value_and_tags() -> None:
    assert crc16(b"123456789") == 0x31C3  # the CRC-16/XMODEM check value
    assert key_slot("123456789") == 0x31C3 % SLOTS == 12739
    assert hash_tag("user:{42}:cart") == b"42" and hash_tag("{}x") == b"{}x" and hash_tag("a{b") == b"a{b"
    assert key_slot("{user-1}:cart") == key_slot("{user-1}:total") == key_slot("user-1")
    assert key_slot(42) == key_slot("42")
    with pytest.raises(TypeError, match="key"):
        key_slot(4.2)  # type: ignore[arg-type]


def test_slot_ranges_match_redis_cli_create() -> None:
    assert slot_ranges(3) == [(0, 5460), (5461, 10922), (10923, 16383)]
    for masters in (1, 2, 3, 5, 7, 16, 100):
        ranges = slot_ranges(masters)
        assert ranges[0][0] == 0 and ranges[-1][1] == SLOTS - 1
        assert all(a[1] + 1 == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
        sizes = [last - first + 1 for first, last in ranges]
        assert max(sizes) - min(sizes) <= 1
    with pytest.raises(ValueError, match="masters"):
        slot_ranges(0)


def test_the_live_cluster_was_created_with_the_same_split(live: LiveCluster) -> None:
    owners = live.slot_owners()
    router = SlotRouter(live.masters)
    assert all(owners[s] == router.owner_of_slot(s) for s in range(0, SLOTS, 7))


def test_slot_router_routes_and_moves_slots() -> None:
    router = SlotRouter(["A", "B", "C"])
    assert router.node_for("{user-1}:cart") == router.owner_of_slot(key_slot("user-1"))
    assert len(router.slots_of("A")) == 5461 and len(router.slots_of("B")) == 5462
    slot = key_slot("user-1")
    router.assign(slot, "C")
    assert router.node_for("user-1") == "C"
    for bad, error in (([], ValueError), (["A", "A"], ValueError), ("ABC", TypeError), ([""], ValueError)):
        with pytest.raises(error, match="nodes"):
            SlotRouter(bad)
    with pytest.raises(ValueError, match="slot"):
        router.assign(SLOTS, "A")
    with pytest.raises(ValueError, match="node"):
        router.assign(0, "Z")
