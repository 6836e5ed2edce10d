"""patterns.diagrams: DOT text, state diagrams from transition tables, sequence charts from traces.

The point of generated diagrams is that they cannot drift from the code, so besides "the picture
has every state and every transition", these tests check the tables themselves against the code:
every move in a table is one the code makes, and the code refuses a move that is not in it.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patterns.architecture import request_tree, shop
from patterns.clock import ManualClock
from patterns.diagrams import (
    Diagram,
    Graph,
    GraphvizError,
    GraphvizMissing,
    Trace,
    Tracer,
    apply_theme,
    call_graph,
    gallery,
    quote,
    request_sequence,
    sequence_diagram,
    state_diagram,
    to_svg,
)
from patterns.resilience import CircuitBreaker, WindowSpec
from patterns.resilience.breaker import TRANSITIONS as BREAKER_TRANSITIONS

EDGE = re.compile(r'^\s*"((?:[^"\\]|\\.)*)" -> "((?:[^"\\]|\\.)*)"(?: \[(.*)\])?;$', re.M)


def unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def dot_edges(dot: str) -> list[tuple[str, str, str | None]]:
    """(tail, head, label) of every quoted edge statement in DOT text written by ``Graph``."""
    out = []
    for tail, head, attrs in EDGE.findall(dot):
        label = re.search(r'label="((?:[^"\\]|\\.)*)"', attrs or "")
        out.append((unquote(tail), unquote(head), unquote(label.group(1)) if label else None))
    return out


# --- DOT text ---------------------------------------------------------------------------------

def test_quote_escapes_quotes_backslashes_and_newlines() -> None:
    assert quote('say "hi"\\now\nthen') == '"say \\"hi\\"\\\\now\\nthen"'


def test_graph_keeps_nodes_edges_and_clusters() -> None:
    g = Graph()
    g.node("api", "order API")
    g.node("db", kind="store")
    inner = g.cluster("core", "unit: core")
    inner.node("worker")
    g.edge("api", "db", "INSERT")
    inner.edge("worker", "db")
    assert set(g.nodes) == {"api", "db", "worker"}
    assert g.edges == [("api", "db", "INSERT"), ("worker", "db", None)]
    assert g.nodes["db"]["shape"] == "cylinder"
    dot = g.source()
    assert 'subgraph "cluster_core"' in dot and ("api", "db", "INSERT") in dot_edges(dot)


def test_unknown_kind_is_refused_naming_the_kinds() -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        Graph().node("x", kind="database")
    with pytest.raises(ValueError, match="kind must be one of .*got 'database'"):
        apply_theme("digraph { x [kind=database] }")


def test_apply_theme_expands_kinds_and_adds_the_defaults() -> None:
    themed = apply_theme('digraph { db [kind=store, label="orders"]; a -> db }')
    assert 'shape="cylinder"' in themed and "kind=" not in themed
    assert themed.index("{") < themed.index('bgcolor="transparent"') < themed.index("db [")
    with pytest.raises(ValueError, match="no '{'"):
        apply_theme("a -> b")


def test_a_diagram_needs_alt_text() -> None:
    with pytest.raises(ValueError, match="alt must describe"):
        Diagram("digraph { a }", alt="   ")
    with pytest.raises(ValueError, match="alt must be a string of 1"):
        Diagram("digraph { a }", alt="")


# --- rendering ----------------------------------------------------------------------------------

def test_to_svg_draws_every_node() -> None:
    g = Graph()
    g.edge(g.node("client", kind="client"), g.node("api"), "GET")
    svg = to_svg(g.source())
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "<title>client</title>" in svg and "<title>api</title>" in svg


def test_missing_dot_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATTERNS_DOT", "/nonexistent/dot")
    with pytest.raises(GraphvizMissing, match="apt-get install graphviz"):
        to_svg("digraph { a }")


def test_a_dot_syntax_error_is_reported_with_dot_s_message() -> None:
    with pytest.raises(GraphvizError, match="syntax error"):
        to_svg("digraph { a -> }")


def test_dot_warnings_fail_in_strict_mode() -> None:
    bad = 'digraph { a [shape="no-such-shape"] }'
    with pytest.raises(GraphvizError, match="warned"):
        to_svg(bad)
    assert "<svg" in to_svg(bad, strict=False)


# --- state diagrams from transition tables ------------------------------------------------------

def test_state_diagram_has_every_state_and_every_transition() -> None:
    d = state_diagram(BREAKER_TRANSITIONS, initial="closed", title="circuit breaker")
    edges = dot_edges(d.dot)
    for old, new, trigger in BREAKER_TRANSITIONS:
        assert (old, new, trigger) in edges
    assert ("__start__", "closed", None) in edges
    assert len(edges) == len(BREAKER_TRANSITIONS) + 1  # nothing drawn that is not in the table
    svg = d.svg()
    for state in ("closed", "open", "half_open"):
        assert f"<title>{state}</title>" in svg
    for old, new, _ in BREAKER_TRANSITIONS:
        assert f"<title>{old}&#45;&gt;{new}</title>" in svg
    for old, new, trigger in BREAKER_TRANSITIONS:
        assert f"{old} to {new} when {' '.join(trigger.split())}" in d.alt


def test_state_diagram_marks_finals_and_refuses_unknown_ones() -> None:
    d = state_diagram([("a", "b", "go")], initial="a", finals=["b"])
    assert 'peripheries="2"' in d.dot.split('"b" [')[1].split("\n")[0]
    with pytest.raises(ValueError, match="finals must be states"):
        state_diagram([("a", "b", "go")], finals=["c"])
    with pytest.raises(ValueError, match="must not be empty"):
        state_diagram([])
    with pytest.raises(TypeError, match="tuples"):
        state_diagram([("a", "b")])  # type: ignore[list-item]


def _breaker_moves() -> set[tuple[str, str]]:
    """Drive a breaker through every kind of move; the (old, new) pairs its listener saw."""
    clock = ManualClock()
    seen: list[tuple[str, str]] = []
    b = CircuitBreaker(failure_rate_threshold=0.5, window=WindowSpec.count(2), minimum_calls=2,
                       wait_in_open=5.0, half_open_calls=1, clock=clock)
    b.add_listener(lambda change: seen.append((change.old, change.new)))

    def fail() -> None:
        raise RuntimeError("down")

    def attempt(fn) -> None:  # type: ignore[no-untyped-def]
        with contextlib.suppress(Exception):  # outcomes are read from the listener
            b.call(fn)

    for _ in range(2):
        attempt(fail)  # closed -> open
    clock.advance(5.0)
    attempt(fail)  # open -> half_open -> open
    clock.advance(5.0)
    attempt(lambda: "ok")  # open -> half_open -> closed
    for _ in range(2):
        attempt(fail)
    b.reset()  # open -> closed
    for _ in range(2):
        attempt(fail)
    clock.advance(5.0)
    assert b.state == "half_open"
    b.reset()  # half_open -> closed
    return set(seen)


def test_the_breaker_table_is_exactly_the_moves_the_breaker_makes() -> None:
    assert _breaker_moves() == {(old, new) for old, new, _ in BREAKER_TRANSITIONS}


def test_the_breaker_refuses_a_move_that_is_not_in_its_table() -> None:
    b = CircuitBreaker(clock=ManualClock())
    with b._lock, pytest.raises(AssertionError, match="closed -> half_open is not in TRANSITIONS"):
        b._transition("half_open", 0.0, "a shortcut")
    assert b.state == "closed"


def test_the_saga_table_is_enforced_by_the_log() -> None:
    from patterns.sagas.log import CANCELLED, COMPENSATING, COMPLETED, TRANSITIONS, SagaLog

    log = SagaLog(sqlite3.connect(":memory:"), clock=ManualClock())
    log.create("s1", "order", {})
    with pytest.raises(ValueError, match="cannot move from RUNNING to CANCELLED"):
        log.set_state("s1", CANCELLED)
    log.set_state("s1", COMPLETED)
    with pytest.raises(ValueError, match="cannot move from COMPLETED to COMPENSATING"):
        log.set_state("s1", COMPENSATING)
    assert log.get("s1").state == COMPLETED  # type: ignore[union-attr]
    assert {(a, b) for a, b, _ in TRANSITIONS} == {("RUNNING", "COMPLETED"), ("RUNNING", "COMPENSATING"),
                                                   ("COMPENSATING", "CANCELLED")}


def test_orchestrated_sagas_make_every_move_of_the_saga_table() -> None:
    from patterns.sagas import STEP_NAMES, FaultPlan, run_orchestrated
    from patterns.sagas.log import TRANSITIONS

    moves = set()
    for plan in (FaultPlan(), FaultPlan(reject=STEP_NAMES[-1])):
        run = run_orchestrated(plan)
        assert run.log is not None
        events = run.log.events(run.order.order_id)
        states = [e.kind.removeprefix("state_").upper() for e in events if e.kind.startswith("state_")]
        moves |= set(zip(["RUNNING", *states], states, strict=False))
    assert moves == {(a, b) for a, b, _ in TRANSITIONS}


# --- sequence charts from traces ------------------------------------------------------------------

def row_labels(dot: str) -> list[str]:
    """Message labels (arrows and notes) in the order of the chart's rows, top to bottom."""
    pattern = r'(?:->[^\[]*\[[^\]]*?|\[shape="note"[^\]]*?)label="((?:[^"\\]|\\.)*)"'
    return [unquote(m.group(1)) for m in re.finditer(pattern, dot)]


