"""Units for back-of-envelope work: bytes, bits, durations and rates, done simply and correctly.

Conventions (stated once, used everywhere in ``patterns.estimate``):

* **Bytes are SI by default**: ``kB``/``KB``, ``MB``, ``GB``, ``TB``, ``PB`` are powers of 1000, as
  disks, network links and cloud bills count. The IEC binary units ``KiB``, ``MiB``, ``GiB``, ``TiB``,
  ``PiB`` are powers of 1024, as RAM is sold. The two differ by 2.4 % at kilo and 12.6 % at peta:
  below the precision of any estimate, but a unit must say which it means.
* **A lower-case ``b`` (or ``bit``) is a bit**: ``"100 Mb"`` and ``"100 Mbit"`` are 12.5 MB. Links
  are sold in bits per second, storage in bytes: mixing them is an error of 8x.
* **Calendar**: a day is 86,400 s, a month 30 days, a year 365 days.

Bad input raises ``ValueError`` (or ``TypeError`` for a non-number) naming the parameter.
"""

from __future__ import annotations

import math
import re

from patterns._validate import require_int, require_number, require_one_of, require_text

__all__ = [
    "SECONDS_PER_DAY",
    "SECONDS_PER_MONTH",
    "SECONDS_PER_YEAR",
    "PERIOD_SECONDS",
    "MAX_DIGITS",
    "parse_bytes",
    "format_bytes",
    "parse_duration",
    "format_duration",
    "per_second",
    "per_period",
    "format_count",
    "format_rate",
    "bytes_to_bits",
]

SECONDS_PER_DAY = 86_400
SECONDS_PER_MONTH = 30 * SECONDS_PER_DAY
SECONDS_PER_YEAR = 365 * SECONDS_PER_DAY

PERIOD_SECONDS: dict[str, int] = {
    "second": 1,
    "minute": 60,
    "hour": 3_600,
    "day": SECONDS_PER_DAY,
    "month": SECONDS_PER_MONTH,
    "year": SECONDS_PER_YEAR,
}

MAX_DIGITS = 15  # significant digits a float carries reliably

_SI_PREFIX = {"": 0, "k": 1, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}
_IEC_PREFIX = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_SI_NAMES = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]
_IEC_NAMES = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]

_DURATION_UNITS: dict[str, float] = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "min": 60.0,
    "h": 3_600.0,
    "d": float(SECONDS_PER_DAY),
}

_QUANTITY = re.compile(r"^\s*([-+]?(?:\d[\d_,]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-zµμ]*)\s*$")


def _split(name: str, text: object) -> tuple[float, str]:
    name = require_text(name, "name", max_length=200)
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a string such as '1.5 GB', got {type(text).__name__}")
    if len(text) > 1_000:
        raise ValueError(f"{name} must be a short quantity such as '1.5 GB', got {len(text)} characters")
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError(f"{name} must be a number followed by a unit, e.g. '1.5 GB', got {text!r}")
    number = float(match.group(1).replace("_", "").replace(",", ""))
    if number < 0 or not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number >= 0, got {text!r:.80}")
    return number, match.group(2)


def parse_bytes(text: str, *, name: str = "text") -> float:
    """Bytes in ``text``: ``'1.5 GB'`` -> 1.5e9 (SI), ``'1 GiB'`` -> 2**30 (IEC), ``'8 Mb'`` -> 1e6 (bits / 8).

    A bare number is bytes. Unknown units raise ``ValueError`` naming ``name``.
    """
    number, unit = _split(name, text)
    if unit in ("", "B", "byte", "bytes"):
        return number
    for prefix, power in _IEC_PREFIX.items():
        if unit in (prefix + "B", prefix + "b", prefix + "bit"):
            scale = 1024.0**power
            return number * scale / (8 if unit != prefix + "B" else 1)
    if unit in ("b", "bit", "bits"):
        return number / 8
    prefix, suffix = unit[:1], unit[1:]
    if prefix in _SI_PREFIX and suffix in ("B", "b", "bit", "bits"):
        scale = 1000.0 ** _SI_PREFIX[prefix]
        return number * scale / (1 if suffix == "B" else 8)
    raise ValueError(
        f"{name} has an unknown unit {unit!r}: use B, kB, MB, GB, TB, PB (SI, powers of 1000), "
        "KiB, MiB, GiB, TiB, PiB (IEC, powers of 1024), or a lower-case b / bit for bits"
    )


