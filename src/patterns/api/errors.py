"""Errors an API returns, as RFC 9457 "problem details", and the status codes behind them.

Why one envelope: a client that can parse one error shape for every endpoint can show the message,
retry when the status says so and point at the bad field, without a special case per endpoint.
RFC 9457 names the members (``type``, ``title``, ``status``, ``detail``, ``instance``) and lets an API
add its own (``errors`` for field validation, ``request_id``). ``problem_for`` maps the package's
typed failures to the right status; anything unexpected becomes a 500 that leaks no internals.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from patterns._validate import require_callable, require_instance, require_int, require_text
from patterns.api.http import Handler, Request, Response
from patterns.errors import (
    BackendUnavailable,
    BulkheadFull,
    CallTimeout,
    CircuitOpen,
    IdempotencyConflict,
    PatternError,
    RateLimited,
)

__all__ = [
    "PROBLEM_JSON",
    "Problem",
    "FieldError",
    "ApiError",
    "BadRequest",
    "ValidationFailed",
    "InvalidCursor",
    "NotFound",
    "MethodNotAllowed",
    "RequestInFlight",
    "UnsupportedVersion",
    "StatusCode",
    "STATUS_CODES",
    "is_retryable",
    "problem_for",
    "with_problems",
]

PROBLEM_JSON = "application/problem+json"
_RESERVED = frozenset({"type", "title", "status", "detail", "instance"})


@dataclass(frozen=True)
class FieldError:
    """One invalid input: where (a JSON Pointer into the body, e.g. ``#/email``) and what is wrong."""

    pointer: str
    detail: str

    def __post_init__(self) -> None:
        if not isinstance(self.pointer, str) or not self.pointer.startswith("#"):
            raise ValueError(f"pointer must be a JSON Pointer fragment such as '#/email', got {self.pointer!r}")


@dataclass(frozen=True)
class Problem:
    """An RFC 9457 problem details object. ``extensions`` holds extra members (never the reserved ones)."""

    status: int
    title: str
    detail: str | None = None
    type: str = "about:blank"
    instance: str | None = None
    extensions: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)  # e.g. Retry-After; not in the body

    def __post_init__(self) -> None:
        if isinstance(self.status, bool) or not isinstance(self.status, int) or not 400 <= self.status <= 599:
            raise ValueError(f"status must be an error status in [400, 599], got {self.status!r}")
        if not isinstance(self.title, str) or not self.title:
            raise ValueError("title must be a non-empty string")
        clash = _RESERVED.intersection(self.extensions)
        if clash:
            raise ValueError(f"extensions must not redefine the standard members {sorted(clash)}")

    def to_dict(self) -> dict[str, Any]:
        """The JSON body: standard members first, then extensions; absent members are omitted."""
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail is not None:
            body["detail"] = self.detail
        if self.instance is not None:
            body["instance"] = self.instance
        body.update(self.extensions)
        return body

    def to_response(self) -> Response:
        """A response with ``Content-Type: application/problem+json`` and the problem's headers."""
        return Response(self.status, {"Content-Type": PROBLEM_JSON, **self.headers}, self.to_dict())

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=False)


class ApiError(PatternError):
    """A failure with a known HTTP status; subclasses set ``status`` and ``title``."""

    status = 500
    title = "Internal Server Error"
    type = "about:blank"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class BadRequest(ApiError, ValueError):
    """The request itself is malformed (unparseable body, bad query parameter): 400."""

    status = 400
    title = "Bad Request"


class InvalidCursor(BadRequest):
    """A page cursor that is not one this server issued (garbled, tampered, or for another list): 400."""

    type = "https://patterns.example/problems/invalid-cursor"
    title = "Invalid page cursor"


