"""State machines drawn from their transition tables.

A pattern whose behaviour is a state machine (the circuit breaker, the saga) keeps its transitions
in a table in its own module, and enforces it: a move that is not in the table raises. The diagram
is drawn from that same table, so the picture cannot show a transition the code does not make, or
miss one it does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from patterns._validate import require_text
from patterns.diagrams.dot import Diagram, Graph

__all__ = ["Transition", "state_diagram", "describe_states"]


@dataclass(frozen=True)
class Transition:
    """``source`` moves to ``target`` when ``trigger`` happens."""

    source: str
    target: str
    trigger: str

    def __post_init__(self) -> None:
        require_text(self.source, "source", max_length=200)
        require_text(self.target, "target", max_length=200)
        require_text(self.trigger, "trigger", max_length=500)


def _transitions(table: Iterable[Transition | tuple[str, str, str]]) -> list[Transition]:
    out = []
    for row in table:
        if isinstance(row, Transition):
            out.append(row)
        elif isinstance(row, tuple) and len(row) == 3:
            out.append(Transition(*row))
        else:
            raise TypeError(f"transitions must be Transition objects or (source, target, trigger) tuples, "
                            f"got {row!r}")
    if not out:
        raise ValueError("transitions must not be empty")
    return out


def _states(rows: Sequence[Transition], initial: str | None) -> list[str]:
    order = [] if initial is None else [initial]
    for t in rows:
        for s in (t.source, t.target):
            if s not in order:
                order.append(s)
    return order


def describe_states(table: Iterable[Transition | tuple[str, str, str]], title: str | None = None, *,
                    initial: str | None = None, finals: Iterable[str] = ()) -> str:
    """Alt text: the states, the initial and final ones, and every transition with its trigger."""
    rows = _transitions(table)
    states = _states(rows, initial)
    finals = list(finals)
    parts = [f"State diagram{': ' + title if title else ''}. States: {', '.join(states)}."]
    if initial is not None:
        parts.append(f"It starts in {initial}.")
    if finals:
        parts.append(f"Final: {', '.join(finals)}.")
    parts.append("Transitions: " + "; ".join(f"{t.source} to {t.target} when {' '.join(t.trigger.split())}"
                                             for t in rows) + ".")
    return " ".join(parts)


def state_diagram(table: Iterable[Transition | tuple[str, str, str]], *, initial: str | None = None,
                  finals: Iterable[str] = (), title: str | None = None, alt: str | None = None,
                  generated_from: str | None = None, caption: str | None = None,
                  rankdir: str = "LR") -> Diagram:
    """One box per state, one arrow per transition labelled with its trigger.

    ``initial`` gets an entry dot, ``finals`` a double border. Several transitions between the same
    two states are drawn as several arrows.
    """
    rows = _transitions(table)
    finals = list(finals)
    states = _states(rows, initial)
    unknown = [s for s in finals if s not in states]
    if unknown:
        raise ValueError(f"finals must be states of the table, got unknown {unknown}")
    g = Graph(rankdir=rankdir, label=title)
    g.attrs.update({"nodesep": "0.5", "ranksep": "0.6"})
    if initial is not None:
        g.node("__start__", kind="start")
        g.edge("__start__", initial)
    for state in states:
        g.node(state, state, kind="final" if state in finals else "state")
    for t in rows:
        g.edge(t.source, t.target, t.trigger)
    text = alt or describe_states(rows, title, initial=initial, finals=finals)
    return Diagram(g.source(), text, generated_from, caption)
