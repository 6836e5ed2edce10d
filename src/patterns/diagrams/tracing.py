"""Record the calls a package object makes, as messages of a ``Trace``, without changing its code.

``Tracer.wrap(obj, name, caller=...)`` returns a stand-in that forwards every method call to
``obj`` and records ``caller -> name: method(args)`` before the call and, with ``replies=True``,
``name -> caller: result`` after it. Hand the stand-in to the pattern in place of the real object
(the store a cache loads from, the broker an outbox relay publishes to), run a scenario, and the
trace holds the calls the pattern really made, in the order it made them. ``describe`` turns a
call into a label (or None to leave it out), so the chart reads "read item:42 -> miss" instead of
a repr.

Only method calls are recorded; attribute reads pass through. Exceptions are recorded as replies
(``-> raises X``) and re-raised unchanged. The stand-in reports the wrapped object's class, so
``isinstance`` checks in a pattern's constructor accept it. ``describe_sql`` labels the statements
a pattern runs on a ``sqlite3.Connection`` (``BEGIN IMMEDIATE``, ``INSERT INTO outbox``, ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from patterns._validate import require_text
from patterns.diagrams.sequence import Trace

__all__ = ["Call", "Tracer", "short", "describe_sql"]

#: describe(method, args, kwargs) -> the label of the call (None: do not record it)
Describe = Callable[[str, tuple[Any, ...], Mapping[str, Any]], str | None]
#: explain(method, result) -> the label of the reply (None: no reply arrow)
Explain = Callable[[str, Any], str | None]


def short(value: object, limit: int = 40) -> str:
    """A one-line, bounded repr for labels."""
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _default_describe(method: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str:
    shown = [short(a, 24) for a in args] + [f"{k}={short(v, 16)}" for k, v in kwargs.items()]
    return f"{method}({', '.join(shown)})"


def _default_explain(method: str, result: Any) -> str | None:
    return None if result is None else short(result)


_SQL_SHAPES = (
    (re.compile(r"^(BEGIN(?: IMMEDIATE| EXCLUSIVE| DEFERRED)?|COMMIT|ROLLBACK)\b", re.I), "{0}"),
    (re.compile(r"^INSERT(?: OR (\w+))? INTO (\w+)", re.I), "INSERT{or} INTO {1}"),
    (re.compile(r"^UPDATE (\w+) SET (\w+)", re.I), "UPDATE {0} SET {1}"),
    (re.compile(r"^DELETE FROM (\w+)", re.I), "DELETE FROM {0}"),
    (re.compile(r"^SELECT .*? FROM (\w+)", re.I | re.S), "SELECT ... FROM {0}"),
)


def describe_sql(method: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str | None:
    """A label for a call on a ``sqlite3.Connection``: the statement's verb and table.

    Schema statements (``CREATE``, ``PRAGMA``) and calls other than ``execute``/``executemany``/
    ``commit``/``rollback`` are left out: they are set-up, not the conversation.
    """
    if method in ("commit", "rollback"):
        return method.upper()
    if method not in ("execute", "executemany") or not args or not isinstance(args[0], str):
        return None
    sql = " ".join(args[0].split())
    for pattern, shape in _SQL_SHAPES:
        match = pattern.match(sql)
        if match:
            groups = match.groups()
            if shape.startswith("INSERT"):
                return shape.format(*groups, **{"or": f" OR {groups[0].upper()}" if groups[0] else ""})
            return shape.format(*(g.upper() if i == 0 and shape == "{0}" else g for i, g in enumerate(groups)))
    return None


class Call:
    """A recorded call (what ``Tracer.calls`` keeps besides the trace): for assertions in tests."""

    __slots__ = ("caller", "target", "method", "args", "kwargs", "result", "error")

    def __init__(self, caller: str, target: str, method: str, args: tuple[Any, ...],
                 kwargs: Mapping[str, Any]) -> None:
        self.caller, self.target, self.method = caller, target, method
        self.args, self.kwargs = args, dict(kwargs)
        self.result: Any = None
        self.error: BaseException | None = None

    def __repr__(self) -> str:
        return f"Call({self.caller} -> {self.target}.{self.method})"


class _Traced:
    """The stand-in ``Tracer.wrap`` returns (forwards everything to the wrapped object)."""

    def __init__(self, tracer: Tracer, target: Any, name: str, caller: str, describe: Describe,
                 explain: Explain | None) -> None:
        object.__setattr__(self, "_tracer", tracer)
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_spec", (name, caller, describe, explain))

    def __getattr__(self, attribute: str) -> Any:
        value = getattr(self._target, attribute)
        if attribute.startswith("_") or not callable(value):
            return value
        name, caller, describe, explain = self._spec
        return self._tracer._recording(value, attribute, name, caller, describe, explain)

    def __setattr__(self, attribute: str, value: Any) -> None:
        setattr(self._target, attribute, value)

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance(stand_in, Outbox) holds, as for the real object
        return type(self._target)

    def __repr__(self) -> str:
        return f"traced({self._target!r})"


class Tracer:
    """Records calls into ``trace`` (a new ``Trace`` unless one is given)."""

    def __init__(self, trace: Trace | None = None) -> None:
        if trace is not None and not isinstance(trace, Trace):
            raise TypeError(f"trace must be a Trace, got {type(trace).__name__}")
        self.trace = trace if trace is not None else Trace()
        self.calls: list[Call] = []
        self.enabled = True

    def wrap(self, target: Any, name: str, *, caller: str, describe: Describe | None = None,
             replies: bool | Explain = False, kind: str | None = None) -> Any:
        """A stand-in for ``target`` that records each method call ``caller -> name``.

        ``replies``: True draws a dashed reply with a short repr of the result (None results are
        not drawn), a function ``(method, result) -> label | None`` chooses the label.
        """
        name = self.trace.participant(require_text(name, "name", max_length=200), kind=kind)
        self.trace.participant(require_text(caller, "caller", max_length=200))
        explain: Explain | None = (_default_explain if replies is True else replies or None)
        return _Traced(self, target, name, caller, describe or _default_describe, explain)

    def function(self, fn: Callable[..., Any], name: str, *, caller: str, label: str | None = None,
                 replies: bool | Explain = False, kind: str | None = None) -> Callable[..., Any]:
        """A stand-in for a plain function (a loader, a handler): each call is recorded."""
        name = self.trace.participant(require_text(name, "name", max_length=200), kind=kind)
        self.trace.participant(require_text(caller, "caller", max_length=200))
        method = label or str(getattr(fn, "__name__", "call"))
        explain: Explain | None = (_default_explain if replies is True else replies or None)
        return self._recording(fn, method, name, caller, _default_describe, explain)

    def _recording(self, fn: Callable[..., Any], method: str, name: str, caller: str, describe: Describe,
                   explain: Explain | None) -> Callable[..., Any]:
        def recorded(*args: Any, **kwargs: Any) -> Any:
            if not self.enabled:
                return fn(*args, **kwargs)
            call = Call(caller, name, method, args, kwargs)
            label = describe(method, args, kwargs)
            if label is not None:
                self.calls.append(call)
                self.trace.send(caller, name, label)
            try:
                call.result = fn(*args, **kwargs)
            except BaseException as exc:
                call.error = exc
                if label is not None:
                    self.trace.reply(name, caller, f"raises {type(exc).__name__}")
                raise
            if label is not None and explain is not None:
                answer = explain(method, call.result)
                if answer is not None:
                    self.trace.reply(name, caller, answer)
            return call.result

        return recorded

    def note(self, participant: str, text: str) -> None:
        """Record an action on one lifeline (what the scenario did between calls)."""
        if self.enabled:
            self.trace.note(participant, text)
