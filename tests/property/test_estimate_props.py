"""Properties of units and estimates: round trips, monotonicity and sensitivity ordering (Hypothesis)."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from patterns.estimate import Estimate, capacity_model, format_bytes, parse_bytes
from patterns.estimate.units import (
    PERIOD_SECONDS,
    format_count,
    format_duration,
    parse_duration,
    per_period,
    per_second,
)

sizes = st.floats(min_value=0, max_value=1e21, allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(sizes, st.sampled_from(["si", "iec"]), st.integers(min_value=3, max_value=8))
def test_format_then_parse_bytes_round_trips_within_rounding(count: float, system: str, digits: int) -> None:
    text = format_bytes(count, system=system, digits=digits)
    back = parse_bytes(text)
    assert back == pytest.approx(count, rel=10 ** (1 - digits), abs=1e-9)


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False),
       st.sampled_from(["kB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB", "Mb", "Gbit"]))
def test_parse_bytes_scales_linearly(number: float, unit: str) -> None:
    one = parse_bytes(f"1 {unit}")
    assert parse_bytes(f"{number!r} {unit}") == pytest.approx(number * one)


@given(st.floats(min_value=1e-9, max_value=1e7, allow_nan=False), st.integers(min_value=3, max_value=8))
def test_format_then_parse_duration_round_trips(seconds: float, digits: int) -> None:
    back = parse_duration(format_duration(seconds, digits=digits))
    assert back == pytest.approx(seconds, rel=10 ** (1 - digits))


# Issue 21: the whole range, both unit systems, every digits setting. Rounding to d significant
# digits moves a value by at most half a unit in its last place: 0.5 * 10**(1 - d) relative.
whole_range = st.one_of(
    st.just(0.0),
    st.floats(min_value=1e-12, max_value=1e24, allow_nan=False, allow_infinity=False),
    st.sampled_from([999.5, 999.95, 1023.5, 1000.0, 1024.0, 59.995, 3599.5, 0.9999999, 0.0009999]),
)


def within_stated_precision(back: float, value: float, digits: int) -> bool:
    return back == pytest.approx(value, rel=0.5 * 10 ** (1 - digits) * (1 + 1e-9), abs=1e-300)


@given(whole_range, st.sampled_from(["si", "iec"]), st.integers(min_value=1, max_value=15))
def test_format_bytes_never_prints_e_notation_and_parses_back(count: float, system: str, digits: int) -> None:
    text = format_bytes(count, system=system, digits=digits)
    assert "e+" not in text and "e-" not in text, text
    assert within_stated_precision(parse_bytes(text), count, digits), text


@given(whole_range, st.integers(min_value=1, max_value=15))
def test_format_duration_never_prints_e_notation_and_parses_back(seconds: float, digits: int) -> None:
    text = format_duration(seconds, digits=digits)
    assert "e+" not in text and "e-" not in text, text
    assert within_stated_precision(parse_duration(text), seconds, digits), text


@given(whole_range, st.booleans(), st.integers(min_value=1, max_value=15))
def test_format_count_never_prints_e_notation(value: float, negative: bool, digits: int) -> None:
    text = format_count(-value if negative else value, digits=digits)
    assert "e+" not in text and "e-" not in text, text
    scale = {"T": 1e12, "G": 1e9, "M": 1e6, "k": 1e3}.get(text[-1], 1.0)
    number = float(text[:-1] if text[-1] in "TGMk" else text) * scale
    assert within_stated_precision(abs(number), value, digits), text


@given(st.floats(min_value=0, max_value=1e12, allow_nan=False), st.sampled_from(sorted(PERIOD_SECONDS)))
def test_rate_conversions_are_inverse(amount: float, period: str) -> None:
    assert per_period(per_second(amount, period), period) == pytest.approx(amount)


def model(**overrides: float) -> Estimate:
    args: dict[str, float] = dict(daily_active_users=1e6, reads_per_user=10, writes_per_user=1, object_size=1_000,
                                  response_size=2_000, peak_factor=3, replication=3, hot_fraction=0.2,
                                  server_rps=1_000, utilisation=0.7, years=5)
    args.update(overrides)
    return capacity_model("prop", **args)


INCREASING = {
    "daily_active_users": ["average_rps", "peak_rps", "storage_total", "bandwidth_in", "bandwidth_out",
                           "cache_size", "servers"],
    "reads_per_user": ["peak_rps", "bandwidth_out", "cache_size", "servers"],
    "writes_per_user": ["peak_rps", "storage_total", "bandwidth_in", "servers"],
    "object_size": ["storage_total", "bandwidth_in"],
    "response_size": ["bandwidth_out", "cache_size"],
    "peak_factor": ["peak_rps", "bandwidth_in", "bandwidth_out", "servers"],
    "replication": ["storage_per_day", "storage_total"],
    "years": ["storage_total"],
    "hot_fraction": ["cache_size"],
}


@given(st.sampled_from(sorted(INCREASING)), st.floats(min_value=1.01, max_value=10))
def test_derived_quantities_never_decrease_when_an_input_grows(name: str, factor: float) -> None:
    base = model()
    limit = {"hot_fraction": 1.0}.get(name, math.inf)
    grown_value = min(base[name] * factor, limit)
    grown = base.with_assumptions(**{name: grown_value})
    for target in INCREASING[name]:
        assert grown[target] >= base[target]
        if target != "servers":  # servers is a ceiling: it may stay put
            assert grown[target] > base[target]


@given(st.floats(min_value=1.01, max_value=10))
def test_more_capacity_per_server_never_needs_more_servers(factor: float) -> None:
    base = model()
    assert base.with_assumptions(server_rps=1_000 * factor)["servers"] <= base["servers"]
    assert base.with_assumptions(utilisation=min(0.7 * factor, 1.0))["servers"] <= base["servers"]


@given(st.lists(st.integers(min_value=-3, max_value=3), min_size=1, max_size=5),
       st.floats(min_value=1.5, max_value=4))
def test_sensitivity_of_a_power_law_is_factor_to_the_exponent(exponents: list[int], factor: float) -> None:
    est = Estimate("power law")
    for i, _ in enumerate(exponents):
        est.assume(f"x{i}", 1.0 + i, "", "test")
    est.derive("y", " * ".join(f"x{i}**({e})" for i, e in enumerate(exponents)), "")
    result = est.sensitivity("y", factor=factor)
    swings = [s.swing for s in result]
    assert swings == sorted(swings, reverse=True)
    by_name = {s.assumption: s for s in result}
    for i, e in enumerate(exponents):
        assert by_name[f"x{i}"].up == pytest.approx(factor**e)
        assert by_name[f"x{i}"].down == pytest.approx(factor**-e)
        assert by_name[f"x{i}"].swing == pytest.approx(factor ** abs(e))
    # the top-ranked assumption carries the largest |exponent|
    assume(len({abs(e) for e in exponents}) == len(exponents))
    top = max(range(len(exponents)), key=lambda i: abs(exponents[i]))
    assert result[0].assumption == f"x{top}"


@given(st.floats(min_value=1e3, max_value=1e9), st.floats(min_value=1, max_value=10))
def test_peak_is_average_times_peak_factor(dau: float, peak: float) -> None:
    est = model(daily_active_users=dau, peak_factor=peak)
    assert est["peak_rps"] == pytest.approx(est["average_rps"] * peak)
    assert est["average_rps"] == pytest.approx(dau * 11 / 86_400)
