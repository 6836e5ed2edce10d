"""Chapter 11 (CAP): a three-node quorum store split by a partition, and what each side answers.

The chart is drawn from the simulated network's own record of every message (its ``observer``
hook): a quorum write, the partition, a write the cut-off node accepts alone (the store is in AP
mode), and a read on the other side that returns the old value.
"""

from __future__ import annotations

from patterns.consistency import build_cluster
from patterns.consistency.quorum import QuorumStore, Unavailable
from patterns.diagrams.dot import Diagram, Graph
from patterns.diagrams.sequence import Trace, sequence_diagram

__all__ = ["partition_cluster", "partition_run", "partition_ap", "partition_cp"]

CLIENTS = {"client A": "n1", "client B": "n3"}  # each client talks to one coordinator


def _cluster(mode: str) -> QuorumStore:
    return build_cluster(3, 2, 2, seed=0, mode=mode)


def partition_cluster() -> Diagram:
    """The cluster while n1 is cut off: which nodes can still talk, and where each client goes."""
    store = _cluster("ap")
    network = store.network
    network.partition([network.nodes[0]])
    g = Graph(rankdir="TB", label="N=3, W=2, R=2, while a partition cuts n1 off")
    g.attrs.update({"nodesep": "0.8", "ranksep": "0.7"})
    groups = network.groups()
    for i, group in enumerate(groups, start=1):
        box = g.cluster(f"side{i}", f"side {i}: {', '.join(group)}")
        for node in group:
            box.node(node, f"replica {node}", kind="store")
    for client, node in CLIENTS.items():
        g.node(client, client, kind="client")
        g.edge(client, node, "requests")
    cut, kept = [], []
    nodes = list(network.nodes)
    for i, a in enumerate(nodes):
        for b in nodes[i + 1:]:
            if network.can_reach(a, b):
                g.edge(a, b, "replication", dir="both", constraint="false")
                kept.append(f"{a} and {b}")
            else:
                g.edge(a, b, "cut", dir="none", style="dotted", constraint="false")
                cut.append(f"{a} and {b}")
    alt = ("Three replicas of a quorum store with write quorum 2 and read quorum 2, during a partition: "
           + "; ".join(f"side {i} holds {', '.join(group)}" for i, group in enumerate(groups, start=1))
           + f". Messages still pass between {', '.join(kept)}; the links between {', '.join(cut)} are cut. "
           + "; ".join(f"{c} sends its requests to {n}" for c, n in CLIENTS.items()) + ".")
    return Diagram(g.source(), alt, "patterns.consistency.Network (groups during a partition)")


def partition_run(mode: str = "ap") -> Diagram:
    """A write before the partition, a write on the cut-off side, a read on the other side."""
    store = _cluster(mode)
    network = store.network
    trace = Trace(["client A", *network.nodes, "client B"], kinds={n: "store" for n in network.nodes})
    trace.participant("client A", kind="client")
    trace.participant("client B", kind="client")

    def observe(event: str, src: str, dst: str, label: str) -> None:
        if src == dst:
            trace.note(src, f"{label} (local)")
        elif event == "dropped":
            trace.send(src, dst, f"{label}: lost (partition)", lost=True)
        else:
            trace.send(src, dst, label, reply=label == "ack" or "=" in label and not label.startswith("write"))

    network.observer = observe

    def request(client: str, label: str, run: object) -> None:
        node = CLIENTS[client]
        trace.send(client, node, label)
        try:
            op = run()  # type: ignore[operator]
        except Unavailable as exc:
            trace.reply(node, client, f"error: {str(exc).split(':')[1].strip()}")
            return
        answer = "ok" if op.kind == "write" else f"x = {op.value!r}"
        trace.reply(node, client, answer)

    request("client A", "write x=1", lambda: store.write("x", 1, coordinator="n1", client="A"))
    network.run()  # let the last acks land
    network.partition([network.nodes[0]])
    trace.note("n1", "partition: n1 cut off")
    request("client A", "write x=2", lambda: store.write("x", 2, coordinator="n1", client="A"))
    request("client B", "read x", lambda: store.read("x", coordinator="n3", client="B"))
    network.observer = None
    return sequence_diagram(trace, title=f"a partition in {mode.upper()} mode (N=3, W=2, R=2)",
                            generated_from="patterns.consistency.QuorumStore on a simulated Network "
                                           "(its message record)")


def partition_ap() -> Diagram:
    """AP: the cut-off node accepts a write alone; a read on the other side returns the old value."""
    return partition_run("ap")


def partition_cp() -> Diagram:
    """CP: the cut-off node refuses the write; the majority side still answers."""
    return partition_run("cp")
