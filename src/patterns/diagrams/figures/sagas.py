"""Chapter 5 (sagas): the choreography's event flow, the saga's states, and a recorded run."""

from __future__ import annotations

from patterns.diagrams.dot import Diagram, Graph
from patterns.diagrams.sequence import Trace, sequence_diagram
from patterns.diagrams.state import state_diagram
from patterns.sagas import FaultPlan, run_choreographed
from patterns.sagas.choreography import REACTIONS, SERVICES
from patterns.sagas.log import CANCELLED, COMPLETED, RUNNING, TRANSITIONS

__all__ = ["saga_states", "choreography_flow", "choreography_run"]

TOPIC = "order-saga topic"


def saga_states() -> Diagram:
    """A saga's states in the orchestrator's log, from the table ``SagaLog.set_state`` enforces."""
    return state_diagram(TRANSITIONS, initial=RUNNING, finals=(COMPLETED, CANCELLED), title="saga (orchestrator's log)",
                         generated_from="patterns.sagas.log.TRANSITIONS")


def _emitters() -> dict[str, str]:
    """Which service emits each event type (``OrderCreated`` comes from the order service)."""
    out = {"OrderCreated": "order"}
    for (service, _), reaction in REACTIONS.items():
        out[reaction.emits] = service
        if reaction.refused is not None:
            out[reaction.refused] = service
    return out


def choreography_flow() -> Diagram:
    """Every service and every event between them, drawn from the ``REACTIONS`` table.

    An arrow goes from the service that emits an event to the service that reacts to it, labelled
    with the event and the reaction's work; compensations (``undo``) are dashed.
    """
    emitters = _emitters()
    g = Graph(rankdir="LR", label="choreography: who reacts to which event")
    for service in SERVICES:
        g.node(service, f"{service} service")
    lines = []
    for (service, event), reaction in REACTIONS.items():
        source = emitters[event]
        g.edge(source, service, f"{event}\n-> {reaction.work}", style="dashed" if reaction.undo else "solid",
               color="#8a3b12" if reaction.undo else "#333333", fontcolor="#8a3b12" if reaction.undo else "#333333")
        lines.append(f"{source} emits {event}, {service} reacts with {reaction.work}"
                     f"{' (a compensation)' if reaction.undo else ''}")
    alt = ("Choreography of the order saga, drawn from its reactions table: four services, order, payment, "
           "inventory and shipping, connected only by events on one topic. " + "; ".join(lines) + ".")
    return Diagram(g.source(), alt, "patterns.sagas.choreography.REACTIONS")


def choreography_run() -> Diagram:
    """The shipping refusal of the chapter, as the choreographed services really ran it.

    Drawn from ``ChoreographedShop.history`` (every event a service emitted, in commit order) and
    ``REACTIONS`` (who reacts to it): each event is published to the topic and delivered to the
    service that reacts; the reaction's work is a note on that service's lifeline. The other
    services' groups receive the event too and ignore it; those deliveries are not drawn.
    """
    run = run_choreographed(FaultPlan(reject="shipping"))
    assert run.choreography is not None
    history = run.choreography.history
    trace = Trace([TOPIC, *SERVICES], kinds={TOPIC: "queue"})
    for i, (_, service, event, _) in enumerate(history):
        trace.send(service, TOPIC, f"publish {event}")
        for (reactor, reacts_to), reaction in REACTIONS.items():
            if reacts_to != event:
                continue
            trace.send(TOPIC, reactor, event)
            answer = next((e for _, s, e, _ in history[i + 1:] if s == reactor), None)
            refused = answer is not None and answer == reaction.refused
            trace.note(reactor, f"{reaction.work}{': refused' if refused else ''}"
                                f"{' (compensation)' if reaction.undo else ''}")
    return sequence_diagram(trace, title=f"choreography, shipping refuses: order {run.state}",
                            generated_from="patterns.sagas.ChoreographedShop.history (a recorded run)")
