"""A real etcd behind the ``LeaseBackend`` Protocol, through etcd's gRPC gateway (``etcd3gw``).

``PATTERNS_ETCD_URL`` (e.g. ``http://127.0.0.1:2379``) names the server; ``scripts/etcd.sh start``
starts one on loopback. Every operation is one HTTP call to the gateway's ``/v3/`` JSON API;
``acquire`` is one etcd transaction (compare the key's create revision with 0, then put the key on
the lease and put the counter, then read the counter back), so it is atomic on the server.

Two ways to run time:

* ``clock=None`` (production): leases are etcd's own. The server counts their TTL down in real time
  (in whole seconds, at least about 2 s on a default etcd) and deletes their keys when it reaches 0.
* ``clock=ManualClock()`` (labs and tests): a lease's *deadline* follows the injected clock, so a
  one-minute GC pause costs no real minute. The service stores each lease's simulated deadline in a
  key attached to the lease and, before every call, revokes the leases whose deadline has passed:
  it plays the server's expiry timer, the one part of a lease that lives in time. Everything else
  (the atomic create, the revisions, deleting a lease's keys with it, ordering by create revision)
  is etcd's own. The real lease under it has a generous TTL (``REAL_TTL``), so keys left behind by a
  crashed test still vanish on their own. Simulated time is for one process driving a simulation;
  two processes with different simulated clocks would disagree about deadlines.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

from patterns._validate import require_instance, require_seconds
from patterns.clock import Clock, SystemClock
from patterns.coordination.backend import (
    MAX_TTL,
    Entry,
    LeaseExpired,
    require_key,
    require_lease,
    require_value,
)
from patterns.errors import BackendUnavailable
from patterns.infra import mask_url
from patterns.keys import namespace

__all__ = ["ETCD_URL_ENV", "EtcdLeaseService", "etcd_url", "REAL_TTL"]

ETCD_URL_ENV = "PATTERNS_ETCD_URL"
#: Real TTL (seconds) of the etcd lease under a simulated-time lease: long enough for any lab.
REAL_TTL = 600


def etcd_url() -> str | None:
    """The configured etcd URL, or None for the embedded lease service."""
    return os.environ.get(ETCD_URL_ENV) or None


def _enc(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _dec(text: str) -> str:
    return base64.b64decode(text).decode()


def _prefix_end(prefix: str) -> str:
    """etcd's range end for "every key starting with prefix": the prefix with its last byte + 1."""
    raw = bytearray(prefix.encode())
    while raw and raw[-1] == 0xFF:
        raw.pop()
    if not raw:
        return base64.b64encode(b"\x00").decode()
    raw[-1] += 1
    return base64.b64encode(bytes(raw)).decode()


def _entry(kv: dict[str, Any]) -> Entry:
    return Entry(
        key=_dec(kv["key"]),
        value=_dec(kv.get("value", "")),
        create_revision=int(kv.get("create_revision", 0)),
        mod_revision=int(kv.get("mod_revision", 0)),
        version=int(kv.get("version", 0)),
        lease=int(kv.get("lease", 0)),
    )


