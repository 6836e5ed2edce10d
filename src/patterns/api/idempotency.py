"""Idempotency keys (IETF draft "The Idempotency-Key HTTP Header Field"): retry a POST safely.

A client that times out cannot know whether its POST ran. It retries with the same
``Idempotency-Key``; the server remembers the first outcome under that key and replays it, so a
payment is charged once however many times it is sent. Guarantees, per caller and key:

* the first request executes, and its response is stored for ``ttl`` seconds (on the injected clock);
* a retry with the same fingerprint (method, path, body) gets the stored response, not a new execution;
* the same key with a different request is refused with ``IdempotencyConflict`` (a 422);
* a duplicate that arrives while the first is still running is refused with ``RequestInFlight`` (a 409);
* claiming a key is atomic (a lock in memory, one Lua script in Redis), so under any number of
  concurrent duplicates the handler runs exactly once;
* keys are scoped to the caller (the *principal*): another client that sends the same key gets
  neither the first client's response nor a 422 that would confirm the key exists (as Stripe scopes
  keys per account). The store sees only a SHA-256 of (principal, key).

If the handler raises, the claim is released and a retry may execute again. An in-flight claim
lapses after ``lease`` seconds, so a server that crashed mid-request does not lock the key forever.
If the response cannot be stored after the handler ran (the store is down), the caller still gets
it, this ``IdempotencyKeys`` keeps it and replays it to retries (storing it again when it can):
a failed store write never causes a second execution through it. (Another server cannot see that
copy: if the store stays down past ``lease``, a retry sent elsewhere may run again.)

Durability: keys must survive a restart of the store, or a retry after the restart charges again.
A Redis without the append-only file (AOF) forgets everything written since its last snapshot;
``RedisIdempotencyStore`` checks at construction and warns (``durability="warn"``) or refuses
(``durability="require"``) when AOF is off. Run the server with ``appendonly yes`` (and
``appendfsync always`` if losing the last second of keys in a power cut is not acceptable).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import threading
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from patterns import compat, infra
from patterns._validate import (
    require_callable,
    require_instance,
    require_one_of,
    require_seconds,
    require_text,
)
from patterns.api.errors import BadRequest, RequestInFlight, problem_for
from patterns.api.http import Handler, Request, Response
from patterns.clock import Clock, SystemClock, WallClock
from patterns.errors import BackendUnavailable, IdempotencyConflict
from patterns.keys import KeySpace

__all__ = [
    "HEADER",
    "REPLAYED_HEADER",
    "ANONYMOUS",
    "Claim",
    "DurabilityWarning",
    "IdempotencyStore",
    "MemoryIdempotencyStore",
    "RedisIdempotencyStore",
    "IdempotencyKeys",
    "assess_durability",
    "require_key",
    "fingerprint",
    "idempotent",
    "principal_of",
    "scoped_key",
]

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
ANONYMOUS = "anonymous"


def require_key(key: object) -> str:
    """The key if it is 1..255 printable ASCII characters, else ``BadRequest`` (a ValueError, a 400)."""
    if not isinstance(key, str):
        raise BadRequest(f"{HEADER} must be a string, got {type(key).__name__}")
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not (key.isascii() and key.isprintable()) or key.strip() != key:
        raise BadRequest(f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters with no "
                         f"surrounding spaces (a UUID is ideal), got {key!r}")
    return key


def fingerprint(request: Request) -> str:
    """SHA-256 of method, path and canonical JSON body: equal requests hash equal whatever their key order."""
    require_instance(request, "request", Request)
    body = json.dumps(request.body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method}\n{request.path}\n{body}".encode()).hexdigest()


def principal_of(request: Request) -> str:
    """Who is calling: ``request.principal`` (set by an authentication layer, e.g. an account id);
    else a SHA-256 of the ``Authorization`` header (the credential itself is never stored); else
    ``"anonymous"`` (every unauthenticated caller shares one scope: authenticate first)."""
    require_instance(request, "request", Request)
    if request.principal is not None:
        return request.principal
    credential = request.header("Authorization")
    if credential:
        return "authorization:" + hashlib.sha256(credential.encode()).hexdigest()
    return ANONYMOUS


def scoped_key(principal: str, key: str) -> str:
    """What the store keeps for ``key`` sent by ``principal``: a SHA-256 hex digest of both."""
    require_text(principal, "principal", max_length=1_000)
    require_text(key, "key", max_length=1_000)
    return hashlib.sha256(f"{principal}\n{key}".encode()).hexdigest()


@dataclass(frozen=True)
class Claim:
    """What ``begin`` found: ``new`` (you run it, with ``token``), ``in_flight``, ``done`` or ``conflict``."""

    state: Literal["new", "in_flight", "done", "conflict"]
    token: str | None = None
    response: Response | None = None


class IdempotencyStore(Protocol):
    """Where claims and stored responses live. Every method is atomic per key.

    ``complete`` stores the response (with the request's ``fingerprint``) if the claim ``token``
    still holds the key, or if nobody holds it any more (so a response kept through an outage can
    be stored later); it returns False only when another claim owns the key now.
    """

    def begin(self, key: str, fingerprint: str, lease: float) -> Claim: ...

    def complete(self, key: str, token: str, response: Response, ttl: float, fingerprint: str) -> bool: ...

    def release(self, key: str, token: str) -> None: ...


def _encode(response: Response) -> str:
    return json.dumps({"status": response.status, "headers": dict(response.headers), "body": response.body})


def _decode(text: str | bytes) -> Response:
    data = json.loads(text)
    return Response(data["status"], data["headers"], data["body"])


def _require_clock(clock: object) -> Clock:
    return require_instance(clock, "clock", Clock, what="a Clock (now() and sleep())")


@dataclass
class _Record:
    state: str
    fingerprint: str
    expires: float
    token: str
    response: str = ""


class MemoryIdempotencyStore:
    """In-process store: a dict guarded by one lock. Thread-safe; not shared between processes.

    Default clock: ``SystemClock`` (monotonic). The records never leave this process, so a clock
    that cannot step backwards (an NTP correction would otherwise shorten or stretch every ``ttl``)
    is the right one.
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = _require_clock(clock) if clock is not None else SystemClock()
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

    def complete(self, key: str, token: str, response: Response, ttl: float, fingerprint: str) -> bool:
        with self._lock:
            now = self.clock.now()
            rec = self._records.get(key)
            if rec is not None and rec.token != token and rec.expires > now:
                return False  # our lease lapsed and someone else holds the key now
            self._records[key] = _Record("done", fingerprint, now + ttl, token, _encode(response))
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


# KEYS[1]: the record (a hash). ARGV: fingerprint, now, claim expiry, token, server-side px.
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
# ARGV: token, response, now, expiry, px, fingerprint. Stores unless another live claim holds the key.
_COMPLETE = """
local cur = redis.call('HMGET', KEYS[1], 'token', 'exp')
if cur[1] and cur[1] ~= ARGV[1] and tonumber(cur[2]) > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'state', 'done', 'resp', ARGV[2], 'exp', ARGV[4], 'token', ARGV[1], 'fp', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
"""
_RELEASE = """
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""

Durability = Literal["warn", "require", "off"]


class DurabilityWarning(UserWarning):
    """The idempotency keys live on a Redis that would forget them on a restart."""


def _persistence(client: Any) -> list[dict[str, Any]] | None:
    """``INFO persistence`` of every node, or None if the server refuses (an ACL without INFO)."""
    import redis

    try:
        with infra.redis_errors(action="check persistence on"):
            info = client.info("persistence")
    except redis.ResponseError:  # NOPERM on a workshop account: cannot tell
        return None
    nodes = list(info.values()) if info and all(isinstance(v, dict) for v in info.values()) else [info]
    return [dict(node) for node in nodes]


def assess_durability(client: Any, policy: Durability = "warn") -> bool | None:
    """Whether ``client``'s Redis keeps data across a restart (AOF on every node); None if unknown.

    ``policy``: ``"warn"`` issues a ``DurabilityWarning`` when it does not, ``"require"`` raises
    ``ValueError``, ``"off"`` checks nothing. The embedded fakeredis is skipped: it lives and dies
    with this process, so there is no restart to survive.
    """
    require_one_of(policy, "durability", ("warn", "require", "off"))
    if policy == "off" or infra.backend_name(client) == "fakeredis":
        return None
    nodes = _persistence(client)
    if nodes is None:
        return None
    durable = all(str(node.get("aof_enabled", 0)) == "1" for node in nodes)
    if not durable:
        message = ("idempotency keys are on a Redis without the append-only file (appendonly no): a "
                   "restart forgets them and a retry after it executes again. Run Redis with "
                   "'appendonly yes' (and 'appendfsync always' for no loss at all), or pass "
                   "durability='off' if losing keys is acceptable (a lab).")
        if policy == "require":
            raise ValueError(message)
        warnings.warn(message, DurabilityWarning, stacklevel=3)
    return durable


class RedisIdempotencyStore:
    """Store in Redis (one hash per key), shared by every app server. Each step is one Lua script
    (a ``WATCH``/``MULTI`` transaction where Lua is unavailable, with the same results).

    One clock decides: a record expires when the injected clock passes its expiry, on fakeredis and
    on a real server alike. Redis' own PEXPIRE is only a garbage collector set ``safety_margin``
    seconds (server time) after that, so it never removes a record the clock still considers live
    unless the clock lags the server by more than ``safety_margin``. The default clock is
    ``WallClock``: app servers sharing the store must share a time base, which a per-boot
    monotonic clock is not. Labs and tests pass a ``ManualClock``.

    Keys: ``<namespace>:<prefix>:{<sha256 of principal and key>}`` (``patterns.keys``).
    """

    def __init__(
        self,
        client: Any = None,
        prefix: str = "idem",
        clock: Clock | None = None,
        *,
        safety_margin: float = 3600.0,
        durability: Durability = "warn",
    ) -> None:
        client = infra.require_redis_client(infra.redis_client() if client is None else client)
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be a string, got {type(prefix).__name__}")
        self.keys = KeySpace.of(prefix or "idem")
        self.client = client
        self.clock = _require_clock(clock) if clock is not None else WallClock()
        self.safety_margin = require_seconds(safety_margin, "safety_margin")
        self.durable = assess_durability(client, durability)
        self.lua = compat.lua_available(client)
        if self.lua:
            self._begin = client.register_script(_BEGIN)
            self._complete = client.register_script(_COMPLETE)
            self._release = client.register_script(_RELEASE)

    def _key(self, key: str) -> str:
        return self.keys.key(key)

    def _px(self, seconds: float) -> int:
        return max(1, math.ceil((seconds + self.safety_margin) * 1000))

    def begin(self, key: str, fingerprint: str, lease: float) -> Claim:
        now = self.clock.now()
        token = uuid.uuid4().hex
        keys = [self._key(key)]
        args = [fingerprint, repr(now), repr(now + lease), token, self._px(lease)]
        with infra.redis_errors(action="claim an idempotency key on"):
            raw = self._begin(keys=keys, args=args) if self.lua else self._begin_py(keys, args)
        state, stored_fp, response = (v.decode() if isinstance(v, bytes) else v for v in raw)
        if state == "new":
            return Claim("new", token)
        return _claim_from(state, stored_fp, response, fingerprint)

    def complete(self, key: str, token: str, response: Response, ttl: float, fingerprint: str) -> bool:
        now = self.clock.now()
        keys = [self._key(key)]
        args = [token, _encode(response), repr(now), repr(now + ttl), self._px(ttl), fingerprint]
        with infra.redis_errors(action="store an idempotent response on"):
            done = self._complete(keys=keys, args=args) if self.lua else self._complete_py(keys, args)
        return bool(done)

    def release(self, key: str, token: str) -> None:
        with infra.redis_errors(action="release an idempotency key on"):
            if self.lua:
                self._release(keys=[self._key(key)], args=[token])
            else:
                self._release_py([self._key(key)], [token])

    def clear(self) -> int:
        """Delete every record of this store's ``KeySpace`` (glob-safe); returns how many."""
        with infra.redis_errors(action="clear idempotency keys on"):
            return self.keys.clear(self.client)

    # --- the same steps without Lua: optimistic WATCH/MULTI transactions -----------------------

    def _begin_py(self, keys: list[str], args: list[Any]) -> list[Any]:
        fp, now, expires, token, px = args

        def step(pipe: Any) -> list[Any]:
            state, stored_fp, exp, resp = pipe.hmget(keys[0], "state", "fp", "exp", "resp")
            if state is not None and float(exp) > float(now):
                return [state, stored_fp, resp or ""]
            pipe.multi()
            pipe.delete(keys[0])
            pipe.hset(keys[0], mapping={"state": "in_flight", "fp": fp, "exp": expires, "token": token})
            pipe.pexpire(keys[0], px)
            return ["new", fp, ""]

        result: list[Any] = self.client.transaction(step, *keys, value_from_callable=True)
        return result

    def _complete_py(self, keys: list[str], args: list[Any]) -> int:
        token, response, now, expires, px, fp = args

        def step(pipe: Any) -> int:
            held, exp = pipe.hmget(keys[0], "token", "exp")
            if held is not None and held.decode() != token and float(exp) > float(now):
                return 0
            pipe.multi()
            pipe.hset(keys[0], mapping={"state": "done", "resp": response, "exp": expires, "token": token,
                                        "fp": fp})
            pipe.pexpire(keys[0], px)
            return 1

        return int(self.client.transaction(step, *keys, value_from_callable=True))

    def _release_py(self, keys: list[str], args: list[Any]) -> None:
        def step(pipe: Any) -> None:
            held = pipe.hget(keys[0], "token")
            pipe.multi()
            if held is not None and held.decode() == args[0]:
                pipe.delete(keys[0])

        self.client.transaction(step, *keys)


@dataclass(frozen=True)
class _Unstored:
    fingerprint: str
    token: str
    response: Response


class IdempotencyKeys:
    """Run an operation at most once per caller and key (within ``ttl``) and replay its response.

    ``ttl`` and ``lease`` are seconds in (0, 100 years]: infinite or absurd values are refused here,
    not discovered when storing the first response fails.
    """

    MAX_UNSTORED = 10_000

    def __init__(self, store: IdempotencyStore, ttl: float = 24 * 3600.0, lease: float = 60.0) -> None:
        for method in ("begin", "complete", "release"):
            if not callable(getattr(store, method, None)):
                raise TypeError(f"store must implement IdempotencyStore (missing {method!r})")
        self.store = store
        self.ttl = require_seconds(ttl, "ttl")
        self.lease = require_seconds(lease, "lease")
        self._unstored: dict[str, _Unstored] = {}  # responses the store could not take (yet)
        self._lock = threading.Lock()
        self.store_failures = 0

    @property
    def unstored(self) -> int:
        """How many responses are held here because the store could not take them."""
        with self._lock:
            return len(self._unstored)

    def execute_once(self, key: str, fingerprint: str, operation: Callable[[], Response], *,
                     principal: str = ANONYMOUS) -> tuple[Response, bool]:
        """``(response, replayed)``. Raises ``IdempotencyConflict`` (422) or ``RequestInFlight`` (409),
        or ``BackendUnavailable`` if the store cannot be reached before the operation ran (it did not
        run)."""
        require_key(key)
        require_text(fingerprint, "fingerprint")
        require_callable(operation, "operation")
        scoped = scoped_key(principal, key)
        kept = self._replay_unstored(scoped, fingerprint)
        if kept is not None:
            return kept, True
        claim = self.store.begin(scoped, fingerprint, self.lease)
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
            with contextlib.suppress(BackendUnavailable):  # the claim then lapses after its lease
                self.store.release(scoped, claim.token)  # nothing stored: a retry may run it again
            raise
        try:
            self.store.complete(scoped, claim.token, response, self.ttl, fingerprint)
        except BackendUnavailable:
            self._keep(scoped, _Unstored(fingerprint, claim.token, response))
        return response, False

    def _keep(self, scoped: str, item: _Unstored) -> None:
        with self._lock:
            self.store_failures += 1
            if len(self._unstored) >= self.MAX_UNSTORED:
                self._unstored.pop(next(iter(self._unstored)))
            self._unstored[scoped] = item

    def _replay_unstored(self, scoped: str, fingerprint: str) -> Response | None:
        """A response this process produced but could not store: replay it, and store it if the
        store is back. A different fingerprint is a conflict, as it would be from the store."""
        with self._lock:
            item = self._unstored.get(scoped)
        if item is None:
            return None
        if item.fingerprint != fingerprint:
            raise IdempotencyConflict(f"{HEADER} was already used for a different request")
        with contextlib.suppress(BackendUnavailable):
            if self.store.complete(scoped, item.token, item.response, self.ttl, item.fingerprint):
                with self._lock:
                    self._unstored.pop(scoped, None)
        return item.response


def idempotent(handler: Handler, keys: IdempotencyKeys, *, required: bool = True,
               methods: frozenset[str] = frozenset({"POST", "PATCH"}),
               principal: Callable[[Request], str] = principal_of) -> Handler:
    """Wrap ``handler`` so requests with an ``Idempotency-Key`` run once per caller; replays carry
    ``Idempotent-Replayed: true``. Key errors become problem responses (400, 409, 422), a store that
    cannot be reached a 503 (the handler did not run). ``principal(request)`` names the caller
    (default ``principal_of``: the authenticated principal, else the credential's hash)."""
    require_instance(keys, "keys", IdempotencyKeys)
    require_callable(handler, "handler")
    require_callable(principal, "principal")
    require_instance(methods, "methods", (frozenset, set), what="a set of HTTP methods")

    def wrapped(request: Request) -> Response:
        if request.method not in methods:
            return handler(request)
        key = request.header(HEADER)
        try:
            if key is None:
                if required:
                    raise BadRequest(f"this endpoint requires an {HEADER} header (e.g. a UUID)")
                return handler(request)
            response, replayed = keys.execute_once(key, fingerprint(request), lambda: handler(request),
                                                   principal=principal(request))
        except (BadRequest, IdempotencyConflict, BackendUnavailable) as exc:
            return problem_for(exc, instance=request.route).to_response()
        except RequestInFlight as exc:
            return problem_for(exc, instance=request.route).to_response().with_headers(Retry_After="1")
        return response.with_headers(**{REPLAYED_HEADER.replace("-", "_"): "true"}) if replayed else response

    return wrapped