def test_a_recorded_sequence_keeps_its_messages_in_order() -> None:
    t = Trace(["order", "broker"], kinds={"broker": "queue"})
    t.send("order", "broker", "publish OrderPlaced")
    t.send("broker", "billing", "deliver OrderPlaced")
    t.note("billing", "charge card")
    t.reply("billing", "broker", "commit")
    t.send("billing", "order", "long way left")
    d = sequence_diagram(t, title="demo")
    assert t.participants == ["order", "broker", "billing"]
    assert row_labels(d.dot) == t.labels()
    assert d.alt.index("publish OrderPlaced") < d.alt.index("deliver") < d.alt.index("charge card") \
        < d.alt.index("commit") < d.alt.index("long way left")
    svg = d.svg()
    heights = [float(re.search(rf'y="([\d.-]+)"[^>]*>{re.escape(label)}<', svg).group(1))  # type: ignore[union-attr]
               for label in t.labels()]
    assert heights == sorted(heights)  # drawn top to bottom in the order recorded


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("ABCD"), st.sampled_from("ABCD"),
                          st.text(st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=12),
                          st.booleans()), min_size=1, max_size=8))
def test_any_trace_renders_with_its_messages_in_order(messages) -> None:  # type: ignore[no-untyped-def]
    t = Trace()
    for sender, receiver, label, reply in messages:
        t.send(sender, receiver, label, reply=reply and sender != receiver)
    d = sequence_diagram(t)
    assert row_labels(d.dot) == [label for _, _, label, _ in messages]
    assert "<svg" in to_svg(d.dot, strict=False)


