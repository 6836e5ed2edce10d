"""Where real engines plug in.

Labs and tests call these functions instead of constructing clients themselves, so one environment
variable switches a whole workshop from the embedded engines to shared servers:

* ``PATTERNS_REDIS_URL`` (e.g. ``redis://127.0.0.1:6379/0``): ``redis_client()`` connects there;
  unset, it returns a fakeredis client with Lua scripting, in-process.
* ``PATTERNS_KAFKA_BOOTSTRAP`` (e.g. ``127.0.0.1:9092``): ``kafka_bootstrap()`` returns it; unset,
  labs use the in-process broker.
* SQLite is the real engine for databases: ``sqlite_db(path)``.
"""

from __future__ import annotations

import os
import socket
from typing import Any
from urllib.parse import urlparse

from patterns.errors import BackendUnavailable

__all__ = [
    "REDIS_URL_ENV",
    "KAFKA_BOOTSTRAP_ENV",
    "redis_url",
    "redis_client",
    "is_redis_client",
    "backend_name",
    "kafka_bootstrap",
    "sqlite_db",
    "probe_tcp",
]

REDIS_URL_ENV = "PATTERNS_REDIS_URL"
KAFKA_BOOTSTRAP_ENV = "PATTERNS_KAFKA_BOOTSTRAP"
CONNECT_TIMEOUT = 2.0  # seconds: an unreachable server fails fast, naming itself

_fake_server: Any = None


def redis_url() -> str | None:
    """The configured Redis URL, or None for the embedded fakeredis."""
    return os.environ.get(REDIS_URL_ENV) or None


def redis_client(url: str | None = None, *, fresh: bool = False) -> Any:
    """A Redis client: the real server at ``url``/``PATTERNS_REDIS_URL``, else fakeredis with Lua.

    Embedded clients share one in-process server, so two "app servers" built with two calls see
    the same data, as they would on a real Redis. ``fresh=True`` gives an isolated embedded server.
    A configured server that does not answer raises ``BackendUnavailable`` within about 2 seconds.
    """
    url = url if url is not None else redis_url()
    if url:
        return _real_redis(url)
    import fakeredis

    global _fake_server
    if fresh:
        return fakeredis.FakeRedis(server=fakeredis.FakeServer())
    if _fake_server is None:
        _fake_server = fakeredis.FakeServer()
    return fakeredis.FakeRedis(server=_fake_server)


def _real_redis(url: str) -> Any:
    import redis

    parsed = urlparse(url)
    if parsed.scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"{REDIS_URL_ENV} must be a redis:// URL, got {url!r}")
    client = redis.Redis.from_url(
        url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=CONNECT_TIMEOUT
    )
    try:
        client.ping()
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        raise BackendUnavailable(f"Redis at {url} is unreachable: {exc}") from exc
    return client


def is_redis_client(obj: object) -> bool:
    """True for redis-py clients, fakeredis included (they subclass ``redis.Redis``)."""
    try:
        import redis
    except ImportError:  # pragma: no cover - redis is a hard dependency
        return False
    return isinstance(obj, redis.Redis)


def backend_name(client: object) -> str:
    """'fakeredis' or 'redis' (for labels in labs and test ids)."""
    return "fakeredis" if type(client).__module__.startswith("fakeredis") else "redis"


def kafka_bootstrap() -> str | None:
    """The configured Kafka bootstrap address, or None for the in-process broker.

    A configured address that does not accept TCP connections raises ``BackendUnavailable``
    within about 3 seconds instead of letting a client hang for 30.
    """
    value = os.environ.get(KAFKA_BOOTSTRAP_ENV) or None
    if value:
        first = value.split(",")[0].strip()
        host, _, port = first.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"{KAFKA_BOOTSTRAP_ENV} must look like host:port, got {value!r}")
        if not probe_tcp(host, int(port), timeout=3.0):
            raise BackendUnavailable(f"Kafka bootstrap {value} is unreachable")
    return value


def probe_tcp(host: str, port: int, timeout: float = 2.0) -> bool:
    """True if something accepts a TCP connection at host:port within ``timeout`` seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def sqlite_db(path: str | os.PathLike[str] | None = None) -> Any:
    """A sqlite-utils ``Database``: in memory when ``path`` is None, else the file at ``path``."""
    import sqlite_utils

    if path is None:
        return sqlite_utils.Database(memory=True)
    return sqlite_utils.Database(os.fspath(path))
