"""API design patterns (chapter 09): HTTP as plain data, RFC 9457 errors, pagination, idempotency
keys and versioning. Labs call handlers as functions, so nothing here needs a web server."""

from patterns.api.cursor import CursorCodec
from patterns.api.errors import (
    PROBLEM_JSON,
    STATUS_CODES,
    ApiError,
    BadRequest,
    FieldError,
    InvalidCursor,
    MethodNotAllowed,
    NotFound,
    Problem,
    RequestInFlight,
    StatusCode,
    UnsupportedVersion,
    ValidationFailed,
    is_retryable,
    problem_for,
    with_problems,
)
from patterns.api.http import Handler, Request, Response
from patterns.api.idempotency import (
    ANONYMOUS,
    Claim,
    DurabilityWarning,
    IdempotencyKeys,
    IdempotencyStore,
    MemoryIdempotencyStore,
    RedisIdempotencyStore,
    assess_durability,
    fingerprint,
    idempotent,
    principal_of,
    require_key,
    scoped_key,
)
from patterns.api.pagination import (
    KeysetPaginator,
    OffsetPaginator,
    Page,
    create_items_table,
    require_limit,
    walk_pages,
)
from patterns.api.simulation import PagingOutcome, page_through_changing_feed
from patterns.api.versioning import (
    DatedVersioning,
    Deprecation,
    HeaderVersioning,
    QueryVersioning,
    UriVersioning,
    VersionChange,
    VersionedRouter,
    VersionResolver,
)

__all__ = [
    "PROBLEM_JSON", "STATUS_CODES", "ApiError", "BadRequest", "FieldError", "InvalidCursor",
    "MethodNotAllowed", "NotFound", "Problem", "RequestInFlight", "StatusCode", "UnsupportedVersion",
    "ValidationFailed", "is_retryable", "problem_for", "with_problems",
    "Handler", "Request", "Response",
    "Claim", "IdempotencyKeys", "IdempotencyStore", "MemoryIdempotencyStore", "RedisIdempotencyStore",
    "require_key", "fingerprint", "idempotent", "ANONYMOUS", "DurabilityWarning", "assess_durability",
    "principal_of", "scoped_key",
    "CursorCodec", "KeysetPaginator", "OffsetPaginator", "Page", "require_limit", "create_items_table",
    "walk_pages", "PagingOutcome", "page_through_changing_feed",
    "Deprecation", "HeaderVersioning", "QueryVersioning", "UriVersioning", "VersionedRouter",
    "VersionResolver", "DatedVersioning", "VersionChange",
]
