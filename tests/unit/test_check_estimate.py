"""Lab 12 checkers: accept answers within the band, name the usual mistake, never raise."""

from __future__ import annotations

import math

import pytest

from patterns.check.estimate import (
    CHAT,
    FLEET,
    PHOTOS,
    THUMBNAILS,
    check_chat_rps,
    check_fleet_size,
    check_photo_storage,
    check_thumbnail_egress,
    diagnose,
    reference_answers,
)

REF = reference_answers()


def test_reference_answers_follow_from_the_scenarios() -> None:
    assert REF["average_rps"] == pytest.approx(CHAT["daily_active_users"] * CHAT["messages_per_user"] / 86_400)
    assert REF["peak_rps"] == pytest.approx(REF["average_rps"] * CHAT["peak_factor"])
    assert REF["storage_per_year_bytes"] == pytest.approx(2e6 * 3e6 * 3 * 365)
    assert REF["egress_gbit_per_s"] == pytest.approx(100e6 / 86_400 * 4 * 200e3 * 8 / 1e9)
    assert REF["servers"] == math.ceil(REF["peak_rps"] / (FLEET["server_rps"] * FLEET["utilisation"]))
    assert PHOTOS["replication"] == 3 and THUMBNAILS["peak_factor"] == 4


def test_exact_and_rounded_answers_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_chat_rps(REF["average_rps"], REF["peak_rps"])
    # the 100,000 s/day shortcut is within the band
    assert check_chat_rps(50e6 * 40 / 1e5, 50e6 * 40 / 1e5 * 5)
    assert check_photo_storage(6.5e15)
    assert check_photo_storage(2e6 * 3 * 2**20 * 3 * 365)  # MiB instead of MB: fine
    assert check_thumbnail_egress(7.4)
    assert check_fleet_size(83)
    assert check_fleet_size(90)
    assert capsys.readouterr().out.count("✓") == 7


@pytest.mark.parametrize(
    ("call", "hint"),
    [
        (lambda: check_chat_rps(REF["average_rps"], REF["average_rps"]), "forgot the peak factor"),
        (lambda: check_chat_rps(50e6 * 40 / 3_600, REF["peak_rps"]), "3,600"),
        (lambda: check_chat_rps(50e6 * 40, REF["peak_rps"]), "86,400 seconds"),
        (lambda: check_chat_rps(REF["peak_rps"], REF["peak_rps"]), "that is the peak"),
        (lambda: check_photo_storage(2e6 * 3e6 * 365), "replication factor"),
        (lambda: check_photo_storage(2e6 * 3e6 * 3), "one day"),
        (lambda: check_photo_storage(2e6 * 3e6 * 3 * 365 * 8), "bits"),
        (lambda: check_thumbnail_egress(REF["egress_gbit_per_s"] / 8), "multiply by 8"),
        (lambda: check_thumbnail_egress(REF["egress_gbit_per_s"] / 4), "peak factor"),
        (lambda: check_thumbnail_egress(REF["egress_gbit_per_s"] * 1_000), "Mbit/s"),
        (lambda: check_fleet_size(math.ceil(REF["peak_rps"] / 2_000)), "100%"),
        (lambda: check_fleet_size(math.ceil(REF["average_rps"] / 1_400)), "sized for the average"),
        (lambda: check_fleet_size(82.7), "whole numbers"),
        (lambda: check_fleet_size(80), "round up"),
    ],
)
def test_usual_mistakes_are_named(call, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert call() is False
    out = capsys.readouterr().out
    assert "✗" in out and hint in out


@pytest.mark.parametrize("bad", [..., None, "7", True, -3, 0, math.nan, math.inf])
def test_unanswered_and_malformed_answers_do_not_raise(bad, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_photo_storage(bad) is False
    assert check_fleet_size(bad) is False
    assert check_chat_rps(bad, bad) is False
    assert check_thumbnail_egress(bad) is False
    assert "✓" not in capsys.readouterr().out


def test_unanswered_message() -> None:
    assert diagnose(..., 1.0, label="x")[0].startswith("x is not answered yet")


def test_an_unrecognised_error_gets_the_factor_and_direction() -> None:
    (message,) = diagnose(50.0, 1.0, label="x")
    assert "too high by a factor of about 50" in message
    (message,) = diagnose(0.01, 1.0, label="x")
    assert "too low by a factor of about 100" in message


def test_tolerance_band_edges() -> None:
    assert diagnose(2.0, 1.0, label="x") == []
    assert diagnose(0.5, 1.0, label="x") == []
    assert diagnose(2.01, 1.0, label="x") != []
    assert diagnose(1.19, 1.0, label="x", tolerance=1.2) == []
    with pytest.raises(ValueError, match="tolerance"):
        diagnose(1.0, 1.0, label="x", tolerance=1.0)
