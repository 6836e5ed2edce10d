"""HTTP as plain data: a ``Request`` and a ``Response``, so API patterns run without a server.

A web framework would hand the same facts to a handler; keeping them as frozen dataclasses lets a lab
call a handler like a function, retry it, replay it and compare the answers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["Request", "Response", "Handler", "METHODS"]

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _header_lookup(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


@dataclass(frozen=True)
class Request:
    """One HTTP request. ``path`` may carry a query string; header names are case-insensitive."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    params: Mapping[str, str] = field(default_factory=dict)  # path parameters set by a router
    principal: str | None = None  # who is calling, set by an authentication layer (e.g. an account id)

    def __post_init__(self) -> None:
        if not isinstance(self.method, str) or self.method.upper() not in METHODS:
            raise ValueError(f"method must be one of {sorted(METHODS)}, got {self.method!r}")
        if not isinstance(self.path, str) or not self.path.startswith("/"):
            raise ValueError(f"path must be a string starting with '/', got {self.path!r}")
        if not isinstance(self.headers, Mapping):
            raise TypeError(f"headers must be a mapping, got {type(self.headers).__name__}")
        if self.principal is not None and not isinstance(self.principal, str):
            raise TypeError(f"principal must be a string or None, got {type(self.principal).__name__}")
        object.__setattr__(self, "method", self.method.upper())

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (any case), or None."""
        return _header_lookup(self.headers, name)

    @property
    def route(self) -> str:
        """The path without its query string."""
        return urlsplit(self.path).path

    @property
    def query(self) -> dict[str, str]:
        """Query parameters, last value wins (``?a=1&a=2`` gives ``{'a': '2'}``)."""
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query, keep_blank_values=True).items()}

    def with_(self, **changes: Any) -> Request:
        """A copy with some fields changed (requests are immutable)."""
        return replace(self, **changes)


@dataclass(frozen=True)
class Response:
    """One HTTP response: status code, headers and a JSON-like body (or None)."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None

    def __post_init__(self) -> None:
        if isinstance(self.status, bool) or not isinstance(self.status, int) or not 100 <= self.status <= 599:
            raise ValueError(f"status must be an integer in [100, 599], got {self.status!r}")

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (any case), or None."""
        return _header_lookup(self.headers, name)

    def with_headers(self, **extra: str) -> Response:
        """A copy with headers added (``Retry_After`` spells ``Retry-After``)."""
        merged = dict(self.headers)
        merged.update({k.replace("_", "-"): v for k, v in extra.items()})
        return replace(self, headers=merged)


Handler = Callable[[Request], Response]
