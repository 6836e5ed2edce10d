"""The saga log: the orchestrator's memory, in SQLite, written before and after every step.

An orchestrator is a process, and processes die. Everything it needs to carry on after a crash is
in two tables: ``sagas`` (one row per saga: its state and data) and ``saga_events`` (an append-only
history: step started, step done with its result, step failed, compensation started/done/retried).
A new orchestrator reads them and knows which steps may have taken effect and which compensations
are still owed (``compensations_due``). The log never decides anything on its own: it records.

States: ``RUNNING`` -> ``COMPLETED``, or ``RUNNING`` -> ``COMPENSATING`` -> ``CANCELLED`` (the
``TRANSITIONS`` table; ``set_state`` refuses any other move).
``RUNNING`` and ``COMPENSATING`` are *unfinished*: ``Orchestrator.resume_all`` finishes them.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from patterns._validate import require_instance, require_one_of, require_sequence, require_text
from patterns.clock import Clock, SystemClock
from patterns.storage import connection_of, transaction

__all__ = [
    "SagaLog",
    "SagaRecord",
    "LogEvent",
    "RUNNING",
    "COMPENSATING",
    "COMPLETED",
    "CANCELLED",
    "FINAL_STATES",
    "TRANSITIONS",
    "SagaState",
    "EventKind",
    "EVENT_KINDS",
    "SAGA_STARTED",
    "ACTION_STARTED",
    "ACTION_DONE",
    "ACTION_REJECTED",
    "ACTION_FAILED",
    "COMPENSATION_STARTED",
    "COMPENSATION_DONE",
    "COMPENSATION_FAILED",
    "COMPENSATION_MISSING",
    "compensations_due",
]

SagaState = Literal["RUNNING", "COMPENSATING", "COMPLETED", "CANCELLED"]
RUNNING: Final = "RUNNING"
COMPENSATING: Final = "COMPENSATING"
COMPLETED: Final = "COMPLETED"
CANCELLED: Final = "CANCELLED"
FINAL_STATES = frozenset({COMPLETED, CANCELLED})
_STATES: tuple[SagaState, ...] = get_args(SagaState)
#: Every move a saga's state can make, and its cause (``create`` starts it RUNNING). ``set_state``
#: refuses any other move, and the book's state diagram is drawn from this table.
TRANSITIONS: tuple[tuple[SagaState, SagaState, str], ...] = (
    (RUNNING, COMPLETED, "every step's action is done"),
    (RUNNING, COMPENSATING, "a step is rejected, or fails\npast its retries"),
    (COMPENSATING, CANCELLED, "every compensation due is done"),
)
_MOVES = frozenset((old, new) for old, new, _ in TRANSITIONS)

# What a line of a saga's history can say. ``state_*`` lines are written by ``set_state`` only.
EventKind = Literal[
    "saga_started",
    "action_started",  # an attempt at a step's action was sent: from now on it MAY take effect
    "action_done",  # ... it answered: it took effect (with its result)
    "action_rejected",  # ... it refused: THIS attempt did nothing
    "action_failed",  # ... it failed in an unknown way (timeout, lost reply, bug): may have happened
    "compensation_started",
    "compensation_done",
    "compensation_failed",
    "compensation_missing",  # a step with an unknown outcome has no compensation (the last one)
    "state_running",
    "state_compensating",
    "state_completed",
    "state_cancelled",
]
EVENT_KINDS: tuple[EventKind, ...] = get_args(EventKind)
SAGA_STARTED: Final = "saga_started"
ACTION_STARTED: Final = "action_started"
ACTION_DONE: Final = "action_done"
ACTION_REJECTED: Final = "action_rejected"
ACTION_FAILED: Final = "action_failed"
COMPENSATION_STARTED: Final = "compensation_started"
COMPENSATION_DONE: Final = "compensation_done"
COMPENSATION_FAILED: Final = "compensation_failed"
COMPENSATION_MISSING: Final = "compensation_missing"
_STATE_EVENT: dict[str, EventKind] = {
    RUNNING: "state_running",
    COMPENSATING: "state_compensating",
    COMPLETED: "state_completed",
    CANCELLED: "state_cancelled",
}


@dataclass(frozen=True)
class LogEvent:
    """One line of a saga's history (``kind`` e.g. ``action_done``; ``step`` None for saga-level)."""

    seq: int
    saga_id: str
    at: float
    step: str | None
    kind: str
    detail: Mapping[str, Any]


