"""Where real engines plug in.

Labs and tests call these functions instead of constructing clients themselves, so one environment
variable switches a whole workshop from the embedded engines to shared servers:

* ``PATTERNS_REDIS_URL`` (e.g. ``redis://127.0.0.1:6379/0``): ``redis_client()`` connects there;
  unset, it returns a fakeredis client with Lua scripting, in-process. A ``redis+cluster://host:port``
  URL gives a ``redis.cluster.RedisCluster`` client that discovers the cluster from that node.
* ``PATTERNS_REDIS_CLUSTER_URL`` (e.g. ``redis+cluster://127.0.0.1:7101``): a Redis Cluster for the
  contract tests and the sharding labs; ``redis_cluster_client()`` connects there. Unset, those labs
  run their embedded simulation of a cluster.
* ``PATTERNS_KAFKA_BOOTSTRAP`` (e.g. ``127.0.0.1:9092``): ``kafka_bootstrap()`` returns it; unset,
  labs use the in-process broker.
* SQLite is the real engine for databases: ``sqlite_db(path)``.
"""

from __future__ import annotations

import functools
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

from patterns.errors import BackendUnavailable

__all__ = [
    "REDIS_URL_ENV",
    "REDIS_CLUSTER_URL_ENV",
    "KAFKA_BOOTSTRAP_ENV",
    "redis_url",
    "redis_client",
    "redis_cluster_url",
    "redis_cluster_client",
    "is_cluster_client",
    "is_redis_client",
    "require_redis_client",
    "backend_name",
    "kafka_bootstrap",
    "sqlite_db",
    "probe_tcp",
    "mask_url",
    "redis_errors",
    "REDIS_TIMEOUT_ENV",
    "DEFAULT_REDIS_TIMEOUT",
    "describe_servers",
    "show_servers",
]

REDIS_URL_ENV = "PATTERNS_REDIS_URL"
REDIS_CLUSTER_URL_ENV = "PATTERNS_REDIS_CLUSTER_URL"
CLUSTER_SCHEME = "redis+cluster"
KAFKA_BOOTSTRAP_ENV = "PATTERNS_KAFKA_BOOTSTRAP"
REDIS_TIMEOUT_ENV = "PATTERNS_REDIS_TIMEOUT"
#: Seconds a Redis connect or reply may take before the call fails with ``BackendUnavailable``: a
#: hung server costs a request at most this much. Override with ``PATTERNS_REDIS_TIMEOUT``.
DEFAULT_REDIS_TIMEOUT = 0.25
CONNECT_TIMEOUT = 2.0  # seconds: an unreachable Kafka bootstrap fails fast, naming itself

_fake_server: Any = None


def redis_url() -> str | None:
    """The configured Redis URL, or None for the embedded fakeredis."""
    return os.environ.get(REDIS_URL_ENV) or None


def redis_client(url: str | None = None, *, fresh: bool = False, timeout: float | None = None) -> Any:
    """A Redis client: the real server at ``url``/``PATTERNS_REDIS_URL``, else fakeredis with Lua.

    Embedded clients share one in-process server, so two "app servers" built with two calls see
    the same data, as they would on a real Redis. ``fresh=True`` gives an isolated embedded server.
    A configured server that does not answer within ``timeout`` seconds (default
    ``PATTERNS_REDIS_TIMEOUT`` or 0.25 s), or that does not speak Redis, raises
    ``BackendUnavailable``; the message shows the URL with its password masked. A
    ``redis+cluster://`` URL gives a ``redis.cluster.RedisCluster`` (see ``redis_cluster_client``).
    """
    url = url if url is not None else redis_url()
    if url:
        if urlparse(url).scheme == CLUSTER_SCHEME:
            return _real_cluster(url, _timeout(timeout))
        return _real_redis(url, _timeout(timeout))
    import fakeredis

    global _fake_server
    if fresh:
        return fakeredis.FakeRedis(server=fakeredis.FakeServer())
    if _fake_server is None:
        _fake_server = fakeredis.FakeServer()
    return fakeredis.FakeRedis(server=_fake_server)


def redis_cluster_url() -> str | None:
    """The configured Redis Cluster URL (``PATTERNS_REDIS_CLUSTER_URL``), or None: labs then simulate."""
    return os.environ.get(REDIS_CLUSTER_URL_ENV) or None


