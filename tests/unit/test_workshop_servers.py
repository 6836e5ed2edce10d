"""scripts/workshop_servers.py on real servers it starts itself: one Redis with an ACL user per
learner, one Kafka-protocol broker, a roster and cards. Learner A cannot read, write, delete or wipe
learner B's keys; A's own commands and Lua scripts work; no password reaches a message."""

from __future__ import annotations

import csv
import os
import socket
import stat
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
import redis

from patterns import infra
from patterns.errors import BackendUnavailable

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import workshop_servers  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    directory = tmp_path_factory.mktemp("workshop")
    redis_port, kafka_port = free_port(), free_port()
    args = ["start", "--learners", "3", "--dir", str(directory), "--bind", "127.0.0.1",
            "--redis-port", str(redis_port), "--kafka-port", str(kafka_port)]
    assert workshop_servers.main(args) == 0
    try:
        with (directory / "roster.csv").open(newline="") as f:
            rows = list(csv.DictReader(f))
        yield directory, rows, redis_port, kafka_port
    finally:
        workshop_servers.main(["stop", "--dir", str(directory)])


def client(row) -> redis.Redis:
    return infra.redis_client(row["PATTERNS_REDIS_URL"], timeout=2.0)


def test_roster_and_cards_give_each_learner_a_namespace_and_a_password(room):
    directory, rows, redis_port, kafka_port = room
    assert list(rows[0]) == workshop_servers.ROSTER_FIELDS
    assert [r["namespace"] for r in rows] == ["ws01", "ws02", "ws03"]
    passwords = [urlparse(r["PATTERNS_REDIS_URL"]).password for r in rows]
    assert len(set(passwords)) == 3 and all(len(p) >= 20 for p in passwords)
    for row in rows:
        url = urlparse(row["PATTERNS_REDIS_URL"])
        assert (url.username, url.hostname, url.port) == (row["namespace"], "127.0.0.1", redis_port)
        assert row["PATTERNS_KAFKA_BOOTSTRAP"] == f"127.0.0.1:{kafka_port}"
        assert row["PATTERNS_NAMESPACE"] == row["namespace"]
        card = (directory / "cards" / f"{row['namespace']}.txt").read_text()
        assert row["PATTERNS_REDIS_URL"] in card and "make lab" in card and "$env:PATTERNS_NAMESPACE" in card
    assert all(r["PATTERNS_REDIS_URL"] in (directory / "cards.html").read_text() for r in rows)
    for secret_file in ("roster.csv", "users.acl", "admin.env", "cards.html"):
        assert stat.S_IMODE((directory / secret_file).stat().st_mode) == 0o600
    # the ACL file stores password hashes, never the passwords
    acl = (directory / "users.acl").read_text()
    assert not any(p in acl for p in passwords)


def test_a_learner_cannot_touch_another_learners_keys(room):
    _, rows, _, _ = room
    a, b = client(rows[0]), client(rows[1])
    b.set("ws02:secret", "b's value")
    b.hset("ws02:{cart}", "book", 1)
    for attempt in (
        lambda: a.get("ws02:secret"),
        lambda: a.set("ws02:secret", "overwritten"),
        lambda: a.delete("ws02:secret"),
        lambda: a.hgetall("ws02:{cart}"),
        lambda: a.rename("ws02:secret", "ws01:stolen"),
        lambda: a.copy("ws02:secret", "ws01:copy"),
        lambda: a.set("unprefixed", 1),
        lambda: a.publish("ws02:events", "hello"),
    ):
        with pytest.raises(redis.exceptions.NoPermissionError):
            attempt()
    # SCAN may list key names, but reading what it finds is refused
    found = list(a.scan_iter(match="ws02:*"))
    for key in found:
        with pytest.raises(redis.exceptions.NoPermissionError):
            a.get(key)
    assert b.get("ws02:secret") == b"b's value"


