"""patterns.keys: namespaces, hash-tagged keys, and a clear() that touches only its own keys."""

from __future__ import annotations

import pytest

from patterns import infra, keys
from patterns.keys import KeySpace


def test_namespace_comes_from_the_environment_and_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(keys.NAMESPACE_ENV, "alice")
    assert keys.namespace() == "alice"
    monkeypatch.setenv(keys.NAMESPACE_ENV, "a*b")
    with pytest.raises(ValueError, match="PATTERNS_NAMESPACE must be 1-40 characters"):
        keys.namespace()


def test_derived_namespace_is_stable_within_a_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(keys.NAMESPACE_ENV, raising=False)
    first = keys.namespace()
    assert keys.namespace() == first
    assert keys.validate_namespace(first) == first


def test_keys_carry_namespace_component_and_hash_tag() -> None:
    space = KeySpace.of("ratelimit:sliding_log", ns="bob")
    assert space.key("user-1") == "bob:ratelimit:sliding_log:{user-1}"
    assert space.key("user-1", "seq") == "bob:ratelimit:sliding_log:{user-1}:seq"
    assert space.entity_of(space.key("u:2")) == "u:2"
    assert KeySpace.of("aside:", ns="bob").prefix == "bob:aside"


def test_prefix_with_braces_is_refused() -> None:
    with pytest.raises(ValueError, match="braces"):
        KeySpace.of("a{b}", ns="bob")


def test_glob_characters_are_escaped() -> None:
    assert keys.glob_escape("a*b?[c]\\") == "a\\*b\\?\\[c\\]\\\\"


@pytest.mark.parametrize("component", ["a*", "a?", "[ab]", "x\\"])
def test_clear_deletes_only_its_own_keys_even_with_glob_characters(component: str) -> None:
    client = infra.redis_client(url="", fresh=True)
    mine = KeySpace.of(component, ns="alice")
    others = [KeySpace.of("abc", ns="alice"), KeySpace.of(component, ns="alicex"), KeySpace.of("a", ns="alice")]
    client.set(mine.key("1"), "x")
    client.set(mine.key("2", "seq"), "x")
    for other in others:
        client.set(other.key("1"), "keep")
    assert mine.clear(client) == 2
    assert all(client.get(other.key("1")) == b"keep" for other in others)


def test_kafka_names_are_namespaced() -> None:
    assert keys.kafka_name("orders", "bob") == "bob.orders"


def test_entities_with_braces_or_empty_keep_one_tag_and_round_trip() -> None:
    space = KeySpace.of("c", ns="bob")
    for entity in ["", "%", "{a}b}", "}{", "a%7Bb"]:
        key = space.key(entity, "gen")
        tag = key[key.index("{") + 1 : key.index("}")]
        assert tag and "{" not in tag  # a non-empty tag: the whole entity picks the slot
        assert space.entity_of(space.key(entity)) == entity


def test_clear_leaves_a_space_whose_prefix_extends_this_one() -> None:
    client = infra.redis_client(url="", fresh=True)
    short, longer = KeySpace.of("ratelimit:gcra", ns="al"), KeySpace.of("ratelimit:gcra:x", ns="al")
    client.set(short.key("u"), "1")
    client.set(longer.key("u"), "1")
    assert short.clear(client) == 1
    assert client.get(longer.key("u")) == b"1"


def test_clear_namespace_empties_every_component_of_one_namespace_and_nothing_else() -> None:
    """A learner's "start over": every component's keys go (KeySpace.clear of one component would
    leave the rate limiter's and the cache's), a neighbour whose namespace extends this one stays."""
    from patterns.clock import ManualClock
    from patterns.ratelimit import FixedWindow

    client = infra.redis_client(url="", fresh=True)
    limiter = FixedWindow(limit=5, period=10.0, clock=ManualClock(), backend=client, namespace="t1")
    limiter.allow("user:42")
    client.set(KeySpace.of("aside", ns="t1").key("item:1"), "x")
    client.set(KeySpace.of("aside", ns="t10").key("item:1"), "keep")
    client.set(KeySpace.of("aside", ns="t2").key("item:1"), "keep")
    assert KeySpace("t1").clear(client) == 0  # one space's clear does not reach the components
    assert keys.clear_namespace(client, "t1") == 2
    assert sorted(client.scan_iter(match="t1:*")) == []
    assert len(list(client.scan_iter(match="t*"))) == 2
    assert limiter.allow("user:42").remaining == 4  # the limiter starts over


@pytest.mark.parametrize(("batch", "error"), [(0, ValueError), (True, TypeError), (2.5, TypeError)])
def test_clear_namespace_refuses_a_bad_batch(batch: object, error: type[Exception]) -> None:
    client = infra.redis_client(url="", fresh=True)
    with pytest.raises(error, match="batch"):
        keys.clear_namespace(client, "t1", batch=batch)  # type: ignore[arg-type]
