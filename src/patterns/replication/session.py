"""Client sessions: the tokens that buy read-your-writes and monotonic reads on lagging replicas.

A session remembers two log positions. ``last_write_lsn`` is the token a write returns: a replica
that has applied at least that much has seen the client's own writes. ``last_seen_lsn`` is the
newest position any read has shown the client: reading only from replicas at least that far along
means the client never sees time go backwards. Neither gives a global guarantee: another client's
write may still be invisible.
"""

from __future__ import annotations

from dataclasses import dataclass

from patterns._validate import MAX_INT64, require_instance, require_int

__all__ = ["Session"]


@dataclass
class Session:
    """Per-client consistency: ``Session(read_your_writes=True, monotonic_reads=True)``."""

    read_your_writes: bool = True
    monotonic_reads: bool = True
    last_write_lsn: int = 0
    last_seen_lsn: int = 0

    def __post_init__(self) -> None:
        require_instance(self.read_your_writes, "read_your_writes", bool)
        require_instance(self.monotonic_reads, "monotonic_reads", bool)
        require_int(self.last_write_lsn, "last_write_lsn", minimum=0, maximum=MAX_INT64)
        require_int(self.last_seen_lsn, "last_seen_lsn", minimum=0, maximum=MAX_INT64)

    def required_lsn(self) -> int:
        """The minimum ``applied_lsn`` a node needs before it may serve this session."""
        need = 0
        if self.read_your_writes:
            need = max(need, self.last_write_lsn)
        if self.monotonic_reads:
            need = max(need, self.last_seen_lsn)
        return need

    def wrote(self, lsn: int) -> None:
        """The client wrote at ``lsn``: later reads need a node at least that far along."""
        self.last_write_lsn = max(self.last_write_lsn, require_int(lsn, "lsn", maximum=MAX_INT64))

    def saw(self, lsn: int) -> None:
        """A read showed the client a node at ``lsn``: later reads must not go back before it."""
        self.last_seen_lsn = max(self.last_seen_lsn, require_int(lsn, "lsn", maximum=MAX_INT64))
