"""Operation histories and checkers for consistency models on small histories of registers.

A history is a list of ``Op`` records: who (``client``) did what (``read``/``write``) to which
``key``, with which ``value`` (the value written, or the value a read returned), when it was
invoked and when it completed. ``ok`` says whether it took effect: ``True`` (completed), ``False``
(definitely did not happen: it is ignored) or ``None`` (indeterminate, e.g. a write that timed out:
it may or may not have taken effect, at any time after its invocation).

What each checker proves, exactly (registers start at ``initial``, default ``None``):

- ``check_linearizable``: there is a total order of the completed operations (plus any subset of the
  indeterminate writes) that respects real time and each client's own order, and in which every
  read returns the latest preceding write. "Respects real time": if ``a`` completed before ``b``
  was invoked, ``a`` comes first; "each client's own order": a client's operation comes before
  the same client's next one even when the next starts at the very instant the first completed
  (a client does one thing after another). That is Herlihy and Wing's definition (real time plus
  program order), decided by an exhaustive memoised search (Wing and Gong's approach). The search
  is exponential in the number of overlapping operations, so it refuses histories longer than
  ``max_ops`` and gives up after ``max_states`` search states: it is for *small* histories.
- ``check_sequential``: the same search, but only each client's own order must be respected, not
  real time across clients (Lamport's sequential consistency). Indeterminate writes are treated as
  free-floating (they need not respect their client's order), which can only make it more lenient.
- ``check_read_your_writes`` / ``check_monotonic_reads``: per-client session guarantees. Writes are
  identified by their value, so written values must be unique per key. A violation is reported
  only when the value read comes from a write that *definitely* took effect before the one the
  client had already written or seen: a completed write (``ok=True``) that finished before the
  other began (or, for the same client, no later than it began). A timed-out write (``ok=None``)
  is never "definitely before" anything: it may land at any time after its invocation, even after
  writes that began later. So the checkers never report a false violation (every history
  ``check_linearizable`` accepts passes them), but they can miss one among overlapping writes.
- ``check_convergence``: every replica holds the same state (eventual consistency's promise once
  writes stop and anti-entropy has run). It proves convergence *now*, not that it will happen.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from patterns._validate import require_int, require_mapping, require_number, require_one_of, require_text
from patterns.errors import PatternError

__all__ = [
    "Op",
    "CheckResult",
    "SearchBudgetExceeded",
    "check_linearizable",
    "check_sequential",
    "check_read_your_writes",
    "check_monotonic_reads",
    "check_convergence",
    "stale_reads",
]

KINDS = ("read", "write")
MAX_OPS = 1_000  # the search is exponential: far fewer fit in any state budget
_INITIAL = object()  # the source of a read that returned the initial value


class SearchBudgetExceeded(PatternError):
    """The brute-force search visited ``max_states`` states without an answer."""


@dataclass(frozen=True)
class Op:
    """One operation in a history (times in seconds; ``completed`` None while pending)."""

    client: str
    kind: str
    key: str
    value: Any
    invoked: float
    completed: float | None
    ok: bool | None = True

    def __post_init__(self) -> None:
        require_text(self.client, "client", max_length=200)
        require_one_of(self.kind, "kind", KINDS)
        if not isinstance(self.key, str):
            raise TypeError(f"key must be a str, got {type(self.key).__name__}")
        require_number(self.invoked, "invoked")
        if self.completed is not None:
            require_number(self.completed, "completed")
            if self.completed < self.invoked:
                raise ValueError(f"completed must be >= invoked ({self.invoked}), got {self.completed}")
        if self.ok not in (True, False, None) or not isinstance(self.ok, (bool, type(None))):
            raise TypeError(f"ok must be True, False or None (indeterminate), got {self.ok!r}")
        if self.ok is True and self.completed is None:
            raise ValueError("completed must be set when ok is True")
        if not isinstance(self.value, Hashable):
            raise TypeError(f"value must be hashable, got {type(self.value).__name__}")


@dataclass(frozen=True)
class CheckResult:
    """A checker's verdict; truthy when the history satisfies the model."""

    ok: bool
    model: str
    explanation: str
    order: tuple[Op, ...] = ()  # a witness order when the search found one
    violations: tuple[Op, ...] = field(default=())  # the reads that break a session guarantee

    def __bool__(self) -> bool:
        return self.ok


