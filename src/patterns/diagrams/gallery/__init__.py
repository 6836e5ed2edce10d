"""The diagrams the chapters show, one function each (named in a chapter's ``{diagram}`` block).

Each function builds its picture from the package: a transition table, a recorded run of a
pattern, a model the chapter computes with. It returns a ``Diagram`` whose ``generated_from``
names that source and whose alt text is computed from the same data. Scenarios are deterministic
(``ManualClock``, fixed seeds, in-memory backends), so the book build draws the same picture every
time, offline. One module per chapter family; every function is re-exported here, and
``tests/unit/test_diagrams.py`` renders each one.
"""

from patterns.diagrams.gallery.api import idempotency_key, shared_limiter
from patterns.diagrams.gallery.caching import cache_aside_paths, stale_set_race, stale_set_race_lease
from patterns.diagrams.gallery.capstone import notification_run
from patterns.diagrams.gallery.consistency import partition_ap, partition_cluster, partition_cp
from patterns.diagrams.gallery.cqrs import read_your_writes
from patterns.diagrams.gallery.estimate import interview_steps, url_shortener_design
from patterns.diagrams.gallery.events import consumer_groups, outbox_flow, work_queue_retries
from patterns.diagrams.gallery.resilience import breaker_states, policy_layers, retry_outside_breaker
from patterns.diagrams.gallery.sagas import choreography_flow, choreography_run, saga_states
from patterns.diagrams.gallery.scaling import replication_topology, session_reads
from patterns.diagrams.gallery.styles import order_request, shop_services, shop_units

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
    "notification_run",  # capstone
]
