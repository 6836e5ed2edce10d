"""The lab-09 checkers accept right answers and reject typical wrong ones with a helpful message."""

from __future__ import annotations

from typing import Any

import pytest

from patterns.api import IdempotencyKeys, MemoryIdempotencyStore, Response, idempotent
from patterns.check import api as chk


def verdict(capsys: pytest.CaptureFixture[str], ok: bool) -> str:
    out = capsys.readouterr().out
    assert out.startswith("✓" if ok else "✗"), out
    return out


RIGHT = {s: code for s, (code, _) in chk.STATUS_SCENARIOS.items()}


def test_status_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert chk.check_status_codes(RIGHT) is True
    verdict(capsys, True)
    wrong = dict(RIGHT, **{"body is not valid JSON": 422})
    assert chk.check_status_codes(wrong) is False
    assert "parsed" in verdict(capsys, False)
    assert chk.check_status_codes({}) is False
    assert "missing" in verdict(capsys, False)
    assert chk.check_status_codes(...) is False
    assert "not answered" in verdict(capsys, False)
    assert chk.check_status_codes([1]) is False
    verdict(capsys, False)


def page_right(rows: list[dict[str, Any]], after: Any, limit: int) -> list[dict[str, Any]]:
    if after is not None:
        rows = [r for r in rows if (r["created_at"], r["id"]) < tuple(after)]
    return rows[:limit]


def page_inclusive(rows: list[dict[str, Any]], after: Any, limit: int) -> list[dict[str, Any]]:
    if after is not None:
        rows = [r for r in rows if (r["created_at"], r["id"]) <= tuple(after)]
    return rows[:limit]


def page_no_tiebreak(rows: list[dict[str, Any]], after: Any, limit: int) -> list[dict[str, Any]]:
    if after is not None:
        rows = [r for r in rows if r["created_at"] < after[0]]
    return rows[:limit]


def offset_like(rows: list[dict[str, Any]], after: Any, limit: int) -> list[dict[str, Any]]:
    if after is None:
        return rows[:limit]
    position = next((i for i, r in enumerate(rows) if r["id"] == after[1]), len(rows))
    return rows[position + 1: position + 1 + limit]


def test_keyset_page(capsys: pytest.CaptureFixture[str]) -> None:
    assert chk.check_keyset_page(page_right) is True
    verdict(capsys, True)
    assert chk.check_keyset_page(page_inclusive) is False
    assert "twice" in verdict(capsys, False)
    assert chk.check_keyset_page(page_no_tiebreak) is False
    assert "tie-breaker" in verdict(capsys, False)
    assert chk.check_keyset_page(offset_like) is False  # a deleted cursor row restarts the walk
    verdict(capsys, False)
    assert chk.check_keyset_page(lambda rows, after, limit: rows) is False
    assert "limit" in verdict(capsys, False)
    assert chk.check_keyset_page(lambda rows, after, limit: 1 / 0) is False
    assert "ZeroDivisionError" in verdict(capsys, False)
    assert chk.check_keyset_page(...) is False
    verdict(capsys, False)


def test_payment_api(capsys: pytest.CaptureFixture[str]) -> None:
    def right(charge, clock):  # type: ignore[no-untyped-def]
        return idempotent(charge, IdempotencyKeys(MemoryIdempotencyStore(clock), ttl=24 * 3600))

    assert chk.check_payment_api(right) is True
    verdict(capsys, True)
    assert chk.check_payment_api(lambda charge, clock: charge) is False
    assert "charged again" in verdict(capsys, False)

    def short_ttl(charge, clock):  # type: ignore[no-untyped-def]
        return idempotent(charge, IdempotencyKeys(MemoryIdempotencyStore(clock), ttl=3600))

    assert chk.check_payment_api(short_ttl) is False
    assert "24 hours" in verdict(capsys, False)

    def optional(charge, clock):  # type: ignore[no-untyped-def]
        return idempotent(charge, IdempotencyKeys(MemoryIdempotencyStore(clock)), required=False)

    assert chk.check_payment_api(optional) is False
    assert "400" in verdict(capsys, False)

    def wall_clock(charge, clock):  # type: ignore[no-untyped-def]
        return idempotent(charge, IdempotencyKeys(MemoryIdempotencyStore(), ttl=24 * 3600))

    assert chk.check_payment_api(wall_clock) is False
    assert "expire" in verdict(capsys, False)
    assert chk.check_payment_api(lambda charge, clock: (lambda r: Response(500))) is False
    verdict(capsys, False)
    assert chk.check_payment_api(...) is False
    verdict(capsys, False)


def version_for_right(headers: dict[str, str], pinned: str | None) -> str | None:
    asked = headers.get("Api-Version")
    if asked is not None:
        return asked if asked in chk.USER_VERSIONS else None
    return pinned if pinned is not None else chk.USER_VERSIONS[-1]


def render_right(current: dict[str, Any], version: str) -> dict[str, Any]:
    body = dict(current)
    for change in reversed(chk.USER_CHANGES):
        if change.version > version:
            body = change.downgrade(body)
    return body


def test_dated_versions(capsys: pytest.CaptureFixture[str]) -> None:
    assert chk.check_dated_versions(version_for_right, render_right) is True
    verdict(capsys, True)

    def oldest_first(current: dict[str, Any], version: str) -> dict[str, Any]:
        body = dict(current)
        for change in chk.USER_CHANGES:
            if change.version > version:
                body = change.downgrade(body)
        return body

    assert chk.check_dated_versions(version_for_right, oldest_first) is False
    assert "newest first" in verdict(capsys, False)

    def mutating(current: dict[str, Any], version: str) -> dict[str, Any]:
        current["touched"] = True
        return render_right(current, version)

    assert chk.check_dated_versions(version_for_right, mutating) is False
    assert "modified" in verdict(capsys, False)

    def header_only(headers: dict[str, str], pinned: str | None) -> str | None:
        return headers.get("Api-Version", pinned)

    assert chk.check_dated_versions(header_only, render_right) is False
    out = verdict(capsys, False)
    assert "latest" in out and "not a released version" in out
    assert chk.check_dated_versions(..., render_right) is False
    assert "not answered" in verdict(capsys, False)