def _precedes(a: Op, b: Op) -> bool:
    """``a`` surely took effect before ``b`` began.

    ``a`` must have completed (``ok=True``) before ``b`` was invoked, or at that very instant when
    both are the same client's (its program order). Two instantaneous operations of one client at
    the same instant stay unordered: the history cannot say which came first.
    """
    if a.ok is not True or a.completed is None:
        return False  # failed, pending or timed out: it may take effect at any time, or never
    if a.completed < b.invoked:
        return True
    same_instant = b.completed is not None and b.completed <= a.invoked
    return a.client == b.client and a.completed <= b.invoked and not same_instant


def _effective(history: Sequence[Op]) -> list[Op]:
    if isinstance(history, (str, bytes)) or not isinstance(history, Iterable):
        raise TypeError(f"history must be a list of Op records, got {type(history).__name__}")
    for op in history:
        if not isinstance(op, Op):
            raise TypeError(f"history must contain Op records, got {type(op).__name__}")
    # reads that failed or never completed returned nothing: they constrain nothing
    return [op for op in history if op.ok is True or (op.ok is None and op.kind == "write")]


def _search(ops: list[Op], preds: list[int], initial: Any, max_states: int) -> list[Op] | None:
    """Depth-first search for a legal total order; ``preds[i]`` is a bitmask of ops before op i."""
    required = 0
    for i, op in enumerate(ops):
        if op.ok is True:
            required |= 1 << i
    failed: set[tuple[int, tuple[tuple[str, Any], ...]]] = set()
    order: list[int] = []
    visited = 0

    def dfs(done: int, state: dict[str, Any]) -> bool:
        nonlocal visited
        if done & required == required:
            return True
        memo = (done, tuple(sorted(state.items())))
        if memo in failed:
            return False
        visited += 1
        if visited > max_states:
            raise SearchBudgetExceeded(f"no answer after max_states={max_states} search states")
        for i, op in enumerate(ops):
            if done >> i & 1 or preds[i] & ~done:
                continue
            if op.kind == "read":
                if state.get(op.key, initial) != op.value:
                    continue
                order.append(i)
                if dfs(done | 1 << i, state):
                    return True
            else:
                before = state.get(op.key, _INITIAL)
                state[op.key] = op.value
                order.append(i)
                found = dfs(done | 1 << i, state)
                if before is _INITIAL:
                    del state[op.key]
                else:
                    state[op.key] = before
                if found:
                    return True
            order.pop()
        failed.add(memo)
        return False

    return [ops[i] for i in order] if dfs(0, {}) else None


def _ordered_check(history: Sequence[Op], model: str, real_time: bool, initial: Any,
                   max_ops: int, max_states: int) -> CheckResult:
    max_ops = require_int(max_ops, "max_ops", minimum=1, maximum=MAX_OPS)
    max_states = require_int(max_states, "max_states", minimum=1)
    ops = sorted(_effective(history), key=lambda o: (o.invoked, o.completed is None))
    if len(ops) > max_ops:
        raise ValueError(f"history has {len(ops)} operations; this brute-force checker accepts at most "
                         f"max_ops={max_ops} (raise max_ops knowingly: the search is exponential)")
    preds = [0] * len(ops)
    for i, a in enumerate(ops):
        for j, b in enumerate(ops):
            if i == j:
                continue
            if real_time:
                before = _precedes(a, b)
            else:  # program order only; an indeterminate write floats free (see the module docstring)
                before = a.client == b.client and b.ok is True and _precedes(a, b)
            if before:
                preds[j] |= 1 << i
    found = _search(ops, preds, initial, max_states)
    if found is None:
        rule = "real-time order" if real_time else "each client's program order"
        return CheckResult(False, model, f"no total order respecting {rule} explains every read")
    return CheckResult(True, model, f"legal order of {len(found)} operations found", tuple(found))


def check_linearizable(history: Sequence[Op], *, initial: Any = None, max_ops: int = 40,
                       max_states: int = 200_000) -> CheckResult:
    """Linearizability (Herlihy & Wing 1990) by exhaustive search: for small histories only."""
    return _ordered_check(history, "linearizable", True, initial, max_ops, max_states)


