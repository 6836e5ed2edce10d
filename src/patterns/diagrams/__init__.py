"""Diagrams for the book, drawn from the package so they cannot drift from the code.

- ``dot``: DOT text in one theme (``Graph``), ``Diagram`` (DOT + alt text + where it came from),
  ``apply_theme`` for DOT written by hand in a chapter.
- ``render``: ``to_svg`` with Graphviz's ``dot`` (offline); ``GraphvizMissing`` says how to install it.
- ``state``: state diagrams from transition tables (the breaker's, the saga log's).
- ``sequence``: message sequence charts from a recorded ``Trace``.
- ``tracing``: ``Tracer.wrap`` records the calls a pattern makes on the objects it is given.
- ``views``: call graphs and request paths of ``patterns.architecture`` systems.
- ``gallery``: the functions the chapters name in their ``{diagram}`` blocks (scenarios in ``figures``).
- ``sphinx``: the ``diagram`` directive (the book's ``_config.yml`` loads it).

Like plotting, this package imports the pattern families; no family imports it.
"""

from patterns.diagrams.dot import KINDS, Diagram, Graph, apply_theme, quote
from patterns.diagrams.render import GraphvizError, GraphvizMissing, dot_program, to_svg
from patterns.diagrams.sequence import Message, Trace, describe_sequence, sequence_diagram
from patterns.diagrams.state import Transition, describe_states, state_diagram
from patterns.diagrams.tracing import Tracer, short
from patterns.diagrams.views import call_graph, request_sequence

__all__ = [
    "KINDS", "Diagram", "Graph", "apply_theme", "quote", "GraphvizError", "GraphvizMissing", "dot_program",
    "to_svg", "Message", "Trace", "describe_sequence", "sequence_diagram", "Transition", "describe_states",
    "state_diagram", "Tracer", "short", "call_graph", "request_sequence",
]
