"""API versioning: three ways to ask for a version, one router that serves them, and deprecation.

* URI: ``/v2/users`` (explicit, cacheable, easy to try in a browser; the version is part of the URL).
* Header: ``Accept: application/vnd.shop.v2+json`` (URLs stay stable; harder to test by hand and caches
  must ``Vary: Accept``).
* Query: ``/users?version=2`` (easy, optional; mixes a protocol concern into resource parameters).

``DatedVersioning`` is a fourth design, the one Stripe describes for its API: versions are release
dates, a request names one in a header, a request without it gets the version its account is pinned
to, and the server keeps only the current representation, walking a response back through every
dated change newer than the version asked for.

A resolver turns a request into ``(version or None, path)``; the router picks the handler for that
version, answers 400 (path, query) or 406 (Accept) for a version it does not serve, and marks a
deprecated version with ``Deprecation`` (RFC 9745), ``Sunset`` (RFC 8594) and ``Link`` headers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import Any, Protocol

from patterns.api.errors import MethodNotAllowed, NotFound, UnsupportedVersion, with_problems
from patterns.api.http import Handler, Request, Response

__all__ = [
    "VersionResolver",
    "UriVersioning",
    "HeaderVersioning",
    "QueryVersioning",
    "Deprecation",
    "VersionedRouter",
    "VersionChange",
    "DatedVersioning",
]

_VERSION = re.compile(r"^v?([1-9][0-9]{0,3})$")


def _parse(text: str, where: str, status: int) -> int:
    match = _VERSION.match(text)
    if not match:
        raise UnsupportedVersion(f"{where} must name a version such as v2, got {text!r}", status)
    return int(match.group(1))


class VersionResolver(Protocol):
    """``resolve(request)`` returns (requested version or None, the path to route)."""

    status: int  # the status for a version the server does not serve

    def resolve(self, request: Request) -> tuple[int | None, str]: ...


class UriVersioning:
    """The first path segment: ``/v2/users`` asks for version 2 and routes ``/users``."""

    status = 400

    def resolve(self, request: Request) -> tuple[int | None, str]:
        segments = request.route.split("/", 2)  # ['', 'v2', 'users/...']
        if len(segments) > 1 and re.match(r"^v[0-9]", segments[1]):
            rest = "/" + segments[2] if len(segments) > 2 else "/"
            return _parse(segments[1], "the path's version segment", self.status), rest
        return None, request.route


class HeaderVersioning:
    """A vendor media type in Accept: ``application/vnd.<vendor>.v2+json`` (content negotiation)."""

    status = 406

    def __init__(self, vendor: str) -> None:
        if not isinstance(vendor, str) or not re.match(r"^[a-z][a-z0-9-]*$", vendor):
            raise ValueError(f"vendor must be lowercase letters, digits or '-', got {vendor!r}")
        self.vendor = vendor
        self._media = re.compile(rf"^application/vnd\.{re.escape(vendor)}\.([^+;]+)\+json$")

    def media_type(self, version: int) -> str:
        return f"application/vnd.{self.vendor}.v{version}+json"

    def resolve(self, request: Request) -> tuple[int | None, str]:
        accept = request.header("Accept")
        if not accept:
            return None, request.route
        for part in accept.split(","):
            media = part.split(";")[0].strip().lower()
            match = self._media.match(media)
            if match:
                return _parse(match.group(1), "the Accept media type's version", self.status), request.route
        return None, request.route  # e.g. application/json or */*: the default version


class QueryVersioning:
    """A query parameter: ``/users?version=2``."""

    status = 400

    def __init__(self, param: str = "version") -> None:
        if not isinstance(param, str) or not param.isidentifier():
            raise ValueError(f"param must be an identifier, got {param!r}")
        self.param = param

    def resolve(self, request: Request) -> tuple[int | None, str]:
        value = request.query.get(self.param)
        if value is None:
            return None, request.route
        return _parse(value, f"query parameter {self.param!r}", self.status), request.route


@dataclass(frozen=True)
class Deprecation:
    """A version's retirement plan: deprecated since ``since``; removed at ``sunset``; docs at ``link``."""

    since: datetime
    sunset: datetime | None = None
    link: str | None = None

    def __post_init__(self) -> None:
        for name in ("since", "sunset"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
                raise TypeError(f"{name} must be a timezone-aware datetime")
        if self.sunset is not None and self.sunset < self.since:
            raise ValueError("sunset must not be before since")

    def headers(self) -> dict[str, str]:
        """``Deprecation: @<unix seconds>`` (RFC 9745), ``Sunset: <HTTP-date>`` (RFC 8594), ``Link``."""
        out = {"Deprecation": f"@{int(self.since.timestamp())}"}
        if self.sunset is not None:
            out["Sunset"] = format_datetime(self.sunset.astimezone(UTC), usegmt=True)
        if self.link is not None:
            out["Link"] = f'<{self.link}>; rel="deprecation"; type="text/html"'
        return out


class VersionedRouter:
    """Dispatch ``(version, method, path)`` to a handler. Paths may hold ``{name}`` segments."""

    def __init__(self, resolver: VersionResolver, default: int | None = None) -> None:
        if not callable(getattr(resolver, "resolve", None)):
            raise TypeError("resolver must have a resolve(request) method")
        self.resolver, self.default = resolver, default
        self._routes: dict[int, list[tuple[str, re.Pattern[str], Handler]]] = {}
        self._deprecations: dict[int, Deprecation] = {}

    @property
    def versions(self) -> list[int]:
        return sorted(self._routes)

    def add(self, version: int, method: str, path: str, handler: Handler) -> None:
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ValueError(f"version must be an integer >= 1, got {version!r}")
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"path must start with '/', got {path!r}")
        pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")
        self._routes.setdefault(version, []).append((method.upper(), pattern, handler))

    def deprecate(self, version: int, plan: Deprecation) -> None:
        if version not in self._routes:
            raise ValueError(f"version must be one of {self.versions}, got {version!r}")
        self._deprecations[version] = plan

    def _dispatch(self, request: Request) -> Response:
        requested, path = self.resolver.resolve(request)
        version = self.default if requested is None else requested
        if version is None:
            raise UnsupportedVersion("this API needs an explicit version", self.resolver.status, self.versions)
        if version not in self._routes:
            raise UnsupportedVersion(f"version v{version} is not served; use one of "
                                     f"{', '.join(f'v{v}' for v in self.versions)}",
                                     self.resolver.status, self.versions)
        allowed = []
        for method, pattern, handler in self._routes[version]:
            match = pattern.match(path)
            if match and method == request.method:
                response = handler(request.with_(params=match.groupdict()))
                return response.with_headers(**self._extra_headers(version))
            if match:
                allowed.append(method)
        if allowed:
            raise MethodNotAllowed(f"{request.method} is not allowed on {path}", allowed)
        raise NotFound(f"no resource at {path} in v{version}")

    def _extra_headers(self, version: int) -> Mapping[str, str]:
        headers = {"API_Version": f"v{version}"}
        if isinstance(self.resolver, HeaderVersioning):
            headers["Vary"] = "Accept"
            headers["Content_Type"] = self.resolver.media_type(version)
        plan = self._deprecations.get(version)
        if plan is not None:
            headers.update({k.replace("-", "_"): v for k, v in plan.headers().items()})
        return headers

    def __call__(self, request: Request) -> Response:
        """Handle ``request``; errors (unknown version 400/406, 404, 405) come back as problem details."""
        return with_problems(self._dispatch)(request)