def test_an_empty_trace_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one message"):
        sequence_diagram(Trace(["a"]))


# --- tracing a pattern's calls ----------------------------------------------------------------------

class Store:
    def __init__(self) -> None:
        self.rows = {"k": 1}
        self.reads = 0

    def get(self, key: str) -> int:
        self.reads += 1
        return self.rows[key]


def test_tracer_records_calls_and_replies_in_order_and_forwards_everything() -> None:
    tracer = Tracer()
    store = tracer.wrap(Store(), "store", caller="app", replies=True, kind="store")
    assert store.get("k") == 1
    with pytest.raises(KeyError):
        store.get("missing")
    assert store.reads == 2  # attributes read through
    store.rows = {}  # and written through
    assert store.rows == {}
    labels = [(m.sender, m.receiver, m.label, m.reply) for m in tracer.trace]
    assert labels == [("app", "store", "get(k)", False), ("store", "app", "1", True),
                      ("app", "store", "get(missing)", False), ("store", "app", "raises KeyError", True)]
    assert tracer.trace.kinds["store"] == "store"
    assert [c.method for c in tracer.calls] == ["get", "get"]


def test_tracer_describe_can_rename_or_hide_calls() -> None:
    tracer = Tracer()

    def describe(method, args, kwargs):  # type: ignore[no-untyped-def]
        return None if args[0] == "hidden" else f"read {args[0]}"

    store = tracer.wrap(Store(), "store", caller="app", describe=describe)
    store.rows["hidden"] = 2
    store.get("hidden")
    store.get("k")
    assert tracer.trace.labels() == ["read k"]
    loader = tracer.function(lambda key: key.upper(), "db", caller="cache", label="load", replies=True)
    assert loader("x") == "X"
    assert tracer.trace.labels()[-2:] == ["load(x)", "X"]


# --- views of the package's models ------------------------------------------------------------------

