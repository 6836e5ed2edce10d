"""Checkers for the id exercises of lab 14 (unique ids and sketches).

Each ``check_*`` function tests the learner's answer against ``patterns.ids`` and prints a tick,
or what is wrong and a hint. They return True/False and never raise on a wrong answer.
"""

from __future__ import annotations

import random
from typing import Any

from patterns.check import call_safely, not_ready, report

__all__ = ["check_decode_snowflake", "check_backwards_policy"]


def _sample_ids() -> list[int]:
    from patterns.ids import Snowflake, SteppableClock

    rng = random.Random(14)
    clock = SteppableClock(1_767_225_600.0)  # 2026-01-01
    ids = []
    for worker in (0, 1, 513, 1023):
        generator = Snowflake(worker, clock=clock)
        for _ in range(200):
            clock.advance(rng.choice([0.0, 0.0, 0.0001, 0.003, 1.7]))
            ids.append(generator.next_id())
    ids.append((1 << 63) - 1)  # every bit set: timestamp, worker and sequence at their maximum
    return ids


def check_decode_snowflake(decode: Any) -> bool:
    """Exercise 1: ``decode(id) -> (unix_ms, worker, sequence)`` for Twitter's layout and epoch."""
    title = "Exercise 1 (decode a Snowflake id)"
    if not_ready(title, decode, expect=callable):
        return False
    from patterns.ids import parse_snowflake

    for snowflake_id in _sample_ids():
        got, error = call_safely(decode, snowflake_id)
        if error:
            return report(title, [error])
        parts = parse_snowflake(snowflake_id)
        want = (parts.timestamp_ms, parts.worker, parts.sequence)
        if not isinstance(got, (tuple, list)) or len(got) != 3:
            return report(title, [f"decode must return (unix_ms, worker, sequence), got {got!r}."])
        if tuple(got) == want:
            continue
        problems = [f"decode({snowflake_id}) = {tuple(got)!r}, expected {want!r}."]
        if got[0] == snowflake_id >> 22:
            problems.append("hint: the timestamp counts from Twitter's epoch: add TWITTER_EPOCH_MS.")
        elif got[1] != want[1]:
            problems.append("hint: the worker is the 10 bits above the 12 sequence bits: (id >> 12) & 0x3FF.")
        elif got[2] != want[2]:
            problems.append("hint: the sequence is the lowest 12 bits: id & 0xFFF.")
        else:
            problems.append("hint: the timestamp is everything above the lowest 22 bits: id >> 22.")
        return report(title, problems)
    return report(title, [], "Every sample id decodes to the fields patterns.ids.parse_snowflake finds.")


_POLICIES = ("raise", "wait", "logical")


def check_backwards_policy(answers: Any) -> bool:
    """Exercise 2: which ``on_backwards`` policy fits each of three situations."""
    title = "Exercise 2 (when the clock steps back)"
    if not_ready(title, answers, expect=dict):
        return False
    truth = {"payments": "raise", "chat": "logical", "batch": "wait"}
    why = {
        "payments": "ids that must match wall time in an audit: refuse and alert rather than invent a time.",
        "chat": "a chat server must not stall; ids only need to be unique and ordered per sender.",
        "batch": "a nightly batch can afford to sleep a few milliseconds until the clock passes its last id.",
    }
    problems = []
    for case, wanted in truth.items():
        given = answers.get(case, ...)
        if given is Ellipsis:
            problems.append(f"{case!r}: not answered yet.")
        elif given not in _POLICIES:
            problems.append(f"{case!r}: choose one of {', '.join(_POLICIES)}, got {given!r}.")
        elif given != wanted:
            problems.append(f"{case!r}: {given!r} is not the best fit. Hint: {why[case]}")
    return report(title, problems, "Each situation got the policy whose failure it can live with.")