@dataclass(frozen=True)
class SagaRecord:
    """A saga's row: its state, its input data, and why it was cancelled (if it was)."""

    saga_id: str
    definition: str
    state: str
    data: Mapping[str, Any]
    failed_step: str | None
    reason: str | None
    created_at: float
    updated_at: float

    @property
    def finished(self) -> bool:
        return self.state in FINAL_STATES


class SagaLog:
    """Durable saga state in a SQLite database (a ``sqlite3.Connection`` or sqlite-utils ``Database``).

    Every write is its own transaction, so what a crashed orchestrator left behind is exactly what
    it had logged. Two orchestrators must not drive the same saga at once (one owner per saga, as
    with a lease); this class does not arbitrate that.
    """

    def __init__(self, db: Any, *, clock: Clock | None = None) -> None:
        self.conn: sqlite3.Connection = connection_of(db)
        self.clock: Clock = SystemClock() if clock is None else require_instance(clock, "clock", Clock)
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS sagas (saga_id TEXT PRIMARY KEY, definition TEXT NOT NULL,"
            " state TEXT NOT NULL, data TEXT NOT NULL, failed_step TEXT, reason TEXT,"
            " created_at REAL NOT NULL, updated_at REAL NOT NULL)"
        )
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS saga_events (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " saga_id TEXT NOT NULL, at REAL NOT NULL, step TEXT, kind TEXT NOT NULL, detail TEXT NOT NULL)"
        )
        if self.conn.in_transaction:
            self.conn.commit()

    def create(self, saga_id: str, definition: str, data: Mapping[str, Any]) -> bool:
        """Insert a new RUNNING saga; False (and no change) if ``saga_id`` already exists.

        ``data`` must be JSON without NaN or infinity: it is compared on every re-run of the saga
        id, and NaN never equals itself (the saga could never be run again).
        """
        saga_id = saga_id_of(saga_id)
        definition = require_text(definition, "definition", max_length=200)
        payload = _json(data, "data")
        now = self.clock.now()
        with transaction(self.conn) as tx:
            cur = tx.execute(
                "INSERT OR IGNORE INTO sagas VALUES (?, ?, ?, ?, NULL, NULL, ?, ?)",
                (saga_id, definition, RUNNING, payload, now, now),
            )
            if cur.rowcount:
                self._append(tx, saga_id, None, SAGA_STARTED, {})
        return bool(cur.rowcount)

    def record(self, saga_id: str, step: str | None, kind: EventKind, **detail: Any) -> None:
        """Append one history line (its own transaction)."""
        require_one_of(kind, "kind", EVENT_KINDS)
        with transaction(self.conn) as tx:
            self._append(tx, saga_id, step, kind, detail)

    def set_state(
        self, saga_id: str, state: SagaState, *, failed_step: str | None = None, reason: str | None = None
    ) -> SagaRecord:
        """Move a saga to ``state`` and log the change, in one transaction; returns the new record."""
        require_one_of(state, "state", _STATES)
        with transaction(self.conn) as tx:
            old = tx.execute("SELECT state FROM sagas WHERE saga_id = ?", (saga_id,)).fetchone()
            if old is not None and (old[0], state) not in _MOVES:
                raise ValueError(f"saga {saga_id!r} cannot move from {old[0]} to {state}: not in TRANSITIONS")
            cur = tx.execute(
                "UPDATE sagas SET state = ?, failed_step = COALESCE(?, failed_step),"
                " reason = COALESCE(?, reason), updated_at = ? WHERE saga_id = ?",
                (state, failed_step, reason, self.clock.now(), saga_id),
            )
            if cur.rowcount == 0:
                raise KeyError(f"no saga {saga_id!r} in the log")
            self._append(tx, saga_id, None, _STATE_EVENT[state], {"reason": reason} if reason else {})
            row = tx.execute("SELECT * FROM sagas WHERE saga_id = ?", (saga_id,)).fetchone()
        return _record(row)

    def get(self, saga_id: str) -> SagaRecord | None:
        row = self.conn.execute("SELECT * FROM sagas WHERE saga_id = ?", (saga_id,)).fetchone()
        return None if row is None else _record(row)

    def all(self) -> list[SagaRecord]:
        return [_record(r) for r in self.conn.execute("SELECT * FROM sagas ORDER BY created_at, saga_id")]

    def unfinished(self) -> list[SagaRecord]:
        """Sagas a crashed orchestrator left RUNNING or COMPENSATING, oldest first."""
        rows = self.conn.execute(
            "SELECT * FROM sagas WHERE state IN (?, ?) ORDER BY created_at, saga_id", (RUNNING, COMPENSATING)
        )
        return [_record(r) for r in rows]

    def events(self, saga_id: str | None = None) -> list[LogEvent]:
        """The history of one saga (or of all), in the order it was written."""
        if saga_id is None:
            rows = self.conn.execute("SELECT * FROM saga_events ORDER BY seq")
        else:
            rows = self.conn.execute("SELECT * FROM saga_events WHERE saga_id = ? ORDER BY seq", (saga_id,))
        return [LogEvent(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]

    def counts(self) -> dict[str, int]:
        """Number of sagas per state (every state present, zeros included)."""
        out: dict[str, int] = dict.fromkeys(_STATES, 0)
        for state, n in self.conn.execute("SELECT state, COUNT(*) FROM sagas GROUP BY state"):
            out[state] = n
        return out

    def _append(
        self, tx: sqlite3.Connection, saga_id: str, step: str | None, kind: EventKind, detail: Mapping[str, Any]
    ) -> None:
        tx.execute(
            "INSERT INTO saga_events(saga_id, at, step, kind, detail) VALUES (?, ?, ?, ?, ?)",
            (saga_id, self.clock.now(), step, kind, _json(detail, "detail")),
        )


def saga_id_of(saga_id: object) -> str:
    """A saga id: 1 to 200 characters without '/' (it is joined with step names by '/')."""
    return require_text(saga_id, "saga_id", max_length=200, forbidden="/")


def _json(value: object, name: str) -> str:
    """``value`` (a mapping) as canonical JSON; NaN, infinity and non-JSON values are refused."""
    mapping = dict(require_instance(value, name, Mapping, what="a mapping (e.g. a dict)"))
    try:
        return json.dumps(mapping, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be JSON without NaN or infinity ({exc}), got {mapping!r}") from exc


def _record(row: Sequence[Any]) -> SagaRecord:
    return SagaRecord(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5], row[6], row[7])


def compensations_due(step_names: Sequence[str], events: Iterable[tuple[str | None, str]]) -> list[str]:
    """The compensations a (resumed) saga still owes, in the order to run them.

    ``events`` are ``(step, kind)`` pairs from the log. Every ``action_started`` is an attempt
    that *may have taken effect*, whether it was answered ``action_done``, ``action_failed``
    (timeout, lost reply, bug) or never answered (the process died). Only ``action_rejected``
    says that one attempt did nothing. So a step is owed a compensation unless every attempt at it
    that started was refused, or its compensation is already done. Every attempt counts, not only
    the latest: an attempt whose reply was lost may have charged the card even if the retry was
    then refused (as a duplicate, say). Order: reverse of the steps' order in the saga, so later
    effects are undone first.
    """
    step_names = require_sequence(step_names, "step_names", min_length=0, max_length=1_000)
    require_instance(events, "events", Iterable, what="an iterable of (step, kind) pairs")
    started: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    compensated: set[str] = set()
    for step, kind in events:
        if kind == ACTION_STARTED and step is not None:
            started[step] += 1
        elif kind == ACTION_REJECTED and step is not None:
            refused[step] += 1
        elif kind == COMPENSATION_DONE and step is not None:
            compensated.add(step)
    owed = {step for step in started if started[step] > refused[step]} - compensated
    return [name for name in reversed(step_names) if name in owed]