def check_sequential(history: Sequence[Op], *, initial: Any = None, max_ops: int = 40,
                     max_states: int = 200_000) -> CheckResult:
    """Sequential consistency (Lamport 1979) by exhaustive search: for small histories only."""
    return _ordered_check(history, "sequential", False, initial, max_ops, max_states)


def _writes_by_value(ops: list[Op]) -> dict[tuple[str, Any], Op]:
    writes: dict[tuple[str, Any], Op] = {}
    for op in ops:
        if op.kind == "write":
            if (op.key, op.value) in writes:
                raise ValueError(f"history: value {op.value!r} is written twice to key {op.key!r}; "
                                 "session checkers need unique written values per key")
            writes[(op.key, op.value)] = op
    return writes


def _source(read: Op, writes: Mapping[tuple[str, Any], Op], initial: Any) -> Any:
    """The write a read's value came from, ``_INITIAL``, or None for a value nobody wrote."""
    if (read.key, read.value) in writes:
        return writes[(read.key, read.value)]
    return _INITIAL if read.value == initial else None


def _definitely_older(a: Any, b: Op) -> bool:
    """``a`` (a write or _INITIAL) surely took effect before write ``b``."""
    return a is _INITIAL or _precedes(a, b)


def _session_check(history: Sequence[Op], model: str, initial: Any, rule: str) -> CheckResult:
    ops = _effective(history)
    writes = _writes_by_value(ops)
    reads = [op for op in ops if op.kind == "read"]
    bad: list[Op] = []
    for read in reads:
        source = _source(read, writes, initial)
        if source is None:
            bad.append(read)  # a value that nobody wrote breaks every model
            continue
        earlier = [op for op in ops if op.client == read.client and op.key == read.key
                   and op is not read and _precedes(op, read)
                   and (op.kind == "write" if rule == "ryw" else op.kind == "read")]
        for prior in earlier:
            floor = prior if prior.kind == "write" else _source(prior, writes, initial)
            if floor is None or floor is _INITIAL:
                continue
            if source is not floor and _definitely_older(source, floor):
                bad.append(read)
                break
    if bad:
        first = bad[0]
        return CheckResult(False, model, f"{len(bad)} read(s) went backwards, first: {first.client} read "
                           f"{first.value!r} from {first.key!r} at {first.invoked:g}", violations=tuple(bad))
    return CheckResult(True, model, f"{len(reads)} reads checked, none went backwards")


def check_read_your_writes(history: Sequence[Op], *, initial: Any = None) -> CheckResult:
    """Each client's reads reflect its own completed writes (a session guarantee)."""
    return _session_check(history, "read-your-writes", initial, "ryw")


def check_monotonic_reads(history: Sequence[Op], *, initial: Any = None) -> CheckResult:
    """A client never reads a value older than one it has already read (a session guarantee)."""
    return _session_check(history, "monotonic-reads", initial, "monotonic")


def stale_reads(history: Sequence[Op], *, initial: Any = None) -> list[Op]:
    """Reads that returned a value definitely older than a write completed before they began.

    "Definitely older" as in the session checkers: a timed-out write is never definitely older
    than anything, and a client's own operations are ordered even at touching instants.

    Each one is a linearizability violation that needs no search to see; the count over all reads
    is the "stale-read rate" of the chapter's figures.
    """
    ops = _effective(history)
    writes = _writes_by_value(ops)
    stale = []
    for read in (op for op in ops if op.kind == "read"):
        source = _source(read, writes, initial)
        done_before = [w for w in writes.values() if w.key == read.key and _precedes(w, read)]
        if source is None or any(source is not w and _definitely_older(source, w) for w in done_before):
            stale.append(read)
    return stale


def check_convergence(states: Mapping[str, Any]) -> CheckResult:
    """Every replica (node -> its state) holds the same state right now."""
    states = require_mapping(states, "states")
    if not states:
        raise ValueError("states must map at least one node to its state")
    distinct: list[tuple[Any, list[str]]] = []  # (state, nodes holding it), compared with ==
    for node, state in states.items():
        for seen, nodes in distinct:
            if seen == state:
                nodes.append(node)
                break
        else:
            distinct.append((state, [node]))
    if len(distinct) == 1:
        return CheckResult(True, "convergence", f"all {len(states)} replicas agree")
    groups = "; ".join(", ".join(nodes) for _, nodes in distinct)
    return CheckResult(False, "convergence", f"replicas disagree, {len(distinct)} groups: {groups}")
