"""Idempotency keys (IETF draft "The Idempotency-Key HTTP Header Field"): retry a POST safely.

A client that times out cannot know whether its POST ran. It retries with the same
``Idempotency-Key``; the server remembers the first outcome under that key and replays it, so a
payment is charged once however many times it is sent. The store guarantees, per key:

* the first request executes, and its response is stored for ``ttl`` seconds (on the injected clock);
* a retry with the same fingerprint (method, path, body) gets the stored response, not a new execution;
* the same key with a different request is refused with ``IdempotencyConflict`` (a 422);
* a duplicate that arrives while the first is still running is refused with ``RequestInFlight`` (a 409);
* claiming a key is atomic (a lock in memory, one Lua script in Redis), so under any number of
  concurrent duplicates the handler runs exactly once.

If the handler raises, the claim is released and a retry may execute again. An in-flight claim
lapses after ``lease`` seconds, so a server that crashed mid-request does not lock the key forever.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from patterns import infra
from patterns.api.errors import BadRequest, RequestInFlight, problem_for
from patterns.api.http import Handler, Request, Response
from patterns.clock import Clock, SystemClock
from patterns.errors import IdempotencyConflict

__all__ = [
    "HEADER",
    "REPLAYED_HEADER",
    "Claim",
    "IdempotencyStore",
    "MemoryIdempotencyStore",
    "RedisIdempotencyStore",
    "IdempotencyKeys",
    "check_key",
    "fingerprint",
    "idempotent",
]

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255


def check_key(key: object) -> str:
    """The key if it is 1..255 printable ASCII characters, else ``BadRequest`` (a ValueError, a 400)."""
    if not isinstance(key, str):
        raise BadRequest(f"{HEADER} must be a string, got {type(key).__name__}")
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not (key.isascii() and key.isprintable()) or key.strip() != key:
        raise BadRequest(f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters with no "
                         f"surrounding spaces (a UUID is ideal), got {key!r}")
    return key


def fingerprint(request: Request) -> str:
    """SHA-256 of method, path and canonical JSON body: equal requests hash equal whatever their key order."""
    body = json.dumps(request.body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method}\n{request.path}\n{body}".encode()).hexdigest()


@dataclass(frozen=True)
class Claim:
    """What ``begin`` found: ``new`` (you run it, with ``token``), ``in_flight``, ``done`` or ``conflict``."""

    state: Literal["new", "in_flight", "done", "conflict"]
    token: str | None = None
    response: Response | None = None


class IdempotencyStore(Protocol):
    """Where claims and stored responses live. Every method is atomic per key."""

    def begin(self, key: str, fingerprint: str, lease: float) -> Claim: ...

    def complete(self, key: str, token: str, response: Response, ttl: float) -> bool: ...

    def release(self, key: str, token: str) -> None: ...


def _encode(response: Response) -> str:
    return json.dumps({"status": response.status, "headers": dict(response.headers), "body": response.body})


def _decode(text: str | bytes) -> Response:
    data = json.loads(text)
    return Response(data["status"], data["headers"], data["body"])


@dataclass
class _Record:
    state: str
    fingerprint: str
    expires: float
    token: str
    response: str = ""


class MemoryIdempotencyStore:
    """In-process store: a dict guarded by one lock. Thread-safe; not shared between processes."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    def begin(self, key: str, fingerprint: str, lease: float) -> Claim:
        with self._lock:
            now = self.clock.now()
            rec = self._records.get(key)
            if rec is not None and rec.expires > now:
                return _claim_from(rec.state, rec.fingerprint, rec.response, fingerprint)
            token = uuid.uuid4().hex
            self._records[key] = _Record("in_flight", fingerprint, now + lease, token)
            return Claim("new", token)

    def complete(self, key: str, token: str, response: Response, ttl: float) -> bool:
        with self._lock:
            rec = self._records.get(key)
            if rec is None or rec.token != token:
                return False  # our lease lapsed and someone else holds the key now
            self._records[key] = _Record("done", rec.fingerprint, self.clock.now() + ttl, token, _encode(response))
            return True

    def release(self, key: str, token: str) -> None:
        with self._lock:
            rec = self._records.get(key)
            if rec is not None and rec.token == token:
                del self._records[key]

    def __len__(self) -> int:
        with self._lock:
            now = self.clock.now()
            return sum(rec.expires > now for rec in self._records.values())


def _claim_from(state: str, stored_fp: str, response: str, fp: str) -> Claim:
    if stored_fp != fp:
        return Claim("conflict")
    if state == "done":
        return Claim("done", response=_decode(response))
    return Claim("in_flight")


