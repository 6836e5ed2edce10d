"""The replication log and the nodes that apply it.

A primary appends every write to a log, numbering entries 1, 2, 3, ... (the log sequence number,
LSN, as in Postgres' WAL positions). A replica is a copy of the data *as of some LSN*: it applies
entries strictly in order, each one ``lag`` seconds after the primary committed it. A node's
``applied_lsn`` therefore says exactly which writes it has seen, which is what session tokens,
staleness and failover loss are measured against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from patterns._validate import require_instance, require_int, require_number, require_seconds, require_text

__all__ = ["LogEntry", "NodeState", "Replica"]

_MISSING = object()


@dataclass(frozen=True)
class LogEntry:
    """One committed write: ``value`` None means a delete."""

    lsn: int
    key: str
    value: Any
    committed_at: float


class NodeState:
    """Data at a log position: ``key -> (value, lsn of the write that set it)``; None marks a delete."""

    def __init__(self, name: str) -> None:
        self.name = require_text(name, "name", max_length=200)
        self.applied_lsn = 0
        self._data: dict[str, tuple[Any, int]] = {}

    def apply(self, entry: LogEntry) -> None:
        """Apply the next entry; entries must arrive in LSN order with no gap."""
        require_instance(entry, "entry", LogEntry)
        if entry.lsn != self.applied_lsn + 1:
            raise ValueError(f"entry.lsn must be {self.applied_lsn + 1} on {self.name}, got {entry.lsn}")
        # A delete keeps a tombstone (value None, with its LSN), so a node that missed the delete
        # is seen to be behind (its version is older), exactly as for a missed write.
        self._data[entry.key] = (entry.value, entry.lsn)
        self.applied_lsn = entry.lsn

    def reset_to(self, log: Sequence[LogEntry], lsn: int) -> None:
        """Rebuild from scratch up to ``lsn`` (used when a failover rolls this node back)."""
        lsn = require_int(lsn, "lsn", minimum=0, maximum=len(log))
        self._data.clear()
        self.applied_lsn = 0
        for entry in log[:lsn]:
            self.apply(entry)

    def get(self, key: str) -> tuple[Any, int]:
        """``(value, version)``: the value (None if absent or deleted) and the LSN of the write or
        delete that set it (0 if never written)."""
        value, version = self._data.get(key, (None, 0))
        return value, version

    def items(self) -> dict[str, Any]:
        """The live keys and their values (deleted keys left out)."""
        return {k: v for k, (v, _) in self._data.items() if v is not None}


class Replica(NodeState):
    """A read-only copy that applies the primary's log ``lag`` seconds after each commit.

    ``synchronous=True`` models synchronous replication: the primary does not acknowledge a write
    until this replica has it, so it never lags (and a failover to it loses nothing).
    ``connected=False`` models a network cut: the replica stops applying until reconnected.
    """

    def __init__(self, name: str, lag: float = 0.0, synchronous: bool = False) -> None:
        super().__init__(name)
        self.lag = lag
        self.synchronous = require_instance(synchronous, "synchronous", bool)
        self.connected = True

    @property
    def lag(self) -> float:
        return self._lag

    @lag.setter
    def lag(self, seconds: float) -> None:
        self._lag = require_seconds(seconds, "lag", positive=False)

    def catch_up(self, log: Sequence[LogEntry], now: float) -> int:
        """Apply every entry due by ``now`` (in order); returns how many were applied."""
        now = require_number(now, "now")
        if not self.connected:
            return 0
        applied = 0
        while self.applied_lsn < len(log):
            entry = log[self.applied_lsn]
            if not (self.synchronous or entry.committed_at + self._lag <= now):
                break
            self.apply(entry)
            applied += 1
        return applied

    def __repr__(self) -> str:
        sync = ", synchronous=True" if self.synchronous else ""
        return f"Replica({self.name!r}, lag={self._lag}{sync}, applied_lsn={self.applied_lsn})"
