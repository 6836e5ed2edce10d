"""Lab 17's checkers accept right answers, explain wrong ones, say "not yet" to ``...``, never raise."""

from __future__ import annotations

import math

import pytest

from patterns.casebook import case
from patterns.check.casebook import (
    BLOOM,
    PROMPTS,
    check_bloom_bytes,
    check_celebrity_threshold,
    check_practice,
    check_release,
    check_snowflake_workers,
)
from patterns.estimate import Estimate


def good_release(held: set[int], nxt: int) -> tuple[list[int], int]:
    out = []
    while nxt in held:
        held.discard(nxt)
        out.append(nxt)
        nxt += 1
    return out, nxt


def test_unanswered_exercises_say_not_yet(capsys: pytest.CaptureFixture[str]) -> None:
    for check in (check_celebrity_threshold, check_bloom_bytes, check_release, check_snowflake_workers):
        assert check(...) is False
    for prompt in PROMPTS:
        assert check_practice(prompt, ...) is False
    out = capsys.readouterr().out
    assert out.count("not answered yet") == 4 + len(PROMPTS)


def test_right_answers_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_celebrity_threshold(2_500)
    assert check_bloom_bytes(-BLOOM["urls"] * math.log(BLOOM["fp_rate"]) / math.log(2) ** 2 / 8)
    assert check_release(good_release)
    assert check_snowflake_workers(25)
    assert capsys.readouterr().out.count("✓") == 4


def test_wrong_answers_get_a_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_celebrity_threshold(10_000)
    assert "lower it" in capsys.readouterr().out
    assert not check_celebrity_threshold(500)
    assert "raise it" in capsys.readouterr().out
    assert not check_celebrity_threshold(-3) and not check_celebrity_threshold("big")
    truth = -BLOOM["urls"] * math.log(BLOOM["fp_rate"]) / math.log(2) ** 2 / 8
    assert not check_bloom_bytes(truth * 8)
    assert "bits" in capsys.readouterr().out
    assert not check_bloom_bytes(truth / math.log(10))
    assert "log10" in capsys.readouterr().out
    assert not check_snowflake_workers(13)
    assert "utilisation" in capsys.readouterr().out
    assert not check_snowflake_workers(24.5)


def test_release_checker_survives_broken_functions(capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_release(lambda held, nxt: 1 / 0)
    assert "ZeroDivisionError" in capsys.readouterr().out
    assert not check_release(lambda held, nxt: sorted(held))
    assert "pair" in capsys.readouterr().out

    def shows_all(held: set[int], nxt: int) -> tuple[list[int], int]:
        out = sorted(held)
        held.clear()
        return out, nxt + len(out)

    assert not check_release(shows_all)
    assert "first missing" in capsys.readouterr().out

    def keeps_held(held: set[int], nxt: int) -> tuple[list[int], int]:
        return good_release(set(held), nxt)

    assert not check_release(keeps_held)
    assert "remove what you show" in capsys.readouterr().out
    assert not check_release(42)


@pytest.mark.parametrize(("prompt", "slug", "scale"), [(1, "shortener", 1e9), (2, "notifications", 50e6),
                                                       (3, "chat", 50e6), (5, "ratelimiter", 200),
                                                       (6, "newsfeed", 100e6)])
def test_the_casebook_designs_answer_their_prompts(prompt: int, slug: str, scale: float) -> None:
    assert check_practice(prompt, case(slug, scale))
    assert check_practice(prompt, case(slug, scale).design)
    assert check_practice(prompt, case(slug, scale).design.estimate)


def test_practice_checker_names_missing_and_implausible_quantities(capsys: pytest.CaptureFixture[str]) -> None:
    est = Estimate("metrics")
    est.assume("rate", 1e6, "points/s", "prompt")
    assert not check_practice(7, est)
    out = capsys.readouterr().out
    assert "'points_total'" in out and "'storage_total'" in out
    est.derive("points_total", "rate * 86_400 * 30", "points")  # one month, not thirteen
    est.assume("bytes", 16, "B", "raw")
    est.derive("storage_total", "points_total * bytes * 3", "B")
    assert not check_practice(7, est)
    assert "not within 2x" in capsys.readouterr().out
    assert not check_practice(7, "a big database")
    assert "expected an Estimate" in capsys.readouterr().out
    with pytest.raises(ValueError):
        check_practice(9, est)


def test_feed_prompt_wants_reads_to_outweigh_posts(capsys: pytest.CaptureFixture[str]) -> None:
    upside_down = case("newsfeed", posts_per_user=50, reads_per_user=1)
    assert not check_practice(6, upside_down)
    assert "read far more often" in capsys.readouterr().out