class ValidationFailed(ApiError, ValueError):
    """Well-formed input that breaks a rule (``email`` is not an email): 422, with field errors."""

    status = 422
    title = "Validation failed"
    type = "https://patterns.example/problems/validation"

    def __init__(self, errors: Sequence[FieldError], detail: str = "The request body has invalid fields.") -> None:
        if not errors or not all(isinstance(e, FieldError) for e in errors):
            raise TypeError("errors must be a non-empty sequence of FieldError")
        super().__init__(detail, errors=[{"pointer": e.pointer, "detail": e.detail} for e in errors])
        self.errors = list(errors)


class NotFound(ApiError):
    status = 404
    title = "Not Found"


class MethodNotAllowed(ApiError):
    status = 405
    title = "Method Not Allowed"

    def __init__(self, detail: str, allowed: Sequence[str]) -> None:
        super().__init__(detail)
        self.allowed = sorted(allowed)


class RequestInFlight(ApiError):
    """A request with the same idempotency key is still being processed: 409, retry later."""

    status = 409
    title = "Request in progress"
    type = "https://patterns.example/problems/request-in-flight"


class UnsupportedVersion(ApiError):
    """An API version the server does not serve: 400 (path, query) or 406 (Accept header)."""

    title = "Unsupported API version"
    type = "https://patterns.example/problems/unsupported-version"

    def __init__(self, detail: str, status: int = 400, supported: Sequence[int] = ()) -> None:
        if status not in (400, 406):
            raise ValueError(f"status must be 400 or 406, got {status!r}")
        super().__init__(detail, supported=[f"v{v}" for v in sorted(supported)])
        self.status = status


def _retry_after(seconds: float) -> str:
    """Retry-After in whole seconds, rounded up so a client that obeys it is not refused again."""
    return str(max(1, math.ceil(seconds)))


def problem_for(exc: BaseException, instance: str | None = None) -> Problem:
    """The problem details for an exception: typed failures get their status, the rest a bare 500."""
    require_instance(exc, "exc", BaseException)
    if isinstance(exc, ApiError):
        headers = {"Allow": ", ".join(exc.allowed)} if isinstance(exc, MethodNotAllowed) else {}
        return Problem(exc.status, exc.title, exc.detail, exc.type, instance, dict(exc.extensions), headers)
    if isinstance(exc, RateLimited):
        return Problem(429, "Too Many Requests", f"Rate limit exceeded; retry after {_retry_after(exc.retry_after)} s.",
                       instance=instance, headers={"Retry-After": _retry_after(exc.retry_after)})
    if isinstance(exc, IdempotencyConflict):
        return Problem(422, "Idempotency key reused", str(exc) or None,
                       "https://patterns.example/problems/idempotency-key-reused", instance)
    if isinstance(exc, (CircuitOpen, BulkheadFull)):
        return Problem(503, "Service Unavailable", "A dependency is unavailable; try again shortly.",
                       instance=instance, headers={"Retry-After": "1"})
    if isinstance(exc, BackendUnavailable):
        return Problem(503, "Service Unavailable", "A backing store is unreachable; nothing was done. Retry shortly.",
                       instance=instance, headers={"Retry-After": "1"})
    if isinstance(exc, CallTimeout):
        return Problem(504, "Gateway Timeout", "A dependency did not answer in time.", instance=instance)
    return Problem(500, "Internal Server Error", "An unexpected error occurred.", instance=instance)


def with_problems(handler: Handler, on_error: Callable[[BaseException], None] | None = None) -> Handler:
    """Wrap ``handler`` so every exception becomes a problem-details response (and is reported)."""
    require_callable(handler, "handler")
    if on_error is not None:
        require_callable(on_error, "on_error")

    def wrapped(request: Request) -> Response:
        try:
            return handler(request)
        except Exception as exc:  # the boundary of the API: nothing escapes as a stack trace
            if on_error is not None:
                on_error(exc)
            return problem_for(exc, instance=request.route).to_response()

    return wrapped


