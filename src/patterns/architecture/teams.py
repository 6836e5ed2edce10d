"""Teams and architecture: Brooks's communication paths and Conway's law on a call graph.

Conway (1968): a system's structure copies the communication structure of the organisation that
builds it. Read backwards, it is a design tool (the "inverse Conway manoeuvre"): draw the team
boundaries where you want the service boundaries. ``ownership_report`` maps team ownership onto a
``System``'s calls and counts the calls that cross a team boundary, each one a meeting, a contract
and a coordinated release.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from patterns._validate import require_instance, require_int, require_mapping
from patterns.architecture.topology import System

__all__ = ["communication_paths", "OwnershipReport", "ownership_report"]


def communication_paths(people: int) -> int:
    """Brooks: n people have n(n-1)/2 pairwise communication paths."""
    people = require_int(people, "people", minimum=0)
    return people * (people - 1) // 2


@dataclass(frozen=True)
class OwnershipReport:
    """How a team assignment fits a call graph."""

    cross_team_sync: int
    cross_team_async: int
    within_team: int
    shared_units: tuple[str, ...]
    team_pairs: tuple[tuple[str, str], ...]

    @property
    def cross_team_share(self) -> float:
        total = self.cross_team_sync + self.cross_team_async + self.within_team
        return (self.cross_team_sync + self.cross_team_async) / total if total else 0.0


def ownership_report(system: System, owners: Mapping[str, str]) -> OwnershipReport:
    """Count calls inside and across teams; list units owned by more than one team.

    ``owners`` maps every component to a team. A deployment unit with two owning teams has two
    release calendars in one artefact: a source of the coordination microservices were meant to remove.
    """
    require_instance(system, "system", System)
    owners = require_mapping(owners, "owners")
    missing = set(system.components) - set(owners)
    unknown = set(owners) - set(system.components)
    if missing or unknown:
        raise ValueError(f"owners must map every component: missing {sorted(missing)}, unknown {sorted(unknown)}")
    sync = asyn = inside = 0
    pairs: set[tuple[str, str]] = set()
    for call in system.calls:
        a, b = owners[call.caller], owners[call.callee]
        if a == b:
            inside += 1
        else:
            pairs.add((min(a, b), max(a, b)))
            if call.asynchronous:
                asyn += 1
            else:
                sync += 1
    teams_per_unit: dict[str, set[str]] = {}
    for component, unit in system.units.items():
        teams_per_unit.setdefault(unit, set()).add(owners[component])
    shared = tuple(sorted(u for u, t in teams_per_unit.items() if len(t) > 1))
    return OwnershipReport(sync, asyn, inside, shared, tuple(sorted(pairs)))
