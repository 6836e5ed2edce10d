"""Chapter 8 (database scaling): a primary and its replicas, and a session that reads its writes."""

from __future__ import annotations

from patterns.clock import ManualClock
from patterns.diagrams.dot import Diagram, Graph
from patterns.diagrams.sequence import Trace, sequence_diagram
from patterns.replication import ReplicatedStore, Session

__all__ = ["replication_topology", "session_reads"]

REPLICAS = {"replica-1": 0.5, "replica-2": 2.0}  # the chapter's read-your-writes example


def replication_topology() -> Diagram:
    """The chapter's ``ReplicatedStore``: who takes writes, who ships the log, where reads go."""
    db = ReplicatedStore(REPLICAS, clock=ManualClock())
    g = Graph(rankdir="LR", label="asynchronous replication, reads round robin over the replicas")
    g.node("app", "application", kind="client")
    g.node(db.primary, f"{db.primary}\n(every write)", kind="store")
    g.edge("app", db.primary, "writes; reads with\na session token the\nreplicas lack")
    lines = []
    for name, replica in db.replicas.items():
        g.node(name, name, kind="store")
        g.edge(db.primary, name, f"log, applied {replica.lag:g} s later", style="dashed")
        g.edge("app", name, "reads", constraint="false")
        lines.append(f"{name} applies the primary's log {replica.lag:g} s after each commit")
    alt = (f"Architecture of a replicated database: the application sends every write to {db.primary}, which "
           f"ships its log asynchronously to {len(lines)} replicas ({'; '.join(lines)}). Reads are spread "
           f"round robin over the replicas; a read carrying a session token newer than every replica goes "
           f"to the primary.")
    return Diagram(g.source(), alt, "patterns.replication.ReplicatedStore")


def session_reads() -> Diagram:
    """The chapter's read-your-writes run: which node answered each read, and what it had applied."""
    clock = ManualClock()
    db = ReplicatedStore(REPLICAS, clock=clock)
    trace = Trace(["user", db.primary, *db.replicas], kinds={n: "store" for n in [db.primary, *db.replicas]})

    def write(value: str, session: Session | None = None) -> None:
        lsn = db.write("profile:42", value, session=session)
        trace.send("user", db.primary, f"t={clock.now():g} s: write {value!r}{' (session)' if session else ''}")
        trace.reply(db.primary, "user", f"committed at LSN {lsn}")

    def read(session: Session | None = None) -> None:
        result = db.read("profile:42", session=session)
        label = f"t={clock.now():g} s: read{' with token LSN ' + str(session.required_lsn()) if session else ''}"
        trace.send("user", result.node, label)
        trace.reply(result.node, "user", f"{result.value!r} (applied LSN {result.node_lsn}"
                                         f"{', stale' if result.stale else ''})")

    write("Ada")
    clock.advance(5)
    write("Ada Lovelace")
    clock.advance(0.1)
    read()
    session = Session()
    write("Ada King", session)
    read(session)
    clock.advance(0.5)
    read(session)
    return sequence_diagram(trace, title="lagging replicas, and a session token (replica-1 lags 0.5 s, replica-2 2 s)",
                            generated_from="patterns.replication.ReplicatedStore, Session (a recorded run)")
