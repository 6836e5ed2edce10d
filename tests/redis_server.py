"""A private ``redis-server`` process for tests that must stop, kill or restart Redis.

The shared server at ``PATTERNS_REDIS_URL`` must never be stopped or reconfigured (other engineers
and CI jobs use it), so outage and durability tests start their own on a free loopback port, in a
temporary directory, and stop it by pid. Import as ``from tests.redis_server import RedisServer``.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType

import pytest

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


def _crc16_xmodem(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def key_slot(key: str | bytes) -> int:
    """The Redis Cluster slot of ``key``: CRC16/XMODEM mod 16384 of its hash tag (the text between
    the first ``{`` and the next ``}``, if not empty) or of the whole key. Written from the cluster
    specification, independently of the package, so tests can check the package's keys."""
    data = key.encode() if isinstance(key, str) else key
    start = data.find(b"{")
    if start != -1:
        end = data.find(b"}", start + 1)
        if end > start + 1:
            data = data[start + 1 : end]
    return _crc16_xmodem(data) % 16384


def _free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class RedisClusterServers:
    """Three ``redis-server --cluster-enabled yes`` masters (no replicas) on loopback, joined with
    ``redis-cli --cluster create``, in ``directory``; stopped by pid. Ports come from ``ports``
    (each with its cluster bus port, +10000, free too)."""

    def __init__(self, directory: Path, ports: range = range(7200, 7300)) -> None:
        chosen = [p for p in ports if _free(p) and _free(p + 10000)][:3]
        if len(chosen) < 3:
            pytest.fail(f"no three free ports (and bus ports) in {ports}")
        self.nodes = []
        for port in chosen:
            node = RedisServer(directory / str(port))
            node.port = port
            self.nodes.append(node)

    @property
    def url(self) -> str:
        return self.nodes[0].url

    def __enter__(self) -> RedisClusterServers:
        try:
            for node in self.nodes:
                node.extra = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                              "--cluster-node-timeout", "2000"]
                node.start()
            addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
            subprocess.run(["redis-cli", "--cluster", "create", *addresses, "--cluster-replicas", "0",
                            "--cluster-yes"], capture_output=True, check=True, timeout=30)
            deadline = time.monotonic() + 3 * LONG
            while time.monotonic() < deadline:
                states = [subprocess.run(["redis-cli", "-p", str(n.port), "cluster", "info"], capture_output=True,
                                         text=True, check=False).stdout for n in self.nodes]
                if all("cluster_state:ok" in s for s in states):
                    return self
                time.sleep(0.1)
            pytest.fail("the cluster did not reach cluster_state:ok")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        for node in self.nodes:
            node.stop()
