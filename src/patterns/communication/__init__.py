"""Communication between services, synchronous and asynchronous (chapter 03).

* ``simulation``: seeded models of latency amplification in synchronous call chains and fan-out
  (``simulate_chain``, ``simulate_fanout``, ``p_any_slow``) and of a queue in front of workers
  (``simulate_queue``, checked against ``mm1`` and Little's law).
* ``codec`` and ``wire``: wire formats side by side (JSON, MessagePack, and protobuf for the order
  messages of ``orders.proto``, encoded by hand): sizes, round trips, timings.
* ``rpc`` (imported on its own): the same operation served over gRPC and over HTTP/1.1 + JSON on
  loopback, measured per call and in bytes on the wire.
* ``concurrency`` (imported on its own): waiting for a slow dependency with a thread per request
  or with asyncio, measured in throughput and memory per waiting call.

Nothing here is a policy to put in production; these are the instruments the chapter measures with.
"""

from patterns.communication.codec import (
    CODECS,
    JSON,
    MSGPACK,
    ORDER_PROTOBUF,
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
    mean_time_in_system,
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
    "ORDER_PROTOBUF",
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
    "mean_time_in_system",
    "QueueStats",
    "simulate_queue",
]
