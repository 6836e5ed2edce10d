"""Version resolvers, the versioned router, and deprecation headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from patterns.api import (
    DatedVersioning,
    Deprecation,
    HeaderVersioning,
    QueryVersioning,
    Request,
    Response,
    UnsupportedVersion,
    UriVersioning,
    VersionChange,
    VersionedRouter,
)


def users(version: int):  # type: ignore[no-untyped-def]
    return lambda r: Response(200, {}, {"version": version, "id": r.params.get("id")})


def router(resolver, default: int | None = 1) -> VersionedRouter:  # type: ignore[no-untyped-def]
    r = VersionedRouter(resolver, default=default)
    for v in (1, 2):
        r.add(v, "GET", "/users/{id}", users(v))
        r.add(v, "GET", "/users", users(v))
    return r


@pytest.mark.parametrize(("path", "expected"), [
    ("/v2/users/7", (2, "/users/7")), ("/v1/users", (1, "/users")), ("/users", (None, "/users")),
    ("/v3", (3, "/")), ("/videos/1", (None, "/videos/1")),
])
def test_uri_resolver(path: str, expected: tuple[int | None, str]) -> None:
    assert UriVersioning().resolve(Request("GET", path)) == expected


def test_resolvers_reject_malformed_versions_with_their_status() -> None:
    with pytest.raises(UnsupportedVersion) as uri:
        UriVersioning().resolve(Request("GET", "/v0/users"))
    assert uri.value.status == 400
    with pytest.raises(UnsupportedVersion) as query:
        QueryVersioning().resolve(Request("GET", "/users?version=two"))
    assert query.value.status == 400
    with pytest.raises(UnsupportedVersion) as header:
        HeaderVersioning("shop").resolve(Request("GET", "/", {"Accept": "application/vnd.shop.latest+json"}))
    assert header.value.status == 406


def test_header_resolver_reads_vendor_media_types_only() -> None:
    h = HeaderVersioning("shop")
    assert h.resolve(Request("GET", "/u", {"Accept": "text/html, application/vnd.shop.v2+json;q=0.9"})) == (2, "/u")
    assert h.resolve(Request("GET", "/u", {"Accept": "application/vnd.other.v2+json"})) == (None, "/u")
    assert h.resolve(Request("GET", "/u")) == (None, "/u")
    assert QueryVersioning("api").resolve(Request("GET", "/u?api=v3")) == (3, "/u")


@pytest.mark.parametrize(("resolver", "request_"), [
    (UriVersioning(), Request("GET", "/v2/users/7")),
    (HeaderVersioning("shop"), Request("GET", "/users/7", {"Accept": "application/vnd.shop.v2+json"})),
    (QueryVersioning(), Request("GET", "/users/7?version=2")),
])
def test_each_strategy_reaches_the_v2_handler(resolver, request_: Request) -> None:  # type: ignore[no-untyped-def]
    resp = router(resolver)(request_)
    assert resp.status == 200 and resp.body == {"version": 2, "id": "7"} and resp.header("API-Version") == "v2"


def test_unversioned_requests_get_the_default_or_a_400() -> None:
    assert router(UriVersioning())(Request("GET", "/users")).body["version"] == 1
    resp = router(UriVersioning(), default=None)(Request("GET", "/users"))
    assert resp.status == 400 and resp.body["supported"] == ["v1", "v2"]


def test_unknown_versions_are_400_by_path_and_406_by_header() -> None:
    assert router(UriVersioning())(Request("GET", "/v9/users")).status == 400
    assert router(QueryVersioning())(Request("GET", "/users?version=9")).status == 400
    resp = router(HeaderVersioning("shop"))(Request("GET", "/users", {"Accept": "application/vnd.shop.v9+json"}))
    assert resp.status == 406 and "v1, v2" in resp.body["detail"]


def test_header_versioning_varies_on_accept() -> None:
    resp = router(HeaderVersioning("shop"))(Request("GET", "/users"))
    assert resp.header("Vary") == "Accept" and resp.header("Content-Type") == "application/vnd.shop.v1+json"


def test_404_and_405() -> None:
    r = router(UriVersioning())
    assert r(Request("GET", "/v1/orders")).status == 404
    resp = r(Request("DELETE", "/v1/users/7"))
    assert resp.status == 405 and resp.header("Allow") == "GET"


def test_deprecated_versions_carry_deprecation_sunset_and_link() -> None:
    r = router(UriVersioning())
    since = datetime(2026, 1, 1, tzinfo=UTC)
    r.deprecate(1, Deprecation(since, since + timedelta(days=181), "https://example.com/v1-retirement"))
    old = r(Request("GET", "/v1/users"))
    assert old.header("Deprecation") == "@1767225600"
    assert old.header("Sunset") == "Wed, 01 Jul 2026 00:00:00 GMT"
    assert old.header("Link") == '<https://example.com/v1-retirement>; rel="deprecation"; type="text/html"'
    assert r(Request("GET", "/v2/users")).header("Deprecation") is None


def test_deprecation_converts_sunset_to_gmt() -> None:
    plus2 = timezone(timedelta(hours=2))
    d = Deprecation(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 7, 1, 2, 0, tzinfo=plus2))
    assert d.headers()["Sunset"] == "Wed, 01 Jul 2026 00:00:00 GMT" and "Link" not in d.headers()


def test_bad_configuration_is_rejected() -> None:
    with pytest.raises(TypeError, match="timezone"):
        Deprecation(datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="sunset"):
        Deprecation(datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="vendor"):
        HeaderVersioning("Shop Inc")
    with pytest.raises(ValueError, match="param"):
        QueryVersioning("a-b")
    with pytest.raises(TypeError, match="resolver"):
        VersionedRouter(object())  # type: ignore[arg-type]
    r = router(UriVersioning())
    with pytest.raises(ValueError, match="version"):
        r.add(0, "GET", "/x", users(0))
    with pytest.raises(ValueError, match="path"):
        r.add(1, "GET", "x", users(1))
    with pytest.raises(ValueError, match="version"):
        r.deprecate(5, Deprecation(datetime(2026, 1, 1, tzinfo=UTC)))


# --- dated versions in a header, pinned per account (Stripe's design) ------------------------------

def _dated() -> tuple[DatedVersioning, dict[str, object]]:
    def join(body: dict) -> dict:  # type: ignore[type-arg]
        out = {k: v for k, v in body.items() if k not in ("first", "last")}
        return {**out, "name": f"{body['first']} {body['last']}"}

    def cents_to_text(body: dict) -> dict:  # type: ignore[type-arg]
        out = {k: v for k, v in body.items() if k != "cents"}
        return {**out, "amount": f"{body['cents'] / 100:.2f}"}

    changes = [VersionChange("2025-03-01", "name split", join),
               VersionChange("2025-09-01", "amount in cents", cents_to_text)]
    return DatedVersioning("2024-01-01", changes), {"id": 7, "first": "Ada", "last": "L", "cents": 1250}


def test_dated_versions_header_then_pin_then_latest() -> None:
    dated, _ = _dated()
    assert dated.versions == ("2024-01-01", "2025-03-01", "2025-09-01") and dated.latest == "2025-09-01"
    asked = Request("GET", "/users/7", {"api-version": "2025-03-01"})  # header names are case-insensitive
    assert dated.version_for(asked, pinned="2024-01-01") == "2025-03-01"
    assert dated.version_for(Request("GET", "/users/7"), pinned="2024-01-01") == "2024-01-01"
    assert dated.version_for(Request("GET", "/users/7")) == "2025-09-01"  # a new account: the latest
    with pytest.raises(UnsupportedVersion, match="2025-04-01") as err:  # a date that is not a release
        dated.version_for(Request("GET", "/u", {"Api-Version": "2025-04-01"}))
    assert err.value.status == 400
    with pytest.raises(UnsupportedVersion, match="pinned"):
        dated.version_for(Request("GET", "/u"), pinned="1999-01-01")


def test_dated_versions_render_walks_back_newest_first_without_touching_the_body() -> None:
    dated, current = _dated()
    before = dict(current)
    assert dated.render(current, "2025-09-01") == current
    assert dated.render(current, "2025-03-01") == {"id": 7, "first": "Ada", "last": "L", "amount": "12.50"}
    assert dated.render(current, "2024-01-01") == {"id": 7, "name": "Ada L", "amount": "12.50"}
    assert current == before


def test_dated_versions_validate() -> None:
    with pytest.raises(ValueError, match="increasing"):
        DatedVersioning("2025-01-01", [VersionChange("2024-01-01", "older than first", dict)])
    with pytest.raises(ValueError, match="ISO date"):
        VersionChange("2025-13-01", "no such month", dict)
    with pytest.raises(TypeError, match="VersionChange"):
        DatedVersioning("2025-01-01", ["2025-02-01"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="header"):
        DatedVersioning("2025-01-01", [], header="bad header")