@dataclass(frozen=True)
class VersionChange:
    """A breaking change released as version ``version`` (an ISO date, ``"2025-03-01"``).

    ``downgrade`` turns a body in the shape of ``version`` into the shape it had just before it, and
    must not modify its argument.
    """

    version: str
    description: str
    downgrade: Callable[[dict[str, Any]], dict[str, Any]]

    def __post_init__(self) -> None:
        _iso_date(self.version, "version")
        if not callable(self.downgrade):
            raise TypeError("downgrade must be a function from a body to the previous version's body")


def _iso_date(text: object, name: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"{name} must be an ISO date string such as '2025-03-01', got {type(text).__name__}")
    try:
        if date.fromisoformat(text).isoformat() != text:
            raise ValueError
    except ValueError:
        raise ValueError(f"{name} must be an ISO date such as '2025-03-01', got {text!r}") from None
    return text


class DatedVersioning:
    """Dated versions chosen by a header and pinned per account (the design Stripe describes).

    ``version_for(request, pinned)``: the header (``Api-Version`` by default) if the request sends one,
    which must name a released version (400 otherwise); else the account's ``pinned`` version; else
    the latest. Pin an account to the latest version on its first request and it never sees a breaking
    change it did not ask for. ``render(current, version)`` walks the current body back through every
    change released after ``version``, newest first, so the server keeps one representation.
    """

    status = 400

    def __init__(self, first: str, changes: Sequence[VersionChange], header: str = "Api-Version") -> None:
        self.first = _iso_date(first, "first")
        self.changes = tuple(changes)
        for change in self.changes:
            if not isinstance(change, VersionChange):
                raise TypeError(f"changes must be VersionChange objects, got {type(change).__name__}")
        dates = [self.first, *(c.version for c in self.changes)]
        if dates != sorted(set(dates)):
            raise ValueError(f"versions must be strictly increasing, starting with first, got {dates}")
        if not isinstance(header, str) or not re.match(r"^[A-Za-z][A-Za-z0-9-]*$", header):
            raise ValueError(f"header must be an HTTP header name, got {header!r}")
        self.header = header
        self.versions = tuple(dates)

    @property
    def latest(self) -> str:
        return self.versions[-1]

    def _known(self, version: object, where: str) -> str:
        if version not in self.versions:
            raise UnsupportedVersion(f"{where} {version!r} is not a version of this API; use one of "
                                     f"{', '.join(self.versions)}", self.status)
        return str(version)

    def version_for(self, request: Request, pinned: str | None = None) -> str:
        """The version to serve: the request's header, else the account's pin, else the latest."""
        asked = request.header(self.header)
        if asked is not None:
            return self._known(asked.strip(), f"{self.header}")
        if pinned is not None:
            return self._known(pinned, "the account's pinned version")
        return self.latest

    def render(self, current: Mapping[str, Any], version: str) -> dict[str, Any]:
        """``current`` (the latest shape) as a client of ``version`` expects it."""
        self._known(version, "version")
        body = dict(current)
        for change in reversed(self.changes):
            if change.version > version:
                body = change.downgrade(dict(body))
        return body
