"""Checkers for the exercises of lab 09, API design.

Each ``check_*`` function runs the learner's answer against the package's own behaviour and prints a
tick or what is wrong with a hint. They return True/False and never raise on a wrong answer.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from patterns.api.versioning import DatedVersioning, VersionChange
from patterns.check import call_safely, not_ready, report
from patterns.clock import ManualClock

__all__ = [
    "STATUS_SCENARIOS", "check_status_codes", "check_keyset_page", "check_payment_api",
    "USER_CURRENT", "USER_CHANGES", "USER_VERSIONS", "check_dated_versions",
]

# Exercise 1: which status code should the API answer?
STATUS_SCENARIOS: dict[str, tuple[int, str]] = {
    "body is not valid JSON": (400, "the request cannot even be parsed: that is a 400, not a 422."),
    "email field is not an email address": (422, "the JSON parsed fine but a field breaks a rule: 422."),
    "no Authorization header": (401, "401 means 'who are you?' (not authenticated)."),
    "valid token, but the user is not an admin": (403, "403 means 'I know who you are, and no'."),
    "order 7 was deleted last year, on purpose": (410, "410 Gone says it existed and will not return."),
    "username already taken": (409, "the request conflicts with the current state: 409."),
    "client exceeded 100 requests per minute": (429, "rate limited: 429 with Retry-After."),
    "database primary is down for failover": (503, "temporarily unavailable: 503 with Retry-After."),
}




def check_status_codes(answer: object) -> bool:
    """Exercise 1: a dict mapping each scenario of ``STATUS_SCENARIOS`` to a status code."""
    title = "Exercise 1 (status codes)"
    if not_ready(title, answer):
        return False
    if not isinstance(answer, dict):
        return report(title, [f"answer_1 should be a dict {{scenario: status}}, got {type(answer).__name__}."])
    problems = [f"missing scenario {s!r}." for s in STATUS_SCENARIOS if s not in answer]
    for scenario, (expected, hint) in STATUS_SCENARIOS.items():
        given = answer.get(scenario)
        if scenario in answer and given != expected:
            problems.append(f"{scenario!r}: you said {given!r}. Hint: {hint}")
    return report(title, problems, "Each failure tells the client what to do next.")


# Exercise 2: keyset pagination written by hand over a list sorted newest first.
def _rows(rng: random.Random, n: int, start_id: int) -> list[dict[str, Any]]:
    return [{"id": start_id + i, "created_at": float(rng.randint(0, 6))} for i in range(n)]


def _ordered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (r["created_at"], r["id"]), reverse=True)


def _walk(next_page: Callable[..., Any], seed: int) -> tuple[list[int], set[int], str | None]:
    """Page through a table that changes between fetches. Returns ids seen, survivors, an error."""
    rng = random.Random(seed)
    table = _rows(rng, 25, 1)
    original = {r["id"] for r in table}
    next_id, after, seen = 100, None, []  # type: tuple[int, tuple[float, int] | None, list[int]]
    for _ in range(200):
        page = next_page(_ordered(table), after, 4)
        if not isinstance(page, list) or not all(isinstance(r, dict) for r in page):
            return seen, original, f"next_page must return a list of row dicts, got {type(page).__name__}."
        if len(page) > 4:
            return seen, original, f"next_page returned {len(page)} rows for limit=4."
        if not page:
            break
        seen.extend(r["id"] for r in page)
        after = (page[-1]["created_at"], page[-1]["id"])
        table.extend(_rows(rng, 2, next_id))  # other clients write between our fetches
        next_id += 2
        if len(table) > 3:
            table.remove(rng.choice(table))
    return seen, original & {r["id"] for r in table}, None


def check_keyset_page(next_page: object) -> bool:
    """Exercise 2: ``next_page(rows, after, limit)`` returns the ``limit`` rows strictly after ``after``."""
    title = "Exercise 2 (keyset page)"
    if not_ready(title, next_page):
        return False
    if not callable(next_page):
        return report(title, [f"next_page should be a function, got {type(next_page).__name__}."])
    problems: list[str] = []
    for seed in range(20):
        try:
            seen, survivors, error = _walk(next_page, seed)
        except Exception as exc:  # the learner's code failed: show it, do not crash the lab
            return report(title, [f"next_page raised {type(exc).__name__}: {exc}"])
        if error:
            problems.append(error)
            break
        dupes = sorted({i for i in seen if seen.count(i) > 1})
        if dupes:
            problems.append(f"rows {dupes[:5]} came back twice (seed {seed}). Hint: compare with a strict "
                            "'<' on the pair (created_at, id), not '<='.")
            break
        skipped = sorted(survivors - set(seen))
        if skipped:
            problems.append(f"rows {skipped[:5]} were never returned (seed {seed}). Hint: rows sharing a "
                            "created_at need the id as tie-breaker: compare the tuple (created_at, id).")
            break
    return report(title, problems, "No duplicates and no skips, whatever the other clients wrote.")


# Exercise 3: a payment API that charges once per key for 24 hours.
def check_payment_api(make_api: object) -> bool:
    """Exercise 3: ``make_api(charge, clock)`` returns a handler that charges once per Idempotency-Key."""
    from patterns.api import Request, Response

    title = "Exercise 3 (idempotent payments)"
    if not_ready(title, make_api):
        return False
    if not callable(make_api):
        return report(title, [f"make_payment_api should be a function, got {type(make_api).__name__}."])
    charges: list[Any] = []

    def charge(request: Request) -> Response:
        charges.append(request.body)
        return Response(201, {}, {"charge_id": len(charges), **request.body})

    clock = ManualClock()
    try:
        api = make_api(charge, clock)
        pay = Request("POST", "/payments", {"Idempotency-Key": "ex3-key"}, {"amount": 25})
        first, retry = api(pay), api(pay)
        changed = api(pay.with_(body={"amount": 2500}))
        missing = api(pay.with_(headers={}))
        clock.advance(23 * 3600)
        within_day = api(pay)
        clock.advance(3600 + 1)
        next_day = api(pay)
    except Exception as exc:
        return report(title, [f"calling your API raised {type(exc).__name__}: {exc}"])
    problems = []
    if first.status != 201:
        problems.append(f"the first payment should succeed with 201, got {first.status}.")
    if retry.body != first.body:
        problems.append("the retry was charged again. Hint: wrap charge with idempotent(...).")
    if changed.status != 422:
        problems.append(f"the same key with a different amount should be a 422, got {changed.status}.")
    if missing.status != 400:
        problems.append(f"a payment without an Idempotency-Key should be refused with 400, got {missing.status}. "
                        "Hint: required=True.")
    if within_day.body != first.body:
        problems.append("23 hours later the retry was charged again: keep keys for 24 hours (ttl=24 * 3600).")
    if next_day.status != 201 or next_day.body == first.body:
        problems.append("after 24 hours the key should expire: the store must use the clock you were given "
                        "and ttl=24 * 3600.")
    if not problems and len(charges) != 2:
        problems.append(f"expected exactly 2 charges (first, and after expiry), got {len(charges)}.")
    return report(title, problems, "One charge per key, however often the client retries.")


# Exercise 4: dated versions in a header, pinned per account (Stripe's design).
def _join_name(body: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in body.items() if k not in ("first_name", "last_name")}
    out["name"] = f"{body['first_name']} {body['last_name']}"
    return out


def _first_name(body: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in body.items() if k != "given_name"}
    out["first_name"] = body["given_name"]
    return out


def _decimal_amount(body: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in body.items() if k != "amount_cents"}
    out["amount"] = f"{body['amount_cents'] // 100}.{body['amount_cents'] % 100:02d}"
    return out


USER_CHANGES: tuple[VersionChange, ...] = (
    VersionChange("2025-03-01", "name split into first_name and last_name", _join_name),
    VersionChange("2025-06-01", "first_name renamed given_name", _first_name),
    VersionChange("2025-09-01", "amount, a decimal string, became amount_cents, an integer", _decimal_amount),
)
USER_VERSIONS: tuple[str, ...] = ("2024-01-01", *(c.version for c in USER_CHANGES))
USER_CURRENT: dict[str, Any] = {"id": "u7", "given_name": "Ada", "last_name": "Lovelace", "amount_cents": 1250}
_REFERENCE = DatedVersioning(USER_VERSIONS[0], USER_CHANGES)

_PICKS: tuple[tuple[dict[str, str], str | None, str | None, str], ...] = (
    ({"Api-Version": "2025-03-01"}, "2024-01-01", "2025-03-01", "the header wins over the account's pin."),
    ({}, "2025-06-01", "2025-06-01", "without the header, serve the account's pinned version."),
    ({}, None, "2025-09-01", "no header and no pin (a new account): the latest version."),
    ({"Api-Version": "2025-04-01"}, "2024-01-01", None,
     "2025-04-01 is a date, not a released version: answer None (the API says 400), do not round it."),
    ({"Api-Version": "2024-01-01"}, None, "2024-01-01", "an old version asked for by header is still served."),
)


def check_dated_versions(version_for: object, render: object) -> bool:
    """Exercise 4: ``version_for(headers, pinned)`` picks the version; ``render(current, version)``
    walks ``current`` back through ``USER_CHANGES``."""
    title = "Exercise 4 (dated versions)"
    if not_ready(title, version_for, expect=callable) or not_ready(title, render, expect=callable):
        return False
    assert callable(version_for) and callable(render)
    problems: list[str] = []
    for headers, pinned, expected, hint in _PICKS:
        got, error = call_safely(version_for, dict(headers), pinned)
        if error:
            problems.append(f"version_for: {error}")
            break
        if got != expected:
            problems.append(f"version_for({headers}, pinned={pinned!r}) returned {got!r}, expected "
                            f"{expected!r}: {hint}")
    for version in USER_VERSIONS:
        current = dict(USER_CURRENT)
        got, error = call_safely(render, current, version)
        if error:
            hint = (" Hint: apply the changes newest first; each downgrade expects the shape of its own "
                    "version." if "KeyError" in error else "")
            problems.append(f"render: {error}.{hint}")
            break
        if current != USER_CURRENT:
            problems.append("render modified the body it was given: copy it (each downgrade returns a new dict).")
            break
        wanted = _REFERENCE.render(USER_CURRENT, version)
        if got != wanted:
            problems.append(f"render(current, {version!r}) returned {got!r}, expected {wanted!r}. Hint: apply "
                            "the downgrade of every change released after the version asked for, and no other.")
            break
    return report(title, problems, "One representation on the server, every dated version served, "
                  "each account on the version it chose.")
