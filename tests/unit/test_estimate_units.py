"""Units: SI vs IEC bytes, bits, durations and rates, and the errors bad input raises."""

from __future__ import annotations

import math

import pytest

from patterns.estimate.units import (
    SECONDS_PER_DAY,
    SECONDS_PER_MONTH,
    SECONDS_PER_YEAR,
    bytes_to_bits,
    format_bytes,
    format_count,
    format_duration,
    format_rate,
    parse_bytes,
    parse_duration,
    per_period,
    per_second,
)


def test_calendar_constants() -> None:
    assert SECONDS_PER_DAY == 86_400
    assert SECONDS_PER_MONTH == 30 * 86_400
    assert SECONDS_PER_YEAR == 365 * 86_400


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("512", 512),
        ("1 B", 1),
        ("1.5 GB", 1.5e9),
        ("1 kB", 1e3),
        ("1 KB", 1e3),
        ("2 TB", 2e12),
        ("1 PB", 1e15),
        ("1 KiB", 1024),
        ("1 GiB", 2**30),
        ("3 TiB", 3 * 2**40),
        ("8 Mb", 1e6),
        ("100 Mbit", 12.5e6),
        ("8 bit", 1),
        ("8 Kib", 1024),
        ("1,000 MB", 1e9),
        ("1e3 kB", 1e6),
    ],
)
def test_parse_bytes(text: str, expected: float) -> None:
    assert parse_bytes(text) == pytest.approx(expected)


def test_si_and_iec_differ_as_documented() -> None:
    assert parse_bytes("1 GiB") / parse_bytes("1 GB") == pytest.approx(1.073741824)
    assert parse_bytes("1 PiB") / parse_bytes("1 PB") == pytest.approx(1.1259, rel=1e-4)


def test_bits_are_an_eighth_of_bytes() -> None:
    assert parse_bytes("1 Gb") * 8 == parse_bytes("1 GB")
    assert bytes_to_bits(125e6) == 1e9


@pytest.mark.parametrize("bad", ["", "GB", "1.5 XB", "1 gB", "-1 GB", "1 G B", "one GB"])
def test_parse_bytes_rejects_bad_text_naming_the_parameter(bad: str) -> None:
    with pytest.raises(ValueError, match="size"):
        parse_bytes(bad, name="size")


def test_parse_bytes_rejects_non_strings() -> None:
    with pytest.raises(TypeError, match="text"):
        parse_bytes(1024)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("count", "system", "expected"),
    [
        (0, "si", "0 B"),
        (999, "si", "999 B"),
        (1_000, "si", "1 kB"),
        (1.5e9, "si", "1.5 GB"),
        (999.9e3, "si", "1 MB"),
        (2**30, "iec", "1 GiB"),
        (1.5 * 2**20, "iec", "1.5 MiB"),
        (1e9, "iec", "954 MiB"),
    ],
)
def test_format_bytes(count: float, system: str, expected: str) -> None:
    assert format_bytes(count, system=system) == expected


def test_format_bytes_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="system"):
        format_bytes(1, system="binary")
    with pytest.raises(ValueError, match="count"):
        format_bytes(-1)
    with pytest.raises(ValueError, match="digits"):
        format_bytes(1, digits=0)
    with pytest.raises(TypeError, match="count"):
        format_bytes("1")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("150 ms", 0.15), ("500 us", 5e-4), ("500 µs", 5e-4), ("100 ns", 1e-7), ("2 min", 120), ("1 d", 86_400),
     ("1.5 h", 5_400), ("3 s", 3)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


def test_parse_duration_rejects_unknown_units() -> None:
    with pytest.raises(ValueError, match="latency"):
        parse_duration("3 weeks", name="latency")


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0.00025, "250 µs"), (1e-7, "100 ns"), (0.15, "150 ms"), (90, "1.5 min"), (86_400, "1 d"), (0, "0 ns")],
)
def test_format_duration(seconds: float, expected: str) -> None:
    assert format_duration(seconds) == expected


def test_rates() -> None:
    assert per_second(1e6, "day") == pytest.approx(11.574, rel=1e-4)
    assert per_second(1e9, "day") == pytest.approx(11_574, rel=1e-4)
    assert per_period(12, "day") == 1_036_800
    assert per_period(1, "month") == SECONDS_PER_MONTH
    with pytest.raises(ValueError, match="period"):
        per_second(1, "fortnight")
    with pytest.raises(ValueError, match="amount"):
        per_second(-1, "day")


@pytest.mark.parametrize(("value", "expected"), [(12_000, "12k"), (3.5e9, "3.5G"), (0.2, "0.2"), (999_999, "1M"),
                                                 (2e12, "2T"), (-1500, "-1.5k")])
def test_format_count(value: float, expected: str) -> None:
    assert format_count(value) == expected


def test_format_rate() -> None:
    assert format_rate(12_000) == "12k req/s"
    assert format_rate(11.574) == "11.6 req/s"
    assert format_rate(2e6, "msg") == "2M msg/s"


def test_bad_numbers_are_refused_naming_the_parameter() -> None:
    with pytest.raises(ValueError, match=r"seconds must be a finite number >= 0, got nan"):
        format_duration(math.nan)
    with pytest.raises(ValueError, match="count"):
        format_bytes(math.inf)
    with pytest.raises(TypeError, match="value"):
        format_count(True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="digits"):
        format_count(1, digits=10**6)
    with pytest.raises(TypeError, match="rate"):
        per_period("12", "day")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("formatted", "expected"),
    [
        # issue 21: each printed as e-notation before
        (format_bytes(1000, system="iec"), "1000 B"),
        (format_bytes(1_044_467, system="iec"), "1020 KiB"),
        (format_bytes(306, digits=2), "310 B"),
        (format_duration(0.9999999), "1 s"),
        (format_duration(0.0009999), "1 ms"),
        (format_duration(59.9999), "1 min"),
        (format_count(1e15), "1000T"),
        (format_count(0.00001234), "0.0000123"),
        (format_duration(1e-14), "0.00001 ns"),
    ],
)
def test_rounding_comes_first_and_e_notation_never(formatted: str, expected: str) -> None:
    assert formatted == expected
