"""Chapter 17 (the interview casebook): each case's architecture, and two recorded runs.

The architecture views are drawn from each case's ``CaseStudy.diagram`` (boxes with a kind, and
arrows, as ``patterns.casebook`` writes them down), so the picture and the design cannot drift. The
sequence charts replay what the casebook's experiments recorded: one checkout through the payment
system when the provider's reply is lost (``payments.checkout_trace``), and four chat messages over
a lossy link under the ordered protocol (``chat.delivery(...).trace``).
"""

from __future__ import annotations

from patterns.casebook import case, chat, payments
from patterns.casebook.model import Diagram as Drawing
from patterns.diagrams.dot import Diagram, Graph
from patterns.diagrams.sequence import Trace, sequence_diagram

__all__ = [
    "draw",
    "casebook_shortener",
    "casebook_ratelimiter",
    "casebook_notifications",
    "casebook_newsfeed",
    "casebook_chat",
    "casebook_idservice",
    "casebook_crawler",
    "casebook_payments",
    "casebook_checkout_timeout",
    "casebook_chat_delivery",
]


def draw(drawing: Drawing, generated_from: str) -> Diagram:
    """A casebook ``Diagram`` (boxes with a kind, arrows) drawn in the book's theme, with its alt text."""
    g = Graph(rankdir="LR", label=drawing.title)
    for node_id, label, kind in drawing.nodes:
        g.node(node_id, label.replace("\\n", "\n"), kind=kind)
    for tail, head, label in drawing.edges:
        g.edge(tail, head, label.replace("\\n", "\n") or None)
    return Diagram(g.source(), "Architecture view. " + drawing.alt_text(), generated_from)


def _architecture(slug: str) -> Diagram:
    return draw(case(slug).diagram, f"patterns.casebook.{slug}.design")


def casebook_shortener() -> Diagram:
    """Case 1: the URL shortener with click analytics."""
    return _architecture("shortener")


def casebook_ratelimiter() -> Diagram:
    """Case 2: a rate limiter shared by a fleet of API servers."""
    return _architecture("ratelimiter")


def casebook_notifications() -> Diagram:
    """Case 3: the notification system (the capstone's design)."""
    return _architecture("notifications")


def casebook_newsfeed() -> Diagram:
    """Case 4: a news feed with hybrid fan-out."""
    return _architecture("newsfeed")


def casebook_chat() -> Diagram:
    """Case 5: chat, with gateways, a sequencer per conversation and presence."""
    return _architecture("chat")


def casebook_idservice() -> Diagram:
    """Case 6: Snowflake ids with leased worker ids."""
    return _architecture("idservice")


def casebook_crawler() -> Diagram:
    """Case 7: a polite crawler with a Bloom-filter seen set."""
    return _architecture("crawler")


def casebook_payments() -> Diagram:
    """Case 8: payments with idempotency keys, a ledger and reconciliation."""
    return _architecture("payments")


def casebook_checkout_timeout() -> Diagram:
    """Case 8: checkout number 3 of a recorded run, where the PSP charges but its reply is lost,
    and the retry carrying the same key gets the same charge back."""
    trace = Trace(["client", "payment API", "PSP", "ledger"],
                  kinds={"client": "client", "PSP": "external", "ledger": "store"})
    for sender, receiver, label, reply in payments.checkout_trace("end-to-end", 3, orders=40):
        if sender == receiver:
            trace.note(sender, label)
        else:
            trace.send(sender, receiver, label, reply=reply)
    return sequence_diagram(trace, title="one checkout: the PSP's reply is lost, the keyed retry is safe",
                            generated_from="patterns.casebook.payments.checkout_trace")


def casebook_chat_delivery(first: int = 33, count: int = 4) -> Diagram:
    """Case 5: messages ``first`` .. ``first + count - 1`` of the chapter's ordered-protocol run, as
    they happened: sends, losses, acks, and the moment each message is shown."""
    run = chat.delivery("retry+dedup+order")
    wanted = range(first, first + count)
    trace = Trace(["sender", "recipient"], kinds={"sender": "client", "recipient": "client"})
    for kind, msg, _, arrived in run.trace:
        if msg not in wanted:
            continue
        if kind == "show":
            trace.note("recipient", f"show {msg}")
        elif kind == "msg":
            trace.send("sender", "recipient", f"message {msg}", lost=arrived is None)
        else:
            trace.send("recipient", "sender", f"ack {msg}", reply=True, lost=arrived is None)
    return sequence_diagram(trace, title=f"ordered delivery of messages {first}-{first + count - 1}",
                            generated_from="patterns.casebook.chat.delivery (recorded run)")
