"""Problem details (RFC 9457): shape, mapping from typed failures, the status table."""

from __future__ import annotations

import json

import pytest

from patterns.api import (
    PROBLEM_JSON,
    STATUS_CODES,
    BadRequest,
    FieldError,
    InvalidCursor,
    Problem,
    Request,
    RequestInFlight,
    Response,
    UnsupportedVersion,
    ValidationFailed,
    is_retryable,
    problem_for,
    with_problems,
)
from patterns.errors import BulkheadFull, CallTimeout, CircuitOpen, IdempotencyConflict, RateLimited


def test_problem_body_has_standard_members_then_extensions() -> None:
    p = Problem(404, "Not Found", "no order 7", instance="/orders/7", extensions={"request_id": "r1"})
    assert p.to_dict() == {"type": "about:blank", "title": "Not Found", "status": 404,
                           "detail": "no order 7", "instance": "/orders/7", "request_id": "r1"}
    resp = p.to_response()
    assert resp.status == 404 and resp.header("content-type") == PROBLEM_JSON
    assert json.loads(p.to_json())["status"] == 404


def test_absent_members_are_omitted() -> None:
    assert Problem(400, "Bad Request").to_dict() == {"type": "about:blank", "title": "Bad Request", "status": 400}


@pytest.mark.parametrize("status", [200, 399, 600, True, "404"])
def test_problem_rejects_non_error_status(status: object) -> None:
    with pytest.raises(ValueError, match="status"):
        Problem(status, "x")  # type: ignore[arg-type]


def test_extensions_cannot_override_standard_members() -> None:
    with pytest.raises(ValueError, match="extensions"):
        Problem(400, "Bad", extensions={"status": 200})
    with pytest.raises(ValueError, match="title"):
        Problem(400, "")


def test_validation_failed_lists_field_errors_as_422() -> None:
    exc = ValidationFailed([FieldError("#/email", "must be an email"), FieldError("#/age", "must be >= 0")])
    body = problem_for(exc, "/users").to_dict()
    assert body["status"] == 422 and body["instance"] == "/users"
    assert body["errors"] == [{"pointer": "#/email", "detail": "must be an email"},
                              {"pointer": "#/age", "detail": "must be >= 0"}]
    with pytest.raises(TypeError, match="errors"):
        ValidationFailed([])
    with pytest.raises(ValueError, match="pointer"):
        FieldError("email", "x")


def test_rate_limited_maps_to_429_with_retry_after_rounded_up() -> None:
    p = problem_for(RateLimited("alice", 2.2))
    assert p.status == 429 and p.to_response().header("Retry-After") == "3"
    assert problem_for(RateLimited("a", 0.01)).headers["Retry-After"] == "1"  # never "0": that invites a storm


@pytest.mark.parametrize(("exc", "status"), [
    (CircuitOpen("x"), 503), (BulkheadFull("x"), 503), (CallTimeout("x"), 504),
    (IdempotencyConflict("x"), 422), (RequestInFlight("x"), 409), (BadRequest("x"), 400),
    (InvalidCursor("x"), 400), (UnsupportedVersion("x", 406), 406), (UnsupportedVersion("x"), 400),
])
def test_typed_failures_map_to_their_status(exc: Exception, status: int) -> None:
    assert problem_for(exc).status == status


def test_circuit_open_says_when_to_retry() -> None:
    assert problem_for(CircuitOpen("db")).to_response().header("Retry-After") == "1"


def test_unexpected_errors_become_500_without_leaking_internals() -> None:
    p = problem_for(KeyError("secret_table_name"))
    assert p.status == 500 and "secret" not in p.to_json()


def test_unsupported_version_status_is_400_or_406() -> None:
    with pytest.raises(ValueError, match="status"):
        UnsupportedVersion("x", 404)


def test_bad_request_is_a_value_error() -> None:
    assert issubclass(BadRequest, ValueError) and issubclass(InvalidCursor, ValueError)


def test_with_problems_turns_exceptions_into_responses_and_reports_them() -> None:
    seen: list[BaseException] = []

    def handler(request: Request) -> Response:
        raise RateLimited("k", 1.5)

    resp = with_problems(handler, seen.append)(Request("GET", "/x?y=1"))
    assert resp.status == 429 and resp.body["instance"] == "/x" and len(seen) == 1
    ok = with_problems(lambda r: Response(200, {}, "fine"))(Request("GET", "/"))
    assert ok.status == 200


def test_status_table_is_sorted_unique_and_explains_each_code() -> None:
    codes = [s.code for s in STATUS_CODES]
    assert codes == sorted(set(codes))
    for row in STATUS_CODES:
        assert row.use_when and row.reason
    assert {200, 201, 204, 400, 401, 403, 404, 409, 422, 429, 500, 503} <= set(codes)  # the seed's list
    # AIP-194: 503 (UNAVAILABLE) is the retryable one; 500 (INTERNAL) is surfaced, not retried; the
    # in-flight duplicate's 409 + Retry-After is meant to be retried with the same key
    assert {s.code for s in STATUS_CODES if s.retryable} == {409, 429, 502, 503, 504}
    for row in STATUS_CODES:
        assert row.retry == "no" or row.retryable or row.retry.startswith("no:"), row
        assert row.retryable == (row.retry not in ("no",) and not row.retry.startswith("no")), row


def test_is_retryable_needs_a_transient_status_and_a_safe_method() -> None:
    assert is_retryable(503, "GET") and is_retryable(429, "PUT")
    assert not is_retryable(400, "GET") and not is_retryable(409, "GET")
    assert not is_retryable(503, "POST")
    assert is_retryable(503, "POST", idempotency_key=True)
    assert not is_retryable(500, "GET")  # a bug: surface it (AIP-194 INTERNAL)
    assert not is_retryable(504, "POST") and is_retryable(504, "POST", idempotency_key=True)
    # the duplicate of a request still in flight: 409 + Retry-After, retried with the same key
    assert is_retryable(409, "POST", idempotency_key=True, retry_after=True)
    assert not is_retryable(409, "POST", idempotency_key=True)  # a real conflict: re-read, decide


def test_request_and_response_validate_and_read_headers() -> None:
    req = Request("post", "/a/b?x=1&x=2&y=", {"Accept": "text/plain"})
    assert req.method == "POST" and req.route == "/a/b" and req.query == {"x": "2", "y": ""}
    assert req.header("accept") == "text/plain" and req.header("missing") is None
    with pytest.raises(ValueError, match="method"):
        Request("FETCH", "/")
    with pytest.raises(ValueError, match="path"):
        Request("GET", "a")
    with pytest.raises(TypeError, match="headers"):
        Request("GET", "/", headers=[("a", "b")])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="status"):
        Response(99)
    assert Response(200).with_headers(Retry_After="2").header("retry-after") == "2"
