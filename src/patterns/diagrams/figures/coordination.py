"""Chapter 15 (coordination): who talks to the lease service and the resource, and the paused client."""

from __future__ import annotations

from patterns.clock import ManualClock
from patterns.coordination import (
    Election,
    EtcdLeaseService,
    FencedStore,
    Lock,
    MemoryLeaseService,
    Session,
    paused_client,
)
from patterns.diagrams.dot import Diagram, Graph
from patterns.diagrams.sequence import Trace, sequence_diagram

__all__ = ["coordination_parts", "paused_client_run", "paused_client_fenced"]


def coordination_parts() -> Diagram:
    """Clients with sessions, the lease service (embedded or etcd), and the fenced resource."""
    g = Graph(rankdir="LR", label="leases, locks and fencing: the parts")
    clients = g.cluster("clients", "clients (each its own process)")
    for name in ("client-1", "client-2"):
        clients.node(name, f"{name}\n{Session.__name__}: a lease, kept alive", kind="client")
    service = f"lease service\n{MemoryLeaseService.__name__} (embedded)\nor {EtcdLeaseService.__name__} (etcd)"
    g.node("svc", service, kind="store")
    g.node("res", f"resource\n{FencedStore.__name__}: refuses stale tokens", kind="store")
    g.edge("client-1", "svc", f"{Lock.__name__}.acquire -> fencing token")
    g.edge("client-2", "svc", f"{Election.__name__}.campaign")
    g.edge("client-1", "res", "write(value, token)")
    g.edge("client-2", "res", "write(value, token)")
    alt = ("Architecture: client-1 and client-2, each holding a Session (a lease it keeps alive), call the "
           "lease service (MemoryLeaseService embedded, or EtcdLeaseService on etcd): client-1 acquires a "
           "Lock and gets a fencing token, client-2 campaigns in an Election. Both write values with their "
           "token to the resource, a FencedStore that refuses tokens older than one it has seen. The lease "
           "service deletes a lease's keys when the lease expires.")
    return Diagram(g.source(), alt, "patterns.coordination (Session, Lock, Election, FencedStore)")


def _run(fencing: bool) -> Diagram:
    result = paused_client(MemoryLeaseService(ManualClock()), fencing=fencing, name="ledger")
    trace = Trace(["client-1", "lease service", "client-2", "storage"],
                  kinds={"lease service": "store", "storage": "store"})
    seen: dict[str, str] = {}
    for event in result.events:
        at = f"t={event.t:g} s: "
        what = event.what
        if event.actor == "service":
            trace.note("lease service", f"{at}client-1's lease expires; its lock key is deleted")
        elif event.actor == "storage":  # the store refused client-1's late write
            late = seen["client-1"].rstrip("]") + ", 'client-1']"
            trace.send("client-1", "storage", f"{at}write {late} (token {result.tokens['client-1']})")
            trace.reply("storage", "client-1", f"refused: {what.split(': ', 1)[1]}")
        elif "acquires the lock" in what:
            trace.send(event.actor, "lease service", f"{at}acquire lock")
            trace.reply("lease service", event.actor, what.split("(", 1)[1].rstrip(")"))
        elif "reads the ledger" in what:
            trace.send(event.actor, "storage", f"{at}read ledger (token {result.tokens[event.actor]})")
            seen[event.actor] = what.split(": ", 1)[1]
            trace.reply("storage", event.actor, seen[event.actor])
        elif "checks its lease" in what:
            trace.send(event.actor, "lease service", f"{at}lease still valid?")
            trace.reply("lease service", event.actor, what.split(": ", 1)[1].split(",")[0])
        elif "pauses" in what:
            trace.note(event.actor, f"{at}stop-the-world pause, {result.pause:g} s")
        elif "wakes" in what:
            trace.note(event.actor, f"{at}wakes, still believing it holds the lock")
        elif "writes" in what:
            written = what.split("writes ", 1)[1].rsplit(":", 1)[0]
            trace.send(event.actor, "storage", f"{at}write {written} (token {result.tokens[event.actor]})")
            trace.reply("storage", event.actor, "accepted")
        elif "releases" in what:
            trace.send(event.actor, "lease service", f"{at}release lock")
    verdict = f"{', '.join(result.lost)}'s acknowledged update lost" if result.corrupted else "nothing lost"
    title = (f"a client paused past its {result.ttl:g} s lease, "
             f"{'with' if fencing else 'without'} fencing: {verdict}")
    return sequence_diagram(trace, title=title,
                            generated_from="patterns.coordination.paused_client (a recorded run)")


def paused_client_run() -> Diagram:
    """Kleppmann's paused client without fencing: the late write silently overwrites client 2's."""
    return _run(fencing=False)


def paused_client_fenced() -> Diagram:
    """The same run with a fencing store: the late write is refused."""
    return _run(fencing=True)
