"""Load balancing and service discovery (chapter 13).

* Policies (``policy.choose(backends, key)``): ``RoundRobin``, ``WeightedRoundRobin``,
  ``RandomChoice``, ``LeastConnections``, ``PowerOfTwoChoices``, ``ConsistentHash`` (optionally
  with bounded loads).
* ``Pool``: a client-side balancer, a policy over a set of backends filtered by a
  ``HealthChecker`` (active probes) and an ``OutlierDetector`` (passive ejection).
* ``ServiceRegistry``: instances registered with a TTL and kept alive by heartbeats.
* ``ballsbins``: the balls-into-bins experiment and its theory (one choice vs two).
* ``simulate_fleet``: a SimPy fleet with slow, failing or cache-holding servers.
"""

from patterns.balancing.ballsbins import (
    asymptotic_max_load,
    fluid_fractions,
    level_fractions,
    max_load,
    max_loads,
    predicted_max_load,
    supermarket_tail,
)
from patterns.balancing.discovery import Registration, ServiceRegistry
from patterns.balancing.health import (
    EJECTION_TRANSITIONS,
    HEALTH_TRANSITIONS,
    HealthChecker,
    OutlierDetector,
    Transition,
    next_state,
)
from patterns.balancing.policies import (
    Backend,
    ConsistentHash,
    LeastConnections,
    Policy,
    PowerOfTwoChoices,
    RandomChoice,
    RoundRobin,
    WeightedRoundRobin,
)
from patterns.balancing.pool import NoBackendAvailable, Pool
from patterns.balancing.simulation import FleetConfig, FleetRun, SimClock, simulate_fleet

__all__ = [
    "Backend",
    "Policy",
    "RoundRobin",
    "WeightedRoundRobin",
    "RandomChoice",
    "LeastConnections",
    "PowerOfTwoChoices",
    "ConsistentHash",
    "Pool",
    "NoBackendAvailable",
    "HealthChecker",
    "OutlierDetector",
    "Transition",
    "next_state",
    "HEALTH_TRANSITIONS",
    "EJECTION_TRANSITIONS",
    "ServiceRegistry",
    "Registration",
    "max_load",
    "max_loads",
    "level_fractions",
    "fluid_fractions",
    "predicted_max_load",
    "asymptotic_max_load",
    "supermarket_tail",
    "FleetConfig",
    "FleetRun",
    "SimClock",
    "simulate_fleet",
]
