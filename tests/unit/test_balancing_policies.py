"""Each balancing policy chooses what its docstring promises, and refuses bad arguments."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from patterns.balancing import (
    Backend,
    ConsistentHash,
    LeastConnections,
    Policy,
    PowerOfTwoChoices,
    RandomChoice,
    RoundRobin,
    WeightedRoundRobin,
)


def fleet(*loads: int, weights: tuple[float, ...] | None = None) -> list[Backend]:
    weights = weights or (1.0,) * len(loads)
    return [Backend(f"s{i}", w, n) for i, (n, w) in enumerate(zip(loads, weights, strict=True))]


def picks(policy: Policy, backends: list[Backend], n: int, key: object = None) -> list[str]:
    return [policy.choose(backends, key).name for _ in range(n)]  # type: ignore[arg-type]


def test_every_policy_satisfies_the_protocol() -> None:
    for policy in (RoundRobin(), WeightedRoundRobin(), RandomChoice(), LeastConnections(),
                   PowerOfTwoChoices(), ConsistentHash()):
        assert isinstance(policy, Policy) and policy.name


def test_round_robin_cycles_blind_to_load() -> None:
    backends = fleet(100, 0, 0)
    assert picks(RoundRobin(), backends, 6) == ["s0", "s1", "s2", "s0", "s1", "s2"]


def test_smooth_weighted_round_robin_interleaves_like_nginx() -> None:
    backends = fleet(0, 0, 0, weights=(5, 1, 1))
    assert picks(WeightedRoundRobin(), backends, 7) == ["s0", "s0", "s1", "s0", "s2", "s0", "s0"]


def test_weighted_round_robin_shares_follow_weights() -> None:
    backends = fleet(0, 0, 0, weights=(3, 2, 1))
    assert Counter(picks(WeightedRoundRobin(), backends, 600)) == {"s0": 300, "s1": 200, "s2": 100}


def test_random_choice_is_seeded_and_roughly_even() -> None:
    backends = fleet(0, 0, 0, 0)
    first = picks(RandomChoice(random.Random(3)), backends, 4000)
    assert first == picks(RandomChoice(random.Random(3)), backends, 4000)
    assert all(900 < c < 1100 for c in Counter(first).values())


def test_weighted_random_follows_weights() -> None:
    counts = Counter(picks(RandomChoice(random.Random(1), weighted=True), fleet(0, 0, weights=(9, 1)), 10_000))
    assert 0.88 < counts["s0"] / 10_000 < 0.92


def test_least_connections_picks_the_least_loaded_per_weight() -> None:
    assert LeastConnections().choose(fleet(3, 1, 2)).name == "s1"
    # 4 in flight on weight 4 is less loaded than 2 on weight 1
    assert LeastConnections().choose(fleet(4, 2, weights=(4, 1))).name == "s0"


def test_least_connections_breaks_ties_round_robin() -> None:
    assert picks(LeastConnections(), fleet(0, 0, 0), 3) == ["s0", "s1", "s2"]


def test_power_of_two_choices_keeps_the_less_loaded_of_the_two_drawn() -> None:
    rng = random.Random(5)
    mirror = random.Random(5)
    backends = fleet(5, 1, 3, 0, 7)
    for _ in range(200):
        chosen = PowerOfTwoChoices(rng).choose(backends)
        i = mirror.randrange(5)
        j = mirror.randrange(4)
        j += j >= i
        expected = backends[j] if backends[j].load < backends[i].load else backends[i]
        assert chosen is expected


def test_power_of_d_choices_and_a_single_backend() -> None:
    assert PowerOfTwoChoices(random.Random(1), d=5).choose(fleet(5, 4, 3, 2, 1)).name == "s4"
    assert PowerOfTwoChoices(random.Random(1)).choose(fleet(9)).name == "s0"
    assert PowerOfTwoChoices(d=3).name == "power of 3 choices"


def test_consistent_hash_is_sticky_and_moves_only_a_lost_backends_keys() -> None:
    backends = fleet(0, 0, 0, 0)
    policy = ConsistentHash()
    owners = {k: policy.choose(backends, f"user:{k}").name for k in range(2000)}
    assert owners == {k: policy.choose(backends, f"user:{k}").name for k in range(2000)}
    assert len(set(owners.values())) == 4
    without_s1 = [b for b in backends if b.name != "s1"]
    moved = {k for k in owners if policy.choose(without_s1, f"user:{k}").name != owners[k]}
    assert moved == {k for k, owner in owners.items() if owner == "s1"}
    # s1 comes back: its keys return to it
    assert {k: policy.choose(backends, f"user:{k}").name for k in range(2000)} == owners


def test_bounded_loads_never_exceed_the_capacity() -> None:
    backends = fleet(0, 0, 0, 0, 0)
    policy = ConsistentHash(load_factor=1.25)
    for _ in range(500):  # every request to the same hot key, none finishes
        chosen = policy.choose(backends, "hot")
        total = sum(b.in_flight for b in backends)
        assert chosen.in_flight < math.ceil(1.25 * (total + 1) / 5)
        chosen.in_flight += 1
    # the bound is on the maximum (c times the average), not on the spread: the hot key fills its
    # owner, then the next backend clockwise, and so on, and the last ones may stay empty
    assert max(b.in_flight for b in backends) == math.ceil(1.25 * 500 / 5)
    assert sum(b.in_flight > 0 for b in backends) >= 4


def test_unbounded_consistent_hash_sends_a_hot_key_to_one_backend() -> None:
    backends = fleet(0, 0, 0)
    policy = ConsistentHash()
    for _ in range(100):
        policy.choose(backends, "hot").in_flight += 1
    assert sorted(b.in_flight for b in backends) == [0, 0, 100]


@pytest.mark.parametrize(
    "make, error",
    [
        (lambda: ConsistentHash(load_factor=1.0), ValueError),
        (lambda: ConsistentHash(load_factor=math.inf), ValueError),
        (lambda: ConsistentHash(vnodes=0), ValueError),
        (lambda: PowerOfTwoChoices(d=0), ValueError),
        (lambda: PowerOfTwoChoices(rng=1), TypeError),  # type: ignore[arg-type]
        (lambda: RandomChoice(weighted="yes"), TypeError),  # type: ignore[arg-type]
        (lambda: Backend("", 1.0), ValueError),
        (lambda: Backend("a", 0.0), ValueError),
        (lambda: Backend("a", math.nan), ValueError),
        (lambda: Backend("a", 1.0, -1), ValueError),
    ],
)
def test_bad_arguments_are_refused_at_the_door(make, error) -> None:
    with pytest.raises(error):
        make()


@pytest.mark.parametrize("policy", [RoundRobin(), WeightedRoundRobin(), RandomChoice(), LeastConnections(),
                                    PowerOfTwoChoices(), ConsistentHash()])
def test_no_backends_is_a_clear_error(policy: Policy) -> None:
    with pytest.raises(ValueError, match="at least 1 eligible backend"):
        policy.choose([], "k")


def test_consistent_hash_needs_a_key_of_a_hashable_kind() -> None:
    with pytest.raises(ValueError, match="key must be given"):
        ConsistentHash().choose(fleet(0, 0))
    with pytest.raises(TypeError):
        ConsistentHash().choose(fleet(0, 0), 1.5)  # type: ignore[arg-type]