_BEGIN = """
local cur = redis.call('HMGET', KEYS[1], 'state', 'fp', 'exp', 'resp')
if cur[1] and tonumber(cur[3]) > tonumber(ARGV[2]) then
  return {cur[1], cur[2], cur[4] or ''}
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'in_flight', 'fp', ARGV[1], 'exp', ARGV[3], 'token', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {'new', ARGV[1], ''}
"""
_COMPLETE = """
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'done', 'resp', ARGV[2], 'exp', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
"""
_RELEASE = """
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""


def _millis(seconds: float) -> str:
    return str(max(1, int(seconds * 1000) + 1000))  # Redis' own expiry, a second after the logical one


class RedisIdempotencyStore:
    """Store in Redis (one hash per key), shared by every app server. Each step is one Lua script.

    Expiry is decided on the injected clock (so tests and labs behave the same on fakeredis and a
    real server); Redis' own PEXPIRE removes the hash shortly after, so keys do not pile up. App
    servers sharing a store must share a clock: pass a wall clock in production.
    """

    def __init__(self, client: Any = None, prefix: str = "", clock: Clock | None = None) -> None:
        client = infra.redis_client() if client is None else client
        if not infra.is_redis_client(client):
            raise TypeError(f"client must be a redis.Redis or fakeredis client, got {type(client).__name__}")
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be a string, got {type(prefix).__name__}")
        self.client, self.prefix = client, prefix
        self.clock = clock or SystemClock()
        self._begin = client.register_script(_BEGIN)
        self._complete = client.register_script(_COMPLETE)
        self._release = client.register_script(_RELEASE)

    def _key(self, key: str) -> str:
        return f"{self.prefix}idem:{key}"

    def begin(self, key: str, fingerprint: str, lease: float) -> Claim:
        now = self.clock.now()
        token = uuid.uuid4().hex
        state, stored_fp, response = (
            v.decode() if isinstance(v, bytes) else v
            for v in self._begin(keys=[self._key(key)],
                                 args=[fingerprint, repr(now), repr(now + lease), token, _millis(lease)])
        )
        if state == "new":
            return Claim("new", token)
        return _claim_from(state, stored_fp, response, fingerprint)

    def complete(self, key: str, token: str, response: Response, ttl: float) -> bool:
        now = self.clock.now()
        done = self._complete(keys=[self._key(key)], args=[token, _encode(response), repr(now + ttl), _millis(ttl)])
        return bool(done)

    def release(self, key: str, token: str) -> None:
        self._release(keys=[self._key(key)], args=[token])


def _positive(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a number > 0 (seconds), got {value!r}")
    return float(value)


class IdempotencyKeys:
    """Run an operation at most once per key (within ``ttl``) and replay its response to retries."""

    def __init__(self, store: IdempotencyStore, ttl: float = 24 * 3600.0, lease: float = 60.0) -> None:
        for method in ("begin", "complete", "release"):
            if not callable(getattr(store, method, None)):
                raise TypeError(f"store must implement IdempotencyStore (missing {method!r})")
        self.store, self.ttl, self.lease = store, _positive(ttl, "ttl"), _positive(lease, "lease")

    def execute_once(self, key: str, fingerprint: str, operation: Callable[[], Response]) -> tuple[Response, bool]:
        """``(response, replayed)``. Raises ``IdempotencyConflict`` (422) or ``RequestInFlight`` (409)."""
        check_key(key)
        claim = self.store.begin(key, fingerprint, self.lease)
        if claim.state == "done":
            assert claim.response is not None
            return claim.response, True
        if claim.state == "conflict":
            raise IdempotencyConflict(f"{HEADER} {key!r} was already used for a different request")
        if claim.state == "in_flight":
            raise RequestInFlight(f"a request with {HEADER} {key!r} is still being processed; retry later")
        assert claim.token is not None
        try:
            response = operation()
        except BaseException:
            self.store.release(key, claim.token)  # nothing stored: a retry may run it again
            raise
        self.store.complete(key, claim.token, response, self.ttl)
        return response, False


def idempotent(handler: Handler, keys: IdempotencyKeys, *, required: bool = True,
               methods: frozenset[str] = frozenset({"POST", "PATCH"})) -> Handler:
    """Wrap ``handler`` so requests with an ``Idempotency-Key`` run once; replays carry
    ``Idempotent-Replayed: true``. Key errors become problem responses (400, 409, 422)."""

    def wrapped(request: Request) -> Response:
        if request.method not in methods:
            return handler(request)
        key = request.header(HEADER)
        try:
            if key is None:
                if required:
                    raise BadRequest(f"this endpoint requires an {HEADER} header (e.g. a UUID)")
                return handler(request)
            response, replayed = keys.execute_once(key, fingerprint(request), lambda: handler(request))
        except (BadRequest, IdempotencyConflict) as exc:
            return problem_for(exc, instance=request.route).to_response()
        except RequestInFlight as exc:
            return problem_for(exc, instance=request.route).to_response().with_headers(Retry_After="1")
        return response.with_headers(**{REPLAYED_HEADER.replace("-", "_"): "true"}) if replayed else response

    return wrapped
