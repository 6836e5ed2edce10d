"""The diagrams the chapters show, one function each (named in a chapter's ``{diagram}`` block).

Each function builds its picture from the package: a transition table, a recorded run of a
pattern, a model the chapter computes with. It returns a ``Diagram`` whose ``generated_from``
names that source and whose alt text is computed from the same data. Scenarios are deterministic
(``ManualClock``, fixed seeds, in-memory backends), so the book build draws the same picture every
time, offline. Longer scenarios live in a module of ``patterns.diagrams.figures`` (one per chapter
family) and are re-exported here; a short one may be written here directly. Every name in
``__all__`` is rendered by ``tests/unit/test_diagrams.py``.
"""

from patterns.diagrams.figures.api import idempotency_key, shared_limiter
from patterns.diagrams.figures.balancing import ejection_run, health_states
from patterns.diagrams.figures.caching import cache_aside_paths, stale_set_race, stale_set_race_lease
from patterns.diagrams.figures.capstone import notification_run
from patterns.diagrams.figures.consistency import partition_ap, partition_cluster, partition_cp
from patterns.diagrams.figures.coordination import coordination_parts, paused_client_fenced, paused_client_run
from patterns.diagrams.figures.cqrs import read_your_writes
from patterns.diagrams.figures.estimate import interview_steps, url_shortener_design
from patterns.diagrams.figures.events import consumer_groups, outbox_flow, work_queue_retries
from patterns.diagrams.figures.ids import snowflake_layout
from patterns.diagrams.figures.resilience import breaker_states, policy_layers, retry_outside_breaker
from patterns.diagrams.figures.sagas import choreography_flow, choreography_run, saga_states
from patterns.diagrams.figures.scaling import replication_topology, session_reads
from patterns.diagrams.figures.slo import outage_alert_run, slo_pipeline
from patterns.diagrams.figures.styles import order_request, shop_services, shop_units

__all__ = [
    "shop_services", "shop_units", "order_request",  # 01 architectural styles
    "consumer_groups", "outbox_flow",  # 02 event-driven
    "work_queue_retries",  # 03 communication
    "read_your_writes",  # 04 CQRS
    "saga_states", "choreography_flow", "choreography_run",  # 05 sagas
    "breaker_states", "policy_layers", "retry_outside_breaker",  # 06 resilience
    "cache_aside_paths", "stale_set_race", "stale_set_race_lease",  # 07 caching
    "replication_topology", "session_reads",  # 08 database scaling
    "idempotency_key",  # 09 API design
    "shared_limiter",  # 10 rate limiting
    "partition_cluster", "partition_ap", "partition_cp",  # 11 CAP and consistency
    "interview_steps", "url_shortener_design",  # 12 the interview framework
    "health_states", "ejection_run",  # 13 load balancing
    "snowflake_layout",  # 14 unique ids and sketches
    "coordination_parts", "paused_client_run", "paused_client_fenced",  # 15 coordination
    "slo_pipeline", "outage_alert_run",  # 16 observability and SLOs
    "notification_run",  # capstone
]
