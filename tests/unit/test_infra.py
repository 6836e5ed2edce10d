import time
from pathlib import Path

import pytest

from patterns import infra
from patterns.errors import BackendUnavailable
from tests.helpers import closed_port

ROOT = Path(__file__).resolve().parents[2]


def test_embedded_redis_is_fakeredis_with_lua(monkeypatch):
    monkeypatch.delenv(infra.REDIS_URL_ENV, raising=False)
    client = infra.redis_client()
    assert infra.backend_name(client) == "fakeredis"
    assert client.eval("return ARGV[1] + 1", 0, 41) == 42


def test_embedded_clients_share_one_server_unless_fresh(monkeypatch):
    monkeypatch.delenv(infra.REDIS_URL_ENV, raising=False)
    a, b = infra.redis_client(), infra.redis_client()
    a.set("infra-test:shared", "yes")
    assert b.get("infra-test:shared") == b"yes"
    assert infra.redis_client(fresh=True).get("infra-test:shared") is None
    a.delete("infra-test:shared")


def test_unreachable_redis_fails_fast_naming_the_url(monkeypatch):
    url = f"redis://127.0.0.1:{closed_port()}/0"
    monkeypatch.setenv(infra.REDIS_URL_ENV, url)
    start = time.monotonic()
    with pytest.raises(BackendUnavailable, match=url):
        infra.redis_client()
    assert time.monotonic() - start < 2.5


def test_bad_redis_url_is_a_value_error(monkeypatch):
    monkeypatch.setenv(infra.REDIS_URL_ENV, "http://localhost:6379")
    with pytest.raises(ValueError, match=infra.REDIS_URL_ENV):
        infra.redis_client()


def test_kafka_bootstrap_unset_means_in_process(monkeypatch):
    monkeypatch.delenv(infra.KAFKA_BOOTSTRAP_ENV, raising=False)
    assert infra.kafka_bootstrap() is None


def test_unreachable_kafka_fails_fast_naming_the_address(monkeypatch):
    address = f"127.0.0.1:{closed_port()}"
    monkeypatch.setenv(infra.KAFKA_BOOTSTRAP_ENV, address)
    with pytest.raises(BackendUnavailable, match=address):
        infra.kafka_bootstrap()
    monkeypatch.setenv(infra.KAFKA_BOOTSTRAP_ENV, "no-port-here")
    with pytest.raises(ValueError, match="host:port"):
        infra.kafka_bootstrap()


def test_is_redis_client_accepts_clients_only():
    assert infra.is_redis_client(infra.redis_client(url="", fresh=True))
    assert not infra.is_redis_client({"get": None})


def test_sqlite_db_memory_and_file(tmp_path):
    mem = infra.sqlite_db()
    mem["t"].insert({"id": 1})
    assert mem["t"].count == 1
    path = tmp_path / "x.db"
    infra.sqlite_db(path)["t"].insert({"id": 2})
    assert infra.sqlite_db(path)["t"].count == 1


def test_mask_url_hides_passwords() -> None:
    assert infra.mask_url("redis://:s3cret@host:6379/0") == "redis://:***@host:6379/0"
    assert infra.mask_url("redis://alice:s3cret@host/1") == "redis://alice:***@host/1"
    assert infra.mask_url("redis://host:6379/0") == "redis://host:6379/0"


def test_a_server_that_never_answers_costs_one_short_timeout_and_hides_the_password() -> None:
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)  # accepts connections, never replies
        url = f"redis://alice:s3cret@127.0.0.1:{listener.getsockname()[1]}/0"
        start = time.monotonic()
        with pytest.raises(BackendUnavailable) as caught:
            infra.redis_client(url, timeout=0.2)
        assert time.monotonic() - start < 1.5
    assert "s3cret" not in str(caught.value) and "***" in str(caught.value)


def test_a_server_that_is_not_redis_is_unavailable_not_a_protocol_crash() -> None:
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def http_server() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(1024)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    thread = threading.Thread(target=http_server, daemon=True)
    thread.start()
    try:
        with pytest.raises(BackendUnavailable, match="Redis at redis://127.0.0.1"):
            infra.redis_client(f"redis://127.0.0.1:{listener.getsockname()[1]}/0", timeout=1.0)
    finally:
        thread.join(2)
        listener.close()


def test_timeout_setting_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(infra.REDIS_TIMEOUT_ENV, "soon")
    monkeypatch.setenv(infra.REDIS_URL_ENV, "redis://127.0.0.1:1/0")
    with pytest.raises(ValueError, match="PATTERNS_REDIS_TIMEOUT"):
        infra.redis_client()


def test_show_servers_names_the_embedded_engines_or_the_shared_servers_and_namespace(monkeypatch, capsys):
    import re

    monkeypatch.delenv(infra.REDIS_URL_ENV, raising=False)
    monkeypatch.delenv(infra.KAFKA_BOOTSTRAP_ENV, raising=False)
    infra.show_servers()
    embedded = capsys.readouterr().out
    assert embedded == "Servers: Redis embedded, Kafka embedded (in this process: nothing is shared)\n"

    # nbval compares labs run on either kind of engine: the sanitizer maps both lines to one
    cfg = (ROOT / "tests" / "nbval_sanitize.cfg").read_text()
    rules = re.findall(r"^regex: (.*)$\n^replace: (.*)$", cfg, flags=re.MULTILINE)

    def sanitized(text):
        for regex, replace in rules:
            text = re.sub(regex, replace, text)
        return text

    monkeypatch.setenv("PATTERNS_NAMESPACE", "ws07")
    monkeypatch.setattr(infra, "redis_url", lambda: "redis://ws07:s3cret@10.0.0.5:7800/0")
    monkeypatch.setattr(infra, "kafka_bootstrap", lambda: "10.0.0.5:7801")
    monkeypatch.setattr(infra, "redis_client", lambda url: None)
    monkeypatch.setattr(infra, "_check_namespace_allowed", lambda client, url, ns: None)
    shared = infra.describe_servers()
    assert shared == "Servers: Redis redis://ws07:***@10.0.0.5:7800/0, Kafka 10.0.0.5:7801; your namespace: ws07"
    assert "s3cret" not in shared
    assert sanitized(shared + "\n") == sanitized(embedded)