@dataclass(frozen=True)
class StatusCode:
    """One row of the status table: the code, its reason phrase, when to use it, and whether (and when)
    a client may send the same request again.

    ``retryable`` says a repeat can succeed; ``retry`` says on what condition. The conditions follow
    Google's AIP-194 (automatically retry only ``UNAVAILABLE``, which maps to 503; surface
    ``INTERNAL``, 500; retry a conflict such as ``ABORTED``, 409, at a higher level), with the usual
    proviso of every retry: repeating a request is only safe when the method is idempotent or the
    request carries an idempotency key. 502 and 504 go beyond AIP-194 (which never retries
    ``DEADLINE_EXCEEDED``, the caller's own deadline): a gateway's timeout is not the caller's, and
    proxies such as Envoy (``gateway-error``) retry 502, 503 and 504 alike.
    """

    code: int
    reason: str
    use_when: str
    retryable: bool
    retry: str


SAFE = "if safe to repeat"  # an idempotent method, or a POST with an idempotency key

STATUS_CODES: tuple[StatusCode, ...] = (
    StatusCode(200, "OK", "a GET, PUT or PATCH succeeded and the body holds the result", False, "no"),
    StatusCode(201, "Created", "a POST created a resource; Location names it", False, "no"),
    StatusCode(202, "Accepted", "the work was queued and will finish later; give a status URL", False, "no"),
    StatusCode(204, "No Content", "success with nothing to return (DELETE, PUT without echo)", False, "no"),
    StatusCode(400, "Bad Request", "the request cannot be parsed: bad JSON, wrong type, bad cursor", False, "no"),
    StatusCode(401, "Unauthorized", "no credentials or invalid ones: who are you?", False, "no"),
    StatusCode(403, "Forbidden", "authenticated, but not allowed to do this", False, "no"),
    StatusCode(404, "Not Found", "no such resource (or you may not know it exists)", False, "no"),
    StatusCode(405, "Method Not Allowed", "the resource exists but not this verb; send Allow", False, "no"),
    StatusCode(406, "Not Acceptable", "no representation matches Accept (e.g. unknown version)", False, "no"),
    StatusCode(409, "Conflict", "the state forbids it now: duplicate, stale version, key in flight", True,
               "same key, after Retry-After"),
    StatusCode(410, "Gone", "it existed and was removed on purpose, for good", False, "no"),
    StatusCode(412, "Precondition Failed", "If-Match did not match: someone changed it first", False,
               "no: re-read first"),
    StatusCode(422, "Unprocessable Content", "parseable but invalid: a field breaks a rule", False, "no"),
    StatusCode(429, "Too Many Requests", "rate limited; Retry-After says when to come back", True,
               "after Retry-After"),
    StatusCode(500, "Internal Server Error", "a bug or an unexpected failure on the server", False,
               "no: surface it"),
    StatusCode(502, "Bad Gateway", "a proxy got a bad answer from upstream", True, SAFE),
    StatusCode(503, "Service Unavailable", "overloaded or down for now; Retry-After if known", True,
               SAFE + ", after Retry-After"),
    StatusCode(504, "Gateway Timeout", "a proxy or the server timed out waiting on upstream", True, SAFE),
)

IDEMPOTENT_METHODS = ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")


def is_retryable(status: int, method: str = "GET", idempotency_key: bool = False,
                 retry_after: bool = False) -> bool:
    """May a client send this request again unchanged? (AIP-194, plus idempotency.)

    503 (and 502, 504, whose outcome is unknown) and 429: only when repeating is safe, that is an
    idempotent method or an idempotency key. 409: only the duplicate of a request still in flight,
    with its idempotency key and a ``Retry-After``; any other conflict needs a fresh read and a new
    decision. 500 is a bug to surface, not to retry; every other 4xx needs a changed request.
    """
    require_int(status, "status", minimum=100, maximum=599)
    method = require_text(method, "method", max_length=32)
    safe_to_repeat = method.upper() in IDEMPOTENT_METHODS or idempotency_key
    if status in (429, 502, 503, 504):
        return safe_to_repeat
    if status == 409:
        return idempotency_key and retry_after
    return False
