"""Communication between services, synchronous and asynchronous (chapter 03).

* ``simulation``: seeded models of latency amplification in synchronous call chains and fan-out
  (``simulate_chain``, ``simulate_fanout``, ``p_any_slow``) and of a queue in front of workers
  (``simulate_queue``, checked against ``mm1`` and Little's law).
* ``codec``: wire formats side by side (JSON against MessagePack): sizes, round trips, timings.

Nothing here is a policy to put in production; these are the instruments the chapter measures with.
"""

from patterns.communication.codec import (
    CODECS,
    JSON,
    MSGPACK,
    Codec,
    CodecReport,
    compare,
    payload_sizes,
    roundtrips,
)
from patterns.communication.simulation import (
    MM1,
    ChainStats,
    LatencyModel,
    QueueStats,
    mm1,
    p_any_slow,
    simulate_chain,
    simulate_fanout,
    simulate_queue,
)

__all__ = [
    "Codec",
    "JSON",
    "MSGPACK",
    "CODECS",
    "CodecReport",
    "payload_sizes",
    "roundtrips",
    "compare",
    "LatencyModel",
    "ChainStats",
    "simulate_chain",
    "simulate_fanout",
    "p_any_slow",
    "MM1",
    "mm1",
    "QueueStats",
    "simulate_queue",
]