def redis_cluster_client(url: str | None = None, *, timeout: float | None = None) -> Any:
    """A ``redis.cluster.RedisCluster`` client for the cluster at ``url`` or ``PATTERNS_REDIS_CLUSTER_URL``.

    ``url`` is ``redis+cluster://host:port`` or ``redis://host:port`` (any one node: the client
    discovers the others and the slot map from it). Same rules as ``redis_client``: ``timeout``
    seconds per connect or reply, no hidden retries of a failed command (MOVED and ASK redirections
    are still followed: they are the cluster's protocol, not failures), ``BackendUnavailable`` with
    the password masked when no node answers or the node is not in cluster mode. No URL configured
    is a ``ValueError``: there is no embedded cluster client (labs use a simulation instead).
    """
    url = url if url is not None else redis_cluster_url()
    if not url:
        raise ValueError(f"no Redis Cluster configured: pass url= or set {REDIS_CLUSTER_URL_ENV}")
    return _real_cluster(url, _timeout(timeout))


def _timeout(timeout: float | None) -> float:
    from patterns._validate import require_seconds

    if timeout is not None:
        return require_seconds(timeout, "timeout", maximum=60.0)
    configured = os.environ.get(REDIS_TIMEOUT_ENV)
    if not configured:
        return DEFAULT_REDIS_TIMEOUT
    try:
        value = float(configured)
    except ValueError:
        raise ValueError(f"{REDIS_TIMEOUT_ENV} must be a number of seconds, got {configured!r}") from None
    return require_seconds(value, REDIS_TIMEOUT_ENV, maximum=60.0)


def mask_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (``redis://:***@host:6379/0``): safe to print."""
    try:
        parsed = urlparse(url)
    except ValueError:
        return "<unparseable URL>"
    if parsed.password is None:
        return url
    user = parsed.username or ""
    host = parsed.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}:***@{host}" + (f":{parsed.port}" if parsed.port else "")
    return parsed._replace(netloc=netloc).geturl()


def _scrub(text: str, url: str) -> str:
    """Remove the password of ``url`` from ``text`` (redis-py messages may quote the URL)."""
    try:
        password = urlparse(url).password
    except ValueError:
        password = None
    if password:
        text = text.replace(password, "***")
    return text


def _real_redis(url: str, timeout: float) -> Any:
    import redis

    parsed = urlparse(url)
    if parsed.scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"{REDIS_URL_ENV} must be a redis:// URL, got {mask_url(url)!r}")
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # No silent retries inside the client: a hung server costs one timeout, and the pattern above
    # (a retry policy, a fallback, a limiter's failure policy) decides what happens next.
    client = redis.Redis.from_url(
        url, socket_connect_timeout=timeout, socket_timeout=timeout, retry=Retry(NoBackoff(), 0)
    )
    with redis_errors(url, "connect to"):
        client.ping()
    return client


def _real_cluster(url: str, timeout: float) -> Any:
    from redis.backoff import NoBackoff
    from redis.cluster import RedisCluster
    from redis.exceptions import RedisClusterException
    from redis.retry import Retry

    parsed = urlparse(url)
    if parsed.scheme not in (CLUSTER_SCHEME, "redis", "rediss"):
        raise ValueError(f"a Redis Cluster URL must be redis+cluster://host:port, got {mask_url(url)!r}")
    if parsed.path.strip("/") not in ("", "0"):
        raise ValueError(f"a Redis Cluster has only database 0, got {mask_url(url)!r}")
    plain = parsed._replace(scheme="redis" if parsed.scheme == CLUSTER_SCHEME else parsed.scheme, path="")
    with redis_errors(url, "connect to"):
        try:
            client = RedisCluster.from_url(
                plain.geturl(),
                socket_connect_timeout=timeout,
                socket_timeout=timeout,
                retry=Retry(NoBackoff(), 0),
            )
        except RedisClusterException as exc:
            # No node answered, or the node is a plain Redis ("Cluster mode is not enabled").
            detail = _scrub(str(exc), url)
            raise BackendUnavailable(
                f"could not connect to the Redis Cluster at {mask_url(url)}: {detail}"
            ) from None
        client.ping()
    return client


@functools.cache
def _unavailable_errors() -> tuple[type[BaseException], ...]:
    """redis-py's "no server can serve this now" errors, the cluster's included (a cluster that is
    down or has no node for a slot during a failover; some of these exist only in newer redis-py)."""
    from redis import exceptions as rex

    names = ("ConnectionError", "TimeoutError", "InvalidResponse", "BusyLoadingError", "ClusterDownError",
             "TryAgainError", "SlotNotCoveredError", "RedisClusterUnreachableError")
    return (*(getattr(rex, name) for name in names if hasattr(rex, name)), OSError)


