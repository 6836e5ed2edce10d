"""Unique ids without a central counter (chapter 14).

* ``Snowflake``: 64-bit, time-ordered, one worker id per generator; explicit policies for a clock
  that steps back (``ClockMovedBackwards``) and an exhausted sequence (``SequenceExhausted``).
* ``UUIDv7Generator`` (RFC 9562) and ``ULIDGenerator``: 128-bit, time-ordered, no worker id.
* ``out_of_order``, ``appends``, ``time_inversion``, ``leaves_touched``: how ordered a stream of ids is, and what
  that does to a B-tree index.
* ``SteppableClock``: simulated wall time that can step backwards, for the experiments.
"""

from patterns.ids.clock import SteppableClock
from patterns.ids.ordering import appends, leaves_touched, out_of_order, time_inversion
from patterns.ids.snowflake import (
    LAYOUT,
    TWITTER_EPOCH_MS,
    ClockMovedBackwards,
    SequenceExhausted,
    Snowflake,
    SnowflakeParts,
    parse_snowflake,
)
from patterns.ids.timeids import (
    CROCKFORD,
    ULIDGenerator,
    ULIDOverflow,
    UUIDv7Generator,
    decode_ulid,
    encode_ulid,
    ulid_time_ms,
    uuid7_time_ms,
)

__all__ = [
    "Snowflake",
    "SnowflakeParts",
    "parse_snowflake",
    "ClockMovedBackwards",
    "SequenceExhausted",
    "TWITTER_EPOCH_MS",
    "LAYOUT",
    "UUIDv7Generator",
    "ULIDGenerator",
    "ULIDOverflow",
    "uuid7_time_ms",
    "encode_ulid",
    "decode_ulid",
    "ulid_time_ms",
    "CROCKFORD",
    "out_of_order",
    "appends",
    "leaves_touched",
    "time_inversion",
    "SteppableClock",
]