def format_bytes(count: float, *, system: str = "si", digits: int = 3) -> str:
    """``1.5e9`` -> ``'1.5 GB'`` (SI) or ``'1.4 GiB'`` (IEC), with ``digits`` significant digits.

    The number is rounded first, then the unit chosen, so ``999.9e3`` reads ``'1 MB'``, not
    ``'1e+03 kB'``; it is never written in e-notation (``1000`` in IEC stays ``'1000 B'``).
    """
    count = require_number(count, "count", minimum=0.0)
    system = require_one_of(system, "system", ("si", "iec"))
    digits = _require_digits(digits)
    base, names = (1000.0, _SI_NAMES) if system == "si" else (1024.0, _IEC_NAMES)
    power = 0
    while power < len(names) - 1 and count >= base ** (power + 1):
        power += 1  # the largest unit that keeps the number >= 1
    value = _round_sig(count / base**power, digits)
    if value >= base and power < len(names) - 1:  # rounding reached the next unit: 999.96 kB -> 1 MB
        power += 1
        value = _round_sig(count / base**power, digits)
    return f"{_plain(value, digits)} {names[power]}"


def _require_digits(digits: object) -> int:
    return require_int(digits, "digits", minimum=1, maximum=MAX_DIGITS)


def _round_sig(value: float, digits: int) -> float:
    if value == 0:
        return 0.0
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def _plain(value: float, digits: int) -> str:
    """``value`` (already rounded to ``digits`` significant digits) in plain decimal notation.

    Python's ``g`` format switches to e-notation (``1e+03``) once the exponent reaches ``digits``;
    a learner reading an estimate should see ``1000``. Trailing zeros after the point are dropped.
    """
    if value == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def bytes_to_bits(count: float) -> float:
    """Bytes to bits (x8): what a link's 'Gbps' counts."""
    return 8 * require_number(count, "count", minimum=0.0)


def parse_duration(text: str, *, name: str = "text") -> float:
    """Seconds in ``text``: ``'150 ms'`` -> 0.15; units ns, us/µs, ms, s, min, h, d."""
    number, unit = _split(name, text)
    if unit not in _DURATION_UNITS:
        raise ValueError(f"{name} has an unknown duration unit {unit!r}: use ns, us, ms, s, min, h or d")
    return number * _DURATION_UNITS[unit]


_DURATION_LADDER = [("ns", 1e-9), ("µs", 1e-6), ("ms", 1e-3), ("s", 1.0), ("min", 60.0), ("h", 3_600.0),
                    ("d", 86_400.0)]


def format_duration(seconds: float, *, digits: int = 3) -> str:
    """``0.00025`` -> ``'250 µs'``: the largest unit (ns .. d) that keeps the number >= 1.

    Rounded first, then the unit chosen: ``0.9999999`` reads ``'1 s'``, not ``'1e+03 ms'``.
    """
    seconds = require_number(seconds, "seconds", minimum=0.0)
    digits = _require_digits(digits)
    i = 0
    while i < len(_DURATION_LADDER) - 1 and seconds >= _DURATION_LADDER[i + 1][1]:
        i += 1
    value = _round_sig(seconds / _DURATION_LADDER[i][1], digits)
    if i < len(_DURATION_LADDER) - 1 and value * _DURATION_LADDER[i][1] >= _DURATION_LADDER[i + 1][1]:
        i += 1  # rounding reached the next unit: 59.99 s -> 1 min
        value = _round_sig(seconds / _DURATION_LADDER[i][1], digits)
    return f"{_plain(value, digits)} {_DURATION_LADDER[i][0]}"


def _period(period: str) -> int:
    if period not in PERIOD_SECONDS:
        raise ValueError(f"period must be one of {', '.join(PERIOD_SECONDS)}, got {period!r}")
    return PERIOD_SECONDS[period]


def per_second(amount: float, period: str) -> float:
    """An amount per ``period`` as a rate per second: ``per_second(1e6, 'day')`` ~ 11.6."""
    return require_number(amount, "amount", minimum=0.0) / _period(period)


def per_period(rate: float, period: str) -> float:
    """A rate per second as an amount per ``period``: ``per_period(12, 'day')`` = 1,036,800."""
    return require_number(rate, "rate", minimum=0.0) * _period(period)


def format_count(value: float, *, digits: int = 3) -> str:
    """A count with an SI-style multiplier: ``12_000`` -> ``'12k'``, ``3.5e9`` -> ``'3.5G'``, ``0.2`` -> ``'0.2'``."""
    value = require_number(value, "value")
    digits = _require_digits(digits)
    for suffix, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(_round_sig(value, digits)) >= scale:
            return f"{_plain(_round_sig(value / scale, digits), digits)}{suffix}"
    return _plain(_round_sig(value, digits), digits)


def format_rate(rate: float, unit: str = "req", *, digits: int = 3) -> str:
    """A per-second rate written with the multiplier that reads best: ``12_000`` -> ``'12k req/s'``."""
    rate = require_number(rate, "rate", minimum=0.0)
    unit = require_text(unit, "unit", min_length=0, max_length=50)
    return f"{format_count(rate, digits=digits)} {unit}/s"