@pytest.mark.parametrize(
    "command",
    [
        ("FLUSHALL",), ("FLUSHDB",), ("KEYS", "*"), ("CONFIG", "GET", "*"), ("CONFIG", "SET", "maxmemory", "1"),
        ("SHUTDOWN", "NOSAVE"), ("DEBUG", "SLEEP", "0"), ("SCRIPT", "KILL"), ("SCRIPT", "FLUSH"),
        ("FUNCTION", "FLUSH"), ("ACL", "SETUSER", "ws02", "off"), ("ACL", "LIST"), ("CLIENT", "KILL", "ID", "1"),
        ("INFO",), ("RANDOMKEY",), ("SWAPDB", "0", "1"), ("MONITOR",),
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_a_learner_cannot_run_commands_that_reach_beyond_their_namespace(room, command):
    _, rows, _, _ = room
    # NOPERM from the ACL; DEBUG is also refused by the server itself (enable-debug-command no)
    with pytest.raises(redis.exceptions.ResponseError, match="(?i)noperm|no permissions|not allowed"):
        client(rows[0]).execute_command(*command)


def test_a_learners_own_commands_and_lua_scripts_work(room):
    _, rows, _, _ = room
    a = client(rows[0])
    assert a.set("ws01:x", 1) and a.incr("ws01:x") == 2 and a.delete("ws01:x") == 1
    # EVAL and EVALSHA (redis-py's register_script, which the package's limiters and caches use)
    counter = a.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    assert counter(keys=["ws01:{n}:count"], args=[5]) == 5
    assert counter(keys=["ws01:{n}:count"], args=[5]) == 10
    assert a.eval("return redis.call('GET', KEYS[1])", 1, "ws01:{n}:count") == b"10"
    # ... but a script reaches only its caller's namespace, declared key or not
    with pytest.raises(redis.exceptions.ResponseError, match="(?i)can't access|no permissions|noperm"):
        a.eval("return redis.call('GET', KEYS[1])", 1, "ws02:secret")
    with pytest.raises(redis.exceptions.ResponseError, match="(?i)can't access|no permissions|noperm"):
        a.eval("return redis.call('GET', 'ws02:secret')", 0)
    # pub/sub on its own channels
    pubsub = a.pubsub()
    pubsub.subscribe("ws01:events")
    assert a.publish("ws01:events", "hi") == 1
    pubsub.close()
    # the package's connection check and banner
    infra_line = _describe(rows[0])
    assert infra_line.endswith("your namespace: ws01") and urlparse(rows[0]["PATTERNS_REDIS_URL"]).password not in infra_line


def _describe(row, namespace=None):
    old = {k: os.environ.get(k) for k in ("PATTERNS_REDIS_URL", "PATTERNS_KAFKA_BOOTSTRAP", "PATTERNS_NAMESPACE")}
    os.environ.update({k: row[k] for k in old})
    if namespace:
        os.environ["PATTERNS_NAMESPACE"] = namespace
    try:
        return infra.describe_servers()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_no_password_appears_in_the_packages_messages(room):
    _, rows, redis_port, _ = room
    row = rows[0]
    password = urlparse(row["PATTERNS_REDIS_URL"]).password
    with pytest.raises(PermissionError) as wrong_namespace:
        _describe(row, namespace="ws02")
    assert "ws02" in str(wrong_namespace.value) and password not in str(wrong_namespace.value)
    wrong = row["PATTERNS_REDIS_URL"].replace(password, password[::-1])
    with pytest.raises(BackendUnavailable) as refused:
        infra.redis_client(wrong, timeout=2.0)
    assert password[::-1] not in str(refused.value) and "***" in str(refused.value)


def test_the_broker_listens_where_the_roster_says(room):
    _, rows, _, kafka_port = room
    host, port = rows[0]["PATTERNS_KAFKA_BOOTSTRAP"].rsplit(":", 1)
    assert infra.probe_tcp(host, int(port))
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=rows[0]["PATTERNS_KAFKA_BOOTSTRAP"], request_timeout_ms=5000)
    try:
        assert isinstance(admin.list_topics(), list)
    finally:
        admin.close()


def test_start_reuses_the_roster_and_stop_stops_both_servers(tmp_path):
    redis_port, kafka_port = free_port(), free_port()
    args = ["--dir", str(tmp_path), "--redis-port", str(redis_port), "--kafka-port", str(kafka_port)]
    assert workshop_servers.main(["start", "-n", "2", "--no-kafka", *args]) == 0
    first = [r[:3] for r in csv.reader((tmp_path / "roster.csv").read_text().splitlines())]
    assert workshop_servers.main(["start", "-n", "2", *args]) == 1  # already running
    workshop_servers.main(["stop", "--dir", str(tmp_path)])
    assert not infra.probe_tcp("127.0.0.1", redis_port, timeout=0.5)
    assert workshop_servers.main(["start", "-n", "3", *args]) == 0  # one more learner, same cards
    try:
        again = [r[:3] for r in csv.reader((tmp_path / "roster.csv").read_text().splitlines())]
        assert again[: len(first)] == first and len(again) == len(first) + 1
        assert infra.probe_tcp("127.0.0.1", kafka_port)
        pid = int((tmp_path / "redis.pid").read_text())
    finally:
        workshop_servers.main(["stop", "--dir", str(tmp_path)])
    assert not infra.probe_tcp("127.0.0.1", redis_port, timeout=0.5)
    assert not infra.probe_tcp("127.0.0.1", kafka_port, timeout=0.5)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_binding_every_interface_needs_the_address_learners_use(tmp_path, capsys):
    assert workshop_servers.main(["start", "--dir", str(tmp_path), "--bind", "0.0.0.0"]) == 2
    assert "--host" in capsys.readouterr().out


def test_the_acl_rule_of_a_learner_is_what_the_guide_says():
    rule = workshop_servers.learner_rule(workshop_servers.Learner("Ada", "ws07", "pw"))
    assert rule.startswith("user ws07 on #") and "~ws07:* &ws07:*" in rule and "+@all -@dangerous" in rule
    for command in ("-flushall", "-flushdb", "-keys", "-config", "-shutdown", "-debug", "-script|kill"):
        assert f" {command}" in rule
    assert len(rule.split("#", 1)[1].split()[0]) == 64  # a SHA-256, not the password
    with pytest.raises(ValueError):
        workshop_servers.learner_rule(workshop_servers.Learner("Eve", "ws*", "pw"))