@contextmanager
def redis_errors(url: str | None = None, action: str = "reach") -> Iterator[None]:
    """Turn "the server is not there / not answering / not Redis" into ``BackendUnavailable``.

    Connection refused, a timeout, a reply that is not RESP (a web server on the port), a server
    still loading its data, and a cluster that is down or has no node for a slot (during a
    failover) all mean the same to a caller: the backend is unavailable now. Other Redis errors (a
    wrong type, a script error, NOPERM, CROSSSLOT) are bugs or configuration and pass through.
    The message never contains the password.
    """
    import redis

    try:
        yield
    except _unavailable_errors() as exc:
        where = f"Redis at {mask_url(url)}" if url else "Redis"
        detail = _scrub(str(exc), url) if url else str(exc)
        raise BackendUnavailable(f"could not {action} {where}: {type(exc).__name__}: {detail}") from None
    except redis.ResponseError as exc:
        if "protocol error" in str(exc).lower():
            where = f"Redis at {mask_url(url)}" if url else "Redis"
            raise BackendUnavailable(f"{where} does not speak the Redis protocol: {exc}") from None
        raise


def is_redis_client(obj: object) -> bool:
    """True for redis-py clients: ``redis.Redis`` (fakeredis included, it subclasses it) and
    ``redis.cluster.RedisCluster``."""
    try:
        import redis
        from redis.cluster import RedisCluster
    except ImportError:  # pragma: no cover - redis is a hard dependency
        return False
    return isinstance(obj, (redis.Redis, RedisCluster))


def require_redis_client(client: object, name: str = "client") -> Any:
    """``client`` if it is a redis-py client (see ``is_redis_client``), else a ``TypeError`` naming it."""
    if not is_redis_client(client):
        raise TypeError(
            f"{name} must be a redis-py client (redis.Redis, fakeredis or redis.cluster.RedisCluster), "
            f"got {type(client).__name__}"
        )
    return client


def is_cluster_client(obj: object) -> bool:
    """True for a ``redis.cluster.RedisCluster`` client."""
    from redis.cluster import RedisCluster

    return isinstance(obj, RedisCluster)


def backend_name(client: object) -> str:
    """'fakeredis', 'redis' or 'cluster' (for labels in labs and test ids)."""
    if is_cluster_client(client):
        return "cluster"
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


def describe_servers() -> str:
    """One line saying where this process's Redis and Kafka are and its namespace on them.

    Embedded engines: ``Servers: Redis embedded, Kafka embedded (in this process: nothing is
    shared)``. Shared servers: ``Servers: Redis redis://ws07:***@10.0.0.5:7800/0, Kafka
    10.0.0.5:7801; your namespace: ws07`` (the password masked). A configured Redis is connected to
    and asked whether this namespace's keys are allowed, so a wrong address, password or namespace
    fails here, in the setup cell, with a message that says which (``BackendUnavailable`` for an
    unreachable server; ``PermissionError`` when the Redis user may not use the namespace's keys).
    The line always starts with ``Servers: Redis `` (tests/nbval_sanitize.cfg normalises it, so a
    lab prints the same on both kinds of engine).
    """
    from patterns.keys import namespace

    url = redis_url()
    bootstrap = kafka_bootstrap()
    if not url and not bootstrap:
        return "Servers: Redis embedded, Kafka embedded (in this process: nothing is shared)"
    ns = namespace()
    if url:
        _check_namespace_allowed(redis_client(url), url, ns)
    return f"Servers: Redis {mask_url(url) if url else 'embedded'}, Kafka {bootstrap or 'embedded'}; your namespace: {ns}"


def _check_namespace_allowed(client: Any, url: str, ns: str) -> None:
    """Raise ``PermissionError`` if the server's ACL denies this namespace's keys (a read-only probe)."""
    import redis

    denied = False
    with redis_errors(url, "reach"):
        try:
            client.exists(f"{ns}:probe")
        except redis.exceptions.NoPermissionError:
            denied = True
    if denied:  # raised outside redis_errors, which would take a PermissionError (an OSError) for a network error
        raise PermissionError(
            f"the Redis user in {mask_url(url)} may not use keys of namespace {ns!r}: set "
            f"PATTERNS_NAMESPACE to the namespace on your workshop card"
        )


def show_servers() -> None:
    """Print ``describe_servers()``: a lab's setup cell calls it once, so a learner sees which
    servers the lab uses and, on shared ones, the namespace that keeps their keys apart."""
    print(describe_servers())
