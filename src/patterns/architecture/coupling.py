"""Change coupling: finding a distributed monolith in the change history.

Services that are independent in name but have to change (and so deploy) together are one system
split across the network: a distributed monolith. The symptom is in version control. Given a
history of commits (each the set of services it touched), the change coupling of a pair is

    coupling(A, B) = commits touching both / commits touching either   (a Jaccard index)

1.0 means "never changed one without the other". ``coupled_pairs`` flags pairs whose coupling is at
least ``threshold`` with at least ``min_together`` shared commits (few commits prove nothing).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

from patterns._validate import require_instance, require_int
from patterns.architecture.topology import check_probability

__all__ = ["PairCoupling", "change_coupling", "coupled_pairs", "synthetic_history"]

#: Most commits ``synthetic_history`` makes up: a million already fills memory with sets.
MAX_COMMITS = 1_000_000


@dataclass(frozen=True, order=True)
class PairCoupling:
    """How often services ``a`` and ``b`` (a < b) change together."""

    coupling: float
    together: int
    a: str
    b: str
    changes_a: int
    changes_b: int

    @property
    def confidence_a_to_b(self) -> float:
        """P(B changes | A changes): near 1 means A cannot move without B."""
        return self.together / self.changes_a

    @property
    def confidence_b_to_a(self) -> float:
        return self.together / self.changes_b


def _normalise(commits: Iterable[Iterable[str]]) -> list[frozenset[str]]:
    out = []
    for i, commit in enumerate(commits):
        if isinstance(commit, str):
            raise TypeError(f"commits[{i}] must be a collection of service names, not a string")
        touched = frozenset(commit)
        if not all(isinstance(s, str) and s for s in touched):
            raise TypeError(f"commits[{i}] must hold non-empty service names, got {sorted(map(repr, touched))}")
        out.append(touched)
    return out


def change_coupling(commits: Iterable[Iterable[str]]) -> list[PairCoupling]:
    """The coupling of every pair that changed together at least once, strongest first."""
    require_instance(commits, "commits", Iterable, what="an iterable of commits (sets of names)")
    history = _normalise(commits)
    changes: Counter[str] = Counter()
    together: Counter[tuple[str, str]] = Counter()
    for touched in history:
        changes.update(touched)
        together.update(combinations(sorted(touched), 2))
    pairs = [PairCoupling(n / (changes[a] + changes[b] - n), n, a, b, changes[a], changes[b])
             for (a, b), n in together.items()]
    return sorted(pairs, key=lambda p: (-p.coupling, -p.together, p.a, p.b))


def coupled_pairs(commits: Iterable[Iterable[str]], threshold: float = 0.7,
                  min_together: int = 5) -> list[PairCoupling]:
    """Pairs that (almost) always change together: candidates to merge back, or to decouple."""
    check_probability("threshold", threshold)
    min_together = require_int(min_together, "min_together", minimum=1)
    return [p for p in change_coupling(commits) if p.coupling >= threshold and p.together >= min_together]


def synthetic_history(services: Sequence[str], tangled: Iterable[Sequence[str]], *, commits: int,
                      tangle_probability: float, rng: random.Random) -> list[frozenset[str]]:
    """A made-up history: each commit changes one service; a change to a member of a ``tangled``
    group drags the rest of its group along with probability ``tangle_probability``.
    """
    commits = require_int(commits, "commits", minimum=0, maximum=MAX_COMMITS)
    require_instance(tangled, "tangled", Iterable, what="an iterable of service groups")
    require_instance(rng, "rng", random.Random)
    check_probability("tangle_probability", tangle_probability)
    if not services:
        raise ValueError("services must not be empty")
    groups = [tuple(g) for g in tangled]
    for group in groups:
        unknown = set(group) - set(services)
        if unknown:
            raise ValueError(f"tangled: unknown service(s) {sorted(unknown)}")
    history = []
    for _ in range(commits):
        first = rng.choice(list(services))
        touched = {first}
        for group in groups:
            if first in group and rng.random() < tangle_probability:
                touched |= set(group)
        if rng.random() < 0.05:                      # the odd cross-cutting change (a library bump)
            touched.add(rng.choice(list(services)))
        history.append(frozenset(touched))
    return history
