"""Message sequence charts: who said what to whom, in order, drawn from a recorded ``Trace``.

A ``Trace`` is a list of ``Message``s between named participants. Code that runs a scenario
records into it (directly, or through ``patterns.diagrams.tracing``, which records the calls a
package object makes), and ``sequence_diagram`` draws it: one column (a lifeline) per participant,
left to right in the order they were declared or first appeared, one row per message, top to
bottom in the order they were recorded. A reply is dashed; a ``note`` is a box on one lifeline (an
action that sends nothing, e.g. "charge card").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from patterns._validate import require_text
from patterns.diagrams.dot import KINDS, THEME_DEFAULTS, Diagram, quote

__all__ = ["Message", "Trace", "sequence_diagram", "describe_sequence"]


@dataclass(frozen=True)
class Message:
    """One arrow: ``sender`` to ``receiver`` with ``label``; ``reply`` draws it dashed, ``lost``
    dotted and ending in a bar (a message the network dropped).

    ``sender == receiver`` is a note on that participant's lifeline.
    """

    sender: str
    receiver: str
    label: str
    reply: bool = False
    lost: bool = False

    @property
    def is_note(self) -> bool:
        return self.sender == self.receiver


class Trace:
    """A recorded conversation between participants (declared up front, or as they first speak)."""

    def __init__(self, participants: Iterable[str] = (), *, kinds: Mapping[str, str] | None = None) -> None:
        """``participants`` fixes the first columns, left to right; ``kinds`` gives boxes by name."""
        self.participants: list[str] = []
        self.kinds: dict[str, str] = {}
        self.messages: list[Message] = []
        for name, kind in (kinds or {}).items():
            self._set_kind(name, kind)
        for name in participants:
            self.participant(name)

    def _set_kind(self, name: str, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        self.kinds[name] = kind

    def participant(self, name: str, *, kind: str | None = None) -> str:
        """Declare ``name`` (a lifeline) if new; ``kind`` picks its box (``service``, ``store``, ...)."""
        name = require_text(name, "participant", max_length=200)
        if name not in self.participants:
            self.participants.append(name)
        if kind is not None:
            self._set_kind(name, kind)
        return name

    def send(self, sender: str, receiver: str, label: str, *, reply: bool = False, lost: bool = False) -> Message:
        """Record one message (and declare its participants in order of appearance)."""
        message = Message(self.participant(sender), self.participant(receiver),
                          require_text(label, "label", max_length=500), reply, lost)
        self.messages.append(message)
        return message

    def reply(self, sender: str, receiver: str, label: str) -> Message:
        return self.send(sender, receiver, label, reply=True)

    def note(self, participant: str, text: str) -> Message:
        """An action on one lifeline that sends nothing (drawn as a small box)."""
        return self.send(participant, participant, text)

    def __iter__(self) -> Iterator[Message]:
        return iter(self.messages)

    def __len__(self) -> int:
        return len(self.messages)

    def labels(self) -> list[str]:
        return [m.label for m in self.messages]

    def __repr__(self) -> str:
        return f"Trace({len(self.participants)} participants, {len(self.messages)} messages)"


def _row_node(column: int, row: int) -> str:
    return f"p{column}r{row}"


def describe_sequence(trace: Trace, title: str | None = None, *, limit: int = 40) -> str:
    """Alt text: the participants, then every message in order (the first ``limit`` of them)."""
    head = f"Sequence diagram{': ' + title if title else ''}. Participants from left to right: " \
           f"{', '.join(trace.participants)}."
    steps = []
    for i, m in enumerate(trace.messages[:limit], start=1):
        if m.is_note:
            steps.append(f"{i}. {m.sender}: {m.label}")
        else:
            kind = " (lost)" if m.lost else " (reply)" if m.reply else ""
            steps.append(f"{i}. {m.sender} to {m.receiver}{kind}: {m.label}")
    more = len(trace.messages) - limit
    tail = f" ... and {more} more messages." if more > 0 else ""
    return head + " " + "; ".join(steps) + ("." if steps and not tail else "") + tail


def sequence_diagram(trace: Trace, *, title: str | None = None, alt: str | None = None,
                     generated_from: str | None = None, caption: str | None = None) -> Diagram:
    """Draw ``trace`` as a sequence chart (see the module docstring); alt text lists every message."""
    if not isinstance(trace, Trace):
        raise TypeError(f"trace must be a Trace, got {type(trace).__name__}")
    if not trace.messages:
        raise ValueError("trace must hold at least one message, got an empty trace")
    columns = {name: i for i, name in enumerate(trace.participants)}
    rows = len(trace.messages)
    lines = ["digraph G {", *(f"  {line};" for line in THEME_DEFAULTS),
             "  graph [splines=false, newrank=true, nodesep=0.5, ranksep=0.3];"]
    if title:
        lines.append(f'  label={quote(title)}; labelloc="t";')
    # the heads of the lifelines, kept left to right by invisible edges
    heads = []
    for name, i in columns.items():
        kind = trace.kinds.get(name, "service")
        attrs = ", ".join(f"{k}={quote(v)}" for k, v in KINDS[kind].items())
        heads.append(_row_node(i, 0))
        lines.append(f"  {_row_node(i, 0)} [{attrs}, label={quote(name)}];")
    if len(heads) > 1:
        lines.append("  { rank=same; " + " -> ".join(heads) + " [style=invis]; }")
    # one point per participant per row, chained into dashed lifelines
    lines.append('  node [shape=point, width=0.01, height=0.01, label="", color="#999999"];')
    for i in columns.values():
        chain = " -> ".join(_row_node(i, r) for r in range(rows + 1))
        lines.append(f'  {chain} [style=dashed, arrowhead=none, color="#999999", weight=100];')
    for r, m in enumerate(trace.messages, start=1):
        rank = [_row_node(i, r) for i in columns.values()]
        a, b = columns[m.sender], columns[m.receiver]
        style = "dotted" if m.lost else "dashed" if m.reply else "solid"
        tip = "tee" if m.lost else "normal"
        if m.is_note:
            note = ", ".join(f"{k}={quote(v)}" for k, v in KINDS["note"].items())
            lines.append(f"  {_row_node(a, r)} [{note}, width=0, height=0.3, fontsize=10, "
                         f"label={quote(m.label)}, color=\"#333333\"];")
            lines.append("  { rank=same; " + " ".join(rank) + " }")
            continue
        # an arrow always goes left to right in the layout (dir=back when the message goes left),
        # through every lifeline it crosses, so dot keeps it straight; the label sits by the sender
        low, high = min(a, b), max(a, b)
        path = [_row_node(i, r) for i in range(low, high + 1)]
        segments = list(zip(path, path[1:], strict=False))
        label_at = 0 if a < b else len(segments) - 1
        parts = []
        for j, (tail, head) in enumerate(segments):
            arrow = (j == len(segments) - 1) if a < b else (j == 0)
            segment = [f"style={style}"]
            if j == label_at:
                segment.append(f"label={quote(m.label)}")
            if a < b:
                segment.append(f"arrowhead={tip}" if arrow else "arrowhead=none")
            else:
                segment.append(f"dir=back, arrowtail={tip}" if arrow else "dir=none")
            parts.append(f"{tail} -> {head} [{', '.join(segment)}];")
        lines.append("  { rank=same; " + " ".join(rank) + " " + " ".join(parts) + " }")
    lines.append("}")
    dot = "\n".join(lines) + "\n"
    return Diagram(dot, alt or describe_sequence(trace, title), generated_from, caption)


def messages_between(trace: Trace, sender: str, receiver: str) -> Sequence[Message]:
    """The messages from ``sender`` to ``receiver``, in order (handy in tests)."""
    return [m for m in trace.messages if m.sender == sender and m.receiver == receiver]