class EtcdLeaseService:
    """The lease service on a real etcd (v3 API through its gRPC gateway).

    Not shared between threads: give each thread its own instance (etcd itself serialises their
    transactions). ``MemoryLeaseService`` is the thread-safe embedded one.
    """

    def __init__(self, url: str | None = None, *, clock: Clock | None = None, timeout: float = 2.0) -> None:
        url = url if url is not None else etcd_url()
        if not url:
            raise ValueError(f"url must name an etcd server (or set {ETCD_URL_ENV}), got {url!r}")
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"url must look like http://host:port, got {mask_url(url)!r}")
        self._url = url
        self._timeout = require_seconds(timeout, "timeout", maximum=60.0)
        self._simulated = clock is not None
        self._clock: Clock = require_instance(clock, "clock", Clock, what="a Clock") if clock else SystemClock()
        from etcd3gw.client import Etcd3Client

        self._client = Etcd3Client(
            host=parsed.hostname,
            port=parsed.port or 2379,
            protocol=parsed.scheme,
            api_path="/v3/",
            timeout=self._timeout,
        )
        self._deadlines = f"/{namespace()}/coordination/_lease-deadlines/"
        self._swept_at: float | None = None  # simulated time of the last sweep
        self._ttls: dict[int, float] = {}  # simulated TTL of the leases this client granted
        with self._errors("connect to"):
            self._client.status()

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def simulated(self) -> bool:
        """True when lease deadlines follow the injected clock instead of etcd's."""
        return self._simulated

    def __repr__(self) -> str:
        mode = "simulated time" if self._simulated else "real time"
        return f"EtcdLeaseService({mask_url(self._url)!r}, {mode})"

    def close(self) -> None:
        self._client.session.close()

    # -- plumbing ---------------------------------------------------------------------------------
    @contextmanager
    def _errors(self, action: str = "reach") -> Iterator[None]:
        from etcd3gw import exceptions

        try:
            yield
        except (exceptions.ConnectionFailedError, exceptions.ConnectionTimeoutError, OSError) as exc:
            raise BackendUnavailable(
                f"could not {action} etcd at {mask_url(self._url)}: {type(exc).__name__}: {exc}"
            ) from None
        except exceptions.InternalServerError as exc:
            raise BackendUnavailable(f"etcd at {mask_url(self._url)} failed: {exc}") from None

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._errors():
            result: dict[str, Any] = self._client.post(self._client.get_url(path), json=body)
            return result

    def _txn(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._post("/kv/txn", body)

    def _range(self, key: str, *, prefix: bool = False) -> list[Entry]:
        body: dict[str, Any] = {"key": _enc(key)}
        if prefix:
            body["range_end"] = _prefix_end(key)
        return [_entry(kv) for kv in self._post("/kv/range", body).get("kvs", [])]

    def _sweep(self) -> None:
        """Simulated time: revoke every lease whose simulated deadline has passed."""
        if not self._simulated:
            return
        now = self._clock.now()
        if now == self._swept_at:  # nothing can have expired since: deadlines move only with time
            return
        self._swept_at = now
        for entry in self._range(self._deadlines, prefix=True):
            if float(entry.value.split("|")[0]) <= now:
                self._revoke(entry.lease)

    def _revoke(self, lease: int) -> None:
        from etcd3gw import exceptions

        self._ttls.pop(lease, None)
        try:
            with self._errors():
                self._client.post(self._client.get_url("/kv/lease/revoke"), json={"ID": lease})
        except exceptions.Etcd3Exception as exc:  # already gone: revoking is idempotent
            if "not found" not in str(exc).lower():
                raise

    def _deadline(self, lease: int) -> tuple[float, float] | None:
        found = self._range(f"{self._deadlines}{lease}")
        if not found:
            return None
        deadline, ttl = found[0].value.split("|")
        return float(deadline), float(ttl)

    def _set_deadline(self, lease: int, ttl: float) -> None:
        value = f"{self._clock.now() + ttl!r}|{ttl!r}"
        self._post("/kv/put", {"key": _enc(f"{self._deadlines}{lease}"), "value": _enc(value), "lease": lease})

    # -- leases -----------------------------------------------------------------------------------
    def grant(self, ttl: float) -> int:
        ttl = require_seconds(ttl, "ttl", maximum=MAX_TTL)
        self._sweep()
        real_ttl = REAL_TTL if self._simulated else max(1, round(ttl + 0.499999))
        lease = int(self._post("/lease/grant", {"TTL": real_ttl})["ID"])
        if self._simulated:
            self._set_deadline(lease, ttl)
            self._ttls[lease] = ttl
        return lease

    def keep_alive(self, lease: int) -> float:
        lease = require_lease(lease)
        self._sweep()
        reply = self._post("/lease/keepalive", {"ID": lease}).get("result", {})
        real = int(reply.get("TTL", -1))
        if real <= 0:
            raise LeaseExpired(f"lease {lease} has expired or was revoked")
        if not self._simulated:
            return float(real)
        ttl = self._ttls.get(lease)
        if ttl is None:  # a lease granted by another client: read its TTL
            current = self._deadline(lease)
            if current is None:  # pragma: no cover - the deadline key lives and dies with the lease
                raise LeaseExpired(f"lease {lease} has expired or was revoked")
            ttl = current[1]
        self._set_deadline(lease, ttl)
        return ttl

    def time_to_live(self, lease: int) -> float:
        lease = require_lease(lease)
        self._sweep()
        if self._simulated:
            current = self._deadline(lease)
            return 0.0 if current is None else max(0.0, current[0] - self._clock.now())
        return float(max(0, int(self._post("/kv/lease/timetolive", {"ID": lease}).get("TTL", -1))))

    def revoke(self, lease: int) -> None:
        lease = require_lease(lease)
        self._sweep()
        self._revoke(lease)

    # -- keys -------------------------------------------------------------------------------------
    def _lease_txn(self, lease: int, body: dict[str, Any]) -> dict[str, Any]:
        """A transaction that puts a key on ``lease``: etcd answers Not Found when the lease is gone."""
        from etcd3gw import exceptions

        self._sweep()
        try:
            return self._txn(body)
        except exceptions.Etcd3Exception as exc:
            if "not found" in str(exc).lower():
                raise LeaseExpired(f"lease {lease} has expired or was revoked") from None
            raise

    def create(self, key: str, value: str, lease: int) -> bool:
        key, lease = require_key(key), require_lease(lease)
        reply = self._lease_txn(lease, {
            "compare": [{"key": _enc(key), "result": "EQUAL", "target": "CREATE", "create_revision": 0}],
            "success": [{"request_put": {"key": _enc(key), "value": _enc(require_value(value)), "lease": lease}}],
        })
        return bool(reply.get("succeeded", False))

    def acquire(self, key: str, value: str, lease: int, counter: str) -> int | None:
        key, lease, counter = require_key(key), require_lease(lease), require_key(counter, "counter")
        if counter == key:
            raise ValueError("counter must be a different key from key")
        value = require_value(value)
        reply = self._lease_txn(lease, {
            "compare": [{"key": _enc(key), "result": "EQUAL", "target": "CREATE", "create_revision": 0}],
            "success": [
                {"request_put": {"key": _enc(key), "value": _enc(value), "lease": lease}},
                {"request_put": {"key": _enc(counter), "value": _enc(value)}},
                {"request_range": {"key": _enc(counter)}},
            ],
        })
        if not reply.get("succeeded", False):
            return None
        kvs = reply["responses"][2]["response_range"]["kvs"]
        return _entry(kvs[0]).version

    def get(self, key: str) -> Entry | None:
        key = require_key(key)
        self._sweep()
        found = self._range(key)
        return found[0] if found else None

    def entries(self, prefix: str) -> list[Entry]:
        prefix = require_key(prefix, "prefix")
        self._sweep()
        found = self._range(prefix, prefix=True)
        return sorted(found, key=lambda e: (e.create_revision, e.key))

    def delete(self, key: str, *, if_value: str | None = None) -> bool:
        key = require_key(key)
        self._sweep()
        delete = {"request_delete_range": {"key": _enc(key)}}
        if if_value is None:
            reply = self._post("/kv/deleterange", {"key": _enc(key)})
            return int(reply.get("deleted", 0)) > 0
        reply = self._txn({
            "compare": [{"key": _enc(key), "result": "EQUAL", "target": "VALUE", "value": _enc(require_value(if_value))}],
            "success": [delete],
        })
        if not reply.get("succeeded", False):
            return False
        return int(reply["responses"][0]["response_delete_range"].get("deleted", 0)) > 0

    def delete_prefix(self, prefix: str) -> int:
        prefix = require_key(prefix, "prefix")
        self._sweep()
        reply = self._post("/kv/deleterange", {"key": _enc(prefix), "range_end": _prefix_end(prefix)})
        return int(reply.get("deleted", 0))


