"""A private ``redis-server`` process for tests that must stop, kill or restart Redis.

The shared server at ``PATTERNS_REDIS_URL`` must never be stopped or reconfigured (other engineers
and CI jobs use it), so outage and durability tests start their own on a free loopback port, in a
temporary directory, and stop it by pid. Import as ``from tests.redis_server import RedisServer``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType

import pytest

from patterns.sharding.slots import key_slot  # re-exported: tests check the package's keys with it
from tests.helpers import LONG, closed_port

__all__ = ["RedisServer", "RedisClusterServers", "redis_server_available", "key_slot"]


def redis_server_available() -> bool:
    return shutil.which("redis-server") is not None


class RedisServer:
    """``with RedisServer(tmp_path) as server: ... server.stop() ... server.start()``.

    ``appendonly=True`` turns on the append-only file (``appendfsync`` as given), so data written
    before a stop or a SIGKILL is there after ``start()``. The port stays the same across restarts.
    """

    def __init__(self, directory: Path, *, appendonly: bool = False, appendfsync: str = "everysec") -> None:
        if not redis_server_available():
            pytest.fail("redis-server is not installed (Debian package redis-server)")
        self.directory = directory
        self.port = closed_port()
        self.appendonly = appendonly
        self.appendfsync = appendfsync
        self.process: subprocess.Popen[bytes] | None = None
        self.extra: list[str] = []  # more redis-server options (e.g. cluster mode)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        if self.process is not None:
            raise RuntimeError("already running")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "yes" if self.appendonly else "no", "--appendfsync", self.appendfsync,
                "--dir", str(self.directory), "--daemonize", "no", "--logfile", "redis.log",
                *self.extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + LONG
        while True:
            probe = subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True, check=False
            )
            if probe.stdout.strip() == "PONG":
                return self
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (self.directory / "redis.log").read_text() if (self.directory / "redis.log").exists() else ""
                self.stop()
                pytest.fail(f"redis-server on port {self.port} did not start: {log[-500:]}")
            time.sleep(0.02)

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server: SIGTERM (a clean shutdown) or, with ``kill``, SIGKILL (a crash)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.process.wait(LONG)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(LONG)
        self.process = None

    def restart(self, *, kill: bool = False) -> None:
        self.stop(kill=kill)
        self.start()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _this_workers(ports: range) -> range:
    """``ports`` moved up by 1,000 per pytest-xdist worker (gw0: as given, gw1: +1000, ...): two
    workers picking free ports at the same moment would otherwise pick the same ones."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    shift = 1000 * int(worker[2:]) if worker[2:].isdigit() else 0
    return range(ports.start + shift, ports.stop + shift)


def _free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class RedisClusterServers:
    """``masters`` ``redis-server --cluster-enabled yes`` masters, each with ``replicas`` replicas, on
    loopback, joined with ``redis-cli --cluster create``, in ``directory``; stopped by pid. Ports come
    from ``ports`` (each with its cluster bus port, +10000, free too). Ready when every node reports
    ``cluster_state:ok``, knows every replica, every replica's link to its master is up, and every
    master lists its replicas ``online``.

    ``node_timeout_ms`` is how long a master may be unreachable before its replica takes over.
    """

    def __init__(self, directory: Path, ports: range = range(7200, 7300), *, masters: int = 3,
                 replicas: int = 0, node_timeout_ms: int = 2000) -> None:
        total = masters * (1 + replicas)
        ports = _this_workers(ports)
        chosen = [p for p in ports if _free(p) and _free(p + 10000)][:total]
        if len(chosen) < total:
            pytest.fail(f"no {total} free ports (and bus ports) in {ports}")
        self.replicas = replicas
        self.node_timeout_ms = node_timeout_ms
        self.nodes = []
        for port in chosen:
            node = RedisServer(directory / str(port))
            node.port = port
            self.nodes.append(node)

    @property
    def url(self) -> str:
        return self.nodes[0].url

    @property
    def cluster_url(self) -> str:
        """``redis+cluster://`` URL for ``patterns.infra.redis_client`` / ``redis_cluster_client``."""
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}"

    def node(self, port: int) -> RedisServer:
        return next(n for n in self.nodes if n.port == port)

    def _cli(self, port: int, *args: str) -> str:
        return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True,
                              check=False).stdout

    def _ready(self) -> bool:
        for node in self.nodes:
            if node.process is None:
                continue
            if "cluster_state:ok" not in self._cli(node.port, "cluster", "info"):
                return False
            roles = [line.split()[2] for line in self._cli(node.port, "cluster", "nodes").splitlines() if line]
            if sum("slave" in r for r in roles) != len(self.nodes) - len(self.nodes) // (1 + self.replicas):
                return False
            info = self._cli(node.port, "info", "replication")
            if "role:slave" in info and "master_link_status:up" not in info:
                return False
            # The master's side too: a replica whose link is up may not be ``online`` for its master
            # yet, and until it is, ``WAIT`` counts it as no replica at all.
            if "role:master" in info and info.count("state=online") < self.replicas:
                return False
        return True

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 6 * LONG
        while time.monotonic() < deadline:
            if self._ready():
                return
            time.sleep(0.1)
        pytest.fail("the cluster did not become ready (cluster_state:ok, replicas in sync)")

    def __enter__(self) -> RedisClusterServers:
        try:
            for node in self.nodes:
                node.extra = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                              "--cluster-node-timeout", str(self.node_timeout_ms),
                              "--repl-diskless-sync-delay", "0"]
                node.start()
            addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
            subprocess.run(["redis-cli", "--cluster", "create", *addresses, "--cluster-replicas",
                            str(self.replicas), "--cluster-yes"], capture_output=True, check=True, timeout=30)
            self.wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        for node in self.nodes:
            node.stop()
