"""Case 5: a chat service: delivery, ordering and presence.

What makes chat hard is not the message rate but the guarantees on an unreliable path: a mobile
connection drops packets and reorders them, and a user expects every message exactly once, in
the order it was sent. ``delivery`` sends one conversation's messages over a simulated link that
loses and delays each transmission at random (so messages overtake each other), under four
protocols, each adding one mechanism:

* ``fire-and-forget``: send once, show what arrives: losses and reordering reach the user;
* ``retry``: resend until acknowledged: nothing is lost, but a lost *ack* causes a resend of a
  message that did arrive: duplicates;
* ``retry+dedup``: the receiver drops message ids it has shown: exactly once, still out of order;
* ``retry+dedup+order``: the server numbers each conversation's messages; the receiver holds a
  message until every earlier number has arrived: exactly once, in order, at the price of waiting
  for a lost message's resend (head-of-line blocking), visible in the tail latency.

The simulation is an event queue on simulated time with a seeded ``random.Random``.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field

from patterns._validate import require_int, require_number, require_one_of, require_seconds
from patterns.casebook.model import CaseStudy, diagram, parameters, require_scale, rubric, uses
from patterns.estimate import Estimate, WorkedDesign
from patterns.stats import percentile

__all__ = ["design", "DEFAULTS", "PROTOCOLS", "DeliveryResult", "delivery"]

PROTOCOLS = ("fire-and-forget", "retry", "retry+dedup", "retry+dedup+order")
MAX_LOSS = 0.9  # beyond this a retrying protocol resends each message hundreds of times

#: The design's default assumptions; ``design(**overrides)`` replaces any of them.
DEFAULTS: dict[str, float] = {
    "messages_per_user": 40,
    "peak_factor": 5,
    "message_size": 200,
    "replication": 3,
    "online_share": 0.2,
    "connections_per_gateway": 100_000,
    "utilisation": 0.7,
    "heartbeat_interval": 30,
}


def design(daily_active_users: float = 50e6, **overrides: float) -> CaseStudy:
    """One-to-one and small-group chat for ``daily_active_users`` (prompt 3 of chapter 12)."""
    values = parameters(DEFAULTS, overrides)
    daily_active_users = require_scale(daily_active_users, "daily_active_users")
    est = Estimate("Chat")
    est.assume("daily_active_users", daily_active_users, "users", "requirement")
    est.assume("messages_per_user", values["messages_per_user"], "msg/user/day", "requirement")
    est.assume("peak_factor", values["peak_factor"], "x", "evening peak against the daily average")
    est.assume("message_size", values["message_size"], "B", "text plus ids, timestamps, metadata")
    est.assume("replication", values["replication"], "copies", "history is kept forever: three copies")
    est.assume("online_share", values["online_share"], "", "share of daily users connected at the peak")
    est.assume("connections_per_gateway", values["connections_per_gateway"], "connections",
               "open WebSockets one gateway server holds (memory per connection)")
    est.assume("utilisation", values["utilisation"], "", "gateways run at most 70 % full")
    est.assume("heartbeat_interval", values["heartbeat_interval"], "s", "a client pings to stay 'online'")
    est.derive("average_msgs", "daily_active_users * messages_per_user / 86_400", "msg/s")
    est.derive("peak_msgs", "average_msgs * peak_factor", "msg/s")
    est.derive("storage_per_year", "daily_active_users * messages_per_user * message_size * replication * 365",
               "B", "history, all copies")
    est.derive("concurrent_connections", "daily_active_users * online_share", "connections")
    est.derive("gateways", "ceil(concurrent_connections / (connections_per_gateway * utilisation))", "servers")
    est.derive("heartbeats", "concurrent_connections / heartbeat_interval", "req/s",
               "presence pings, more than the messages themselves")
    worked = WorkedDesign(
        name="Chat",
        functional=["1:1 and small group messages; history on every device",
                    "delivery and read receipts; online/last-seen presence"],
        non_functional=["delivered in under a second to an online recipient",
                        "never lost, never shown twice, shown in the order sent (per conversation)",
                        "history kept forever"],
        estimate=est,
        api=["WebSocket: send {client_msg_id, conversation, body} -> ack {seq}",
             "server push: message {conversation, seq, body}; client acks the highest contiguous seq",
             "GET /v1/conversations/{id}/messages?after_seq=... (sync after reconnecting)"],
        data_model=["messages(conversation_id, seq, sender, client_msg_id, body): partitioned by "
                    "conversation, clustered by seq (a wide-column store suits it)",
                    "per user and device: the last seq acknowledged in each conversation",
                    "presence: user -> (gateway, last heartbeat) in a TTL cache"],
        components=["gateways hold the WebSockets (stateful; a registry maps user -> gateway)",
                    "chat service: dedups by client_msg_id, assigns the per-conversation seq, stores, routes",
                    "offline users: push notification (the capstone's service) and sync on reconnect",
                    "presence service: heartbeats into a TTL cache, changes fanned out to contacts"],
        deep_dives=["ordering: one sequencer per conversation (its partition leader), not a global clock",
                    "exactly-once display = at-least-once delivery + dedup by id at the receiver",
                    "presence: heartbeat interval vs staleness vs load; fan out only to online contacts"],
        bottlenecks=["gateway memory and reconnect storms after a deploy (drain gradually)",
                     "presence fan-out for large groups: send counts, not every change"],
    )
    return CaseStudy(
        slug="chat",
        design=worked,
        diagram=diagram(
            "Chat",
            [("alice", "sender app", "client"), ("gw1", "gateway\\n(WebSockets)", "service"),
             ("chat", "chat service\\n(seq per conversation)", "service"),
             ("msgs", "message store\\n(by conversation)", "store"), ("registry", "user -> gateway\\n+ presence", "cache"),
             ("gw2", "gateway", "service"), ("bob", "recipient app", "client"),
             ("push", "push notifications\\n(capstone)", "external")],
            [("alice", "gw1", "send"), ("gw1", "chat", ""), ("chat", "msgs", "store, seq"),
             ("chat", "registry", "where is bob?"), ("chat", "gw2", "route"), ("gw2", "bob", "deliver"),
             ("bob", "gw2", "ack seq"), ("chat", "push", "if offline")],
        ),
        uses=uses(
            (3, "asynchronous messaging", "gateways and the chat service talk through queues"),
            (2, "at-least-once delivery, idempotent consumers", "retries plus dedup by message id"),
            (11, "ordering and consistency", "a sequence per conversation instead of a global order"),
            (7, "TTL caches", "presence expires when heartbeats stop"),
            (8, "partitioning", "messages partitioned by conversation"),
            (18, "the notification service", "reaches offline users"),
        ),
        bottleneck="delivery guarantees: what each mechanism adds and costs on a lossy, reordering link",
        rubric=rubric(
            ("requirements", "1:1 and groups, history, receipts, presence; latency agreed",
             "separates delivery guarantees (once, in order) from transport, and scopes group size",
             "no question about offline users or multiple devices"),
            ("connections", "long-lived WebSockets on gateways; a registry of who is where",
             "sizes gateways from concurrent users and plans reconnect storms",
             "HTTP polling at scale without numbers"),
            ("delivery", "acks and resends, dedup by a client-generated id",
             "explains exactly-once display as at-least-once plus dedup, with per-device cursors",
             "assumes TCP makes delivery exactly once"),
            ("ordering", "a sequence number per conversation assigned by one owner",
             "explains head-of-line waiting and why wall clocks cannot order messages",
             "orders messages by client timestamps"),
            ("presence", "heartbeats into a TTL cache",
             "estimates heartbeat load and limits fan-out to online contacts",
             "broadcasts every presence change to every contact"),
        ),
        headline=("peak_msgs", "storage_per_year", "concurrent_connections", "gateways", "heartbeats"),
    )


@dataclass(frozen=True)
class DeliveryResult:
    """What the recipient saw. Latencies are from the first send to display, in seconds."""

    protocol: str
    sent: int
    shown: int
    lost: int
    duplicates: int
    out_of_order: int
    transmissions: int
    p50_latency: float
    p99_latency: float
    trace: tuple[tuple[str, int, float, float | None], ...] = field(default=(), repr=False)
    """(kind, message, sent at, arrived at or None if lost) per transmission, kind "msg" or "ack",
    and ("show", message, shown at, None) per display, in time order: a message sequence chart."""


def delivery(
    protocol: str,
    *,
    messages: int = 2_000,
    gap: float = 0.05,
    loss: float = 0.05,
    delay: float = 0.05,
    jitter: float = 0.1,
    resend_after: float = 0.5,
    seed: int = 11,
) -> DeliveryResult:
    """Send ``messages`` (one every ``gap`` s) under ``protocol``; see the module docstring.

    Each transmission (message or ack) is lost with probability ``loss`` and otherwise takes
    ``delay`` plus an exponential ``jitter`` (mean) seconds, so later messages can overtake earlier
    ones. Retrying protocols resend an unacknowledged message every ``resend_after`` seconds.
    """
    protocol = require_one_of(protocol, "protocol", PROTOCOLS)
    n = require_int(messages, "messages", minimum=1, maximum=1_000_000)
    gap = require_seconds(gap, "gap", maximum=3600.0)
    p_loss = require_number(loss, "loss", minimum=0.0, maximum=MAX_LOSS)
    trace: list[tuple[str, int, float, float | None]] = []
    base = require_seconds(delay, "delay", positive=False, maximum=60.0)
    mean_jitter = require_seconds(jitter, "jitter", positive=False, maximum=60.0)
    rto = require_seconds(resend_after, "resend_after", maximum=3600.0)
    rng = random.Random(require_int(seed, "seed", maximum=2**63 - 1))
    retry = protocol != "fire-and-forget"
    dedup = protocol in ("retry+dedup", "retry+dedup+order")
    ordered = protocol == "retry+dedup+order"

    def transit() -> float | None:
        if rng.random() < p_loss:
            return None
        return base + (rng.expovariate(1.0 / mean_jitter) if mean_jitter > 0 else 0.0)

    events: list[tuple[float, int, str, int]] = []  # (time, tiebreak, kind, message)
    order = 0

    def push(at: float, kind: str, msg: int) -> None:
        nonlocal order
        order += 1
        heapq.heappush(events, (at, order, kind, msg))

    for i in range(n):
        push(i * gap, "send", i)
    acked = [False] * n
    arrived = [False] * n
    first_shown: dict[int, float] = {}
    shown = duplicates = out_of_order = transmissions = 0
    highest_shown = -1
    next_expected = 0
    held: set[int] = set()

    def show(msg: int, now: float) -> None:
        nonlocal shown, duplicates, out_of_order, highest_shown
        shown += 1
        trace.append(("show", msg, now, None))
        if msg in first_shown:
            duplicates += 1
        else:
            first_shown[msg] = now
        if msg < highest_shown:
            out_of_order += 1
        highest_shown = max(highest_shown, msg)

    while events:
        now, _, kind, msg = heapq.heappop(events)
        if kind == "send":
            if acked[msg]:
                continue
            transmissions += 1
            t = transit()
            trace.append(("msg", msg, now, None if t is None else now + t))
            if t is not None:
                push(now + t, "arrive", msg)
            if retry:
                push(now + rto, "send", msg)
        elif kind == "arrive":
            if retry:  # the receiver acks every copy it gets (the first ack may be lost)
                t = transit()
                trace.append(("ack", msg, now, None if t is None else now + t))
                if t is not None:
                    push(now + t, "ack", msg)
            if dedup and arrived[msg]:
                continue
            arrived[msg] = True
            if not ordered:
                show(msg, now)
                continue
            held.add(msg)
            while next_expected in held:  # release every message whose predecessors are shown
                held.discard(next_expected)
                show(next_expected, now)
                next_expected += 1
        else:  # ack
            acked[msg] = True
    latencies = sorted(first_shown[m] - m * gap for m in first_shown)
    return DeliveryResult(
        protocol, n, shown, n - len(first_shown), duplicates, out_of_order, transmissions,
        percentile(latencies, 50) if latencies else 0.0, percentile(latencies, 99) if latencies else 0.0,
        tuple(sorted(trace, key=lambda e: e[2])),
    )