def test_call_graph_draws_every_component_and_call() -> None:
    system = shop(notifications_async=True)
    d = call_graph(system)
    edges = dot_edges(d.dot)
    assert {(a, b) for a, b, _ in edges} == {(c.caller, c.callee) for c in system.calls}
    assert ("orders", "notifications", "event") in edges
    for name in system.components:
        assert f'"{name}" [' in d.dot
    assert "8 components in 8 deployment units" in d.alt
    monolith = call_graph(system.as_monolith())
    assert 'subgraph "cluster_monolith"' in monolith.dot and "0 of 7 synchronous calls" in monolith.alt


def test_request_sequence_follows_the_request_tree() -> None:
    system = shop()
    d = request_sequence(system, "gateway")
    calls = [f"{via.caller}->{via.callee}" for _, via in request_tree(system, "gateway") if via is not None]
    drawn = re.findall(r"\d+\. (\w+) to (\w+): \d+\. call", d.alt)
    assert [f"{a}->{b}" for a, b in drawn] == calls


# --- the gallery the chapters draw from ------------------------------------------------------------

@pytest.mark.parametrize("name", gallery.__all__)
def test_every_gallery_diagram_is_generated_described_and_renders_cleanly(name: str) -> None:
    diagram = getattr(gallery, name)()
    assert isinstance(diagram, Diagram)
    assert diagram.generated and diagram.generated_from.startswith("patterns.")
    assert len(diagram.alt) > 40
    assert "<svg" in to_svg(diagram.dot)  # strict: not even a warning from dot


def test_a_traced_stand_in_passes_isinstance_checks() -> None:
    conn = sqlite3.connect(":memory:")
    stand_in = Tracer().wrap(conn, "db", caller="app")
    assert isinstance(stand_in, sqlite3.Connection)


def test_describe_sql_names_the_verb_and_table() -> None:
    from patterns.diagrams.tracing import describe_sql

    cases = {"BEGIN IMMEDIATE": "BEGIN IMMEDIATE", "INSERT INTO outbox(a) VALUES (?)": "INSERT INTO outbox",
             "insert or ignore into seen(x) values (?)": "INSERT OR IGNORE INTO seen",
             "UPDATE outbox SET sent_at = ? WHERE seq = ?": "UPDATE outbox SET sent_at",
             "SELECT * FROM outbox WHERE sent_at IS NULL": "SELECT ... FROM outbox", "CREATE TABLE t (a)": None}
    for sql, label in cases.items():
        assert describe_sql("execute", (sql,), {}) == label
    assert describe_sql("commit", (), {}) == "COMMIT" and describe_sql("cursor", (), {}) is None


def test_a_lost_message_is_dotted_and_ends_in_a_bar() -> None:
    t = Trace()
    t.send("a", "b", "ping", lost=True)
    t.send("b", "a", "pong", lost=True)
    d = sequence_diagram(t)
    assert 'style=dotted, label="ping", arrowhead=tee' in d.dot
    assert "dir=back, arrowtail=tee" in d.dot and "(lost)" in d.alt


def test_the_network_observer_sees_every_message_in_time_order() -> None:
    from patterns.consistency import build_cluster

    store = build_cluster(3, 2, 2, seed=0)
    seen: list[tuple[str, str, str, str]] = []
    store.network.observer = lambda *event: seen.append(event)
    store.write("x", 1, coordinator="n1")
    store.network.run()
    labels = [(e, s, d, label) for e, s, d, label in seen]
    assert sorted(d for e, s, d, label in labels if label == "write x=1") == ["n1", "n2", "n3"]
    assert sum(label == "ack" for *_, label in labels) == 3
    store.network.partition(["n1"])
    seen.clear()
    store.submit_read("x", coordinator="n3")
    store.network.run()
    assert ("dropped", "n3", "n1", "read x") in seen
    assert ("delivered", "n2", "n3", "x=1") in seen
    assert store.network.stats.dropped >= 1


def test_network_labels_are_only_computed_when_observed() -> None:
    from patterns.clock import ManualClock as Clock
    from patterns.consistency.network import Network

    network = Network(["a", "b"], clock=Clock())
    calls = []

    def label() -> str:
        calls.append(1)
        return "expensive"

    network.send("a", "b", lambda: None, label)
    network.run()
    assert calls == []
    network.observer = lambda *event: None
    network.send("a", "b", lambda: None, label)
    network.run()
    assert calls == [1]
