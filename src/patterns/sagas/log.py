"""The saga log: the orchestrator's memory, in SQLite, written before and after every step.

An orchestrator is a process, and processes die. Everything it needs to carry on after a crash is
in two tables: ``sagas`` (one row per saga: its state and data) and ``saga_events`` (an append-only
history: step started, step done with its result, step failed, compensation started/done/retried).
A new orchestrator reads them and knows which steps may have taken effect and which compensations
are still owed (``compensations_due``). The log never decides anything on its own: it records.

States: ``RUNNING`` -> ``COMPLETED``, or ``RUNNING`` -> ``COMPENSATING`` -> ``CANCELLED``.
``RUNNING`` and ``COMPENSATING`` are *unfinished*: ``Orchestrator.resume_all`` finishes them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
    "compensations_due",
]

RUNNING, COMPENSATING, COMPLETED, CANCELLED = "RUNNING", "COMPENSATING", "COMPLETED", "CANCELLED"
FINAL_STATES = frozenset({COMPLETED, CANCELLED})
_STATES = (RUNNING, COMPENSATING, COMPLETED, CANCELLED)


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
        self.clock = clock if clock is not None else SystemClock()
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
        """Insert a new RUNNING saga; False (and no change) if ``saga_id`` already exists."""
        if not isinstance(saga_id, str) or not saga_id or "/" in saga_id:
            raise ValueError(f"saga_id must be a non-empty string without '/', got {saga_id!r}")
        now = self.clock.now()
        with transaction(self.conn) as tx:
            cur = tx.execute(
                "INSERT OR IGNORE INTO sagas VALUES (?, ?, ?, ?, NULL, NULL, ?, ?)",
                (saga_id, definition, RUNNING, json.dumps(dict(data), sort_keys=True), now, now),
            )
            if cur.rowcount:
                self._append(tx, saga_id, None, "saga_started", {})
        return bool(cur.rowcount)

    def record(self, saga_id: str, step: str | None, kind: str, **detail: Any) -> None:
        """Append one history line (its own transaction)."""
        with transaction(self.conn) as tx:
            self._append(tx, saga_id, step, kind, detail)

    def set_state(self, saga_id: str, state: str, *, failed_step: str | None = None, reason: str | None = None) -> None:
        """Move a saga to ``state`` and log the change, in one transaction."""
        if state not in _STATES:
            raise ValueError(f"state must be one of {_STATES}, got {state!r}")
        with transaction(self.conn) as tx:
            tx.execute(
                "UPDATE sagas SET state = ?, failed_step = COALESCE(?, failed_step),"
                " reason = COALESCE(?, reason), updated_at = ? WHERE saga_id = ?",
                (state, failed_step, reason, self.clock.now(), saga_id),
            )
            self._append(tx, saga_id, None, f"state_{state.lower()}", {"reason": reason} if reason else {})

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
        out = dict.fromkeys(_STATES, 0)
        for state, n in self.conn.execute("SELECT state, COUNT(*) FROM sagas GROUP BY state"):
            out[state] = n
        return out

    def _append(self, tx: sqlite3.Connection, saga_id: str, step: str | None, kind: str, detail: Mapping[str, Any]) -> None:
        tx.execute(
            "INSERT INTO saga_events(saga_id, at, step, kind, detail) VALUES (?, ?, ?, ?, ?)",
            (saga_id, self.clock.now(), step, kind, json.dumps(dict(detail), sort_keys=True)),
        )


def _record(row: Sequence[Any]) -> SagaRecord:
    return SagaRecord(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5], row[6], row[7])


def compensations_due(step_names: Sequence[str], events: Iterable[tuple[str | None, str]]) -> list[str]:
    """The compensations a (resumed) saga still owes, in the order to run them.

    ``events`` are ``(step, kind)`` pairs from the log. A step is owed a compensation if its action
    *started* (it may have taken effect even if the log never heard back) and was not definitely
    rejected (``action_rejected``: nothing happened), unless its compensation is already done.
    Order: reverse of the steps' order in the saga, so later effects are undone first.
    """
    last: dict[str, str] = {}  # step -> its latest action event (a crash may re-run a step)
    compensated: set[str] = set()
    for step, kind in events:
        if step is None:
            continue
        if kind in ("action_started", "action_rejected"):
            last[step] = kind
        elif kind == "compensation_done":
            compensated.add(step)
    owed = {step for step, kind in last.items() if kind == "action_started"} - compensated
    return [name for name in reversed(step_names) if name in owed]
