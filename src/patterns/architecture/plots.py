"""Figures for chapter 01 and its lab, so the book and the notebook draw the same pictures."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from patterns.architecture.latency import Latency
from patterns.architecture.simulation import chain
from patterns.architecture.topology import (
    DATACENTER,
    Network,
    System,
    exact_availability,
    exact_latency,
    network_hops,
)

__all__ = ["StyleRow", "compare_deployments", "plot_deployments", "chain_sweep", "plot_chain_sweep"]

@dataclass(frozen=True)
class StyleRow:
    """Exact numbers for one deployment of a request path."""

    name: str
    units: int
    hops: int
    availability: float
    p50_ms: float
    p99_ms: float

    @property
    def failed_per_10k(self) -> float:
        """Failed requests in every 10,000: request-based availability, which is what the model computes.

        Each request meets its own independent failures, so these are spread over the whole period; they
        are not minutes of outage (time-based availability), and converting one into the other is wrong.
        """
        return (1 - self.availability) * 10_000


def compare_deployments(deployments: Mapping[str, System], entry: str,
                        network: Network = DATACENTER) -> list[StyleRow]:
    """One exact ``StyleRow`` per named deployment."""
    rows = []
    for name, system in deployments.items():
        latency = exact_latency(system, entry, network)
        rows.append(StyleRow(name, len(set(system.units.values())), network_hops(system, entry),
                             exact_availability(system, entry, network), latency.quantile(0.5),
                             latency.quantile(0.99)))
    return rows


def plot_deployments(rows: list[StyleRow], title: str = "") -> Figure:
    """Left: failed requests per 10,000; right: p50 and p99 latency."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 3.4))
    names = [r.name for r in rows]
    left.barh(names, [r.failed_per_10k for r in rows], color="tab:red")
    left.set_xlabel("failed requests per 10,000")
    left.invert_yaxis()
    y = range(len(rows))
    right.barh([i + 0.2 for i in y], [r.p99_ms for r in rows], height=0.4, color="tab:orange", label="p99")
    right.barh([i - 0.2 for i in y], [r.p50_ms for r in rows], height=0.4, color="tab:blue", label="p50")
    right.set_yticks(list(y), [""] * len(rows))
    right.invert_yaxis()
    right.set_xlabel("latency of one request (ms)")
    right.legend(loc="lower right", frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def chain_sweep(max_services: int, availability: float, hop_median_ms: float,
                work: Latency | None = None) -> list[tuple[int, float, float]]:
    """(n, availability, p99) for a request passing through 1..max_services services in series."""
    network = Network(hop=Latency.lognormal(hop_median_ms, hop_median_ms * 8), serialization_ms=0.2,
                      failure_probability=DATACENTER.failure_probability)
    out = []
    for n in range(1, max_services + 1):
        system = chain(n, availability=availability, work=work)
        out.append((n, exact_availability(system, "s0", network),
                    exact_latency(system, "s0", network).quantile(0.99)))
    return out


def plot_chain_sweep(max_services: int = 12, availability: float = 0.999, hop_median_ms: float = 0.5) -> Figure:
    """Availability and p99 of a serial chain as services are added (monolith = 1 unit as reference)."""
    sweep = chain_sweep(max_services, availability, hop_median_ms)
    ns = [n for n, _, _ in sweep]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 3.2))
    left.plot(ns, [a * 100 for _, a, _ in sweep], "o-", color="tab:red", label="services in series")
    left.axhline(availability * 100, color="gray", ls="--", label="one deployment unit")
    left.set_xlabel("services on the request path")
    left.set_ylabel("availability (%)")
    left.legend(frameon=False, fontsize=8)
    right.plot(ns, [p for _, _, p in sweep], "o-", color="tab:orange")
    right.set_xlabel("services on the request path")
    right.set_ylabel("p99 latency (ms)")
    fig.suptitle(f"each service {availability:.2%} available, hop median {hop_median_ms:g} ms")
    fig.tight_layout()
    return fig
