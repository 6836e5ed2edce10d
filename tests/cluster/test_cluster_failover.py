"""Chapter 11's failover experiment on a real Redis Cluster (3 masters + 3 replicas this test starts
on loopback and stops by pid): a writer appends to a list on one master; the master is SIGKILLed;
its replica is promoted; the acknowledged writes missing from the new master are counted.

On loopback a replica is microseconds behind, so a plain kill loses (almost) nothing. Replication
is still asynchronous, which shows as soon as the replica falls behind: here a 600 ms Lua busy loop
on the replica (a slow command, as a ``KEYS *`` or a big ``SORT`` would be) stops it reading the
replication stream; the master keeps acknowledging writes and buffering them for the replica, and is
killed 450 ms into the stall. With ``WAIT 1 50`` after each write, a write counts only once a
replica has it: the writes made during the stall time out (unconfirmed) instead of being lost.

The figures are printed in the terminal summary (``Redis Cluster figures``); the chapter quotes
the ones measured in CI. Asserted: the stalled run without WAIT loses acknowledged writes, and WAIT
loses fewer (usually none; not guaranteed in general: see chapter 11).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from patterns import infra
from patterns.replication.failover import FailoverRun
from tests.helpers import LONG
from tests.redis_server import RedisClusterServers

TAG = "{acct}"  # the list's hash tag: the test finds the master that owns its slot
VALUE_BYTES = 8192  # big enough that the stall outgrows the kernel's socket buffers
STALL_MS, KILL_AFTER_MS = 600, 450
BUSY_LOOP = """
local t0 = redis.call('TIME')
repeat
  local t = redis.call('TIME')
  local ms = (t[1] - t0[1]) * 1000 + (t[2] - t0[2]) / 1000
until ms >= tonumber(ARGV[1])
return 1
"""


def roles(port: int) -> tuple[int, int]:
    """(master port, its replica's port) for the slot of TAG, read from CLUSTER NODES."""
    client = infra.redis_client(f"redis://127.0.0.1:{port}/0", timeout=2.0)
    slot = int(client.execute_command("CLUSTER", "KEYSLOT", TAG))
    nodes = client.execute_command("CLUSTER NODES")  # one string: redis-py parses the reply
    client.close()
    master_id, master_port = next(
        (info["node_id"], int(address.split(":")[1].split("@")[0])) for address, info in nodes.items()
        if "master" in info["flags"] and any(int(a) <= slot <= int(b) for a, b in
                                             (r if len(r) == 2 else (r[0], r[0]) for r in info["slots"])))
    replica_port = next(int(address.split(":")[1].split("@")[0]) for address, info in nodes.items()
                        if info["master_id"] == master_id)
    return master_port, replica_port


def replica_acknowledges(master_port: int) -> None:
    """Wait until a write to the master is acknowledged by a replica (``WAIT 1``): a run that starts
    earlier would count the replica's first handshake as a stall."""
    client = infra.redis_client(f"redis://127.0.0.1:{master_port}/0", timeout=5.0)
    deadline = time.monotonic() + 6 * LONG
    while True:
        client.set(f"{TAG}:probe", 1)
        if int(client.execute_command("WAIT", 1, 500)) >= 1:
            break
        if time.monotonic() > deadline:
            pytest.fail(f"no replica acknowledged a write to 127.0.0.1:{master_port}: "
                        f"{client.info('replication')}")
    client.delete(f"{TAG}:probe")
    client.close()


def run(servers: RedisClusterServers, label: str, *, stall: bool, wait_ms: int | None) -> FailoverRun:
    master_port, replica_port = roles(servers.nodes[0].port)
    replica_acknowledges(master_port)
    key = f"{TAG}:log"
    acknowledged: list[int] = []
    unconfirmed = [0]
    sent = [0]

    def write() -> None:
        client = infra.redis_client(f"redis://127.0.0.1:{master_port}/0", timeout=2.0)  # no retries
        padding = b"x" * VALUE_BYTES
        while True:
            sent[0] += 1
            try:
                client.rpush(key, b"%d:" % sent[0] + padding)
                if wait_ms is not None and int(client.execute_command("WAIT", 1, wait_ms)) < 1:
                    unconfirmed[0] += 1
                    continue
            except Exception:  # the master is gone: this write was never acknowledged
                sent[0] -= 1
                return
            acknowledged.append(sent[0])

    def busy_replica() -> None:
        client = infra.redis_client(f"redis://127.0.0.1:{replica_port}/0", timeout=5.0)
        client.eval(BUSY_LOOP, 0, STALL_MS)
        client.close()

    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(0.3)
    stall_thread = threading.Thread(target=busy_replica)
    if stall:
        stall_thread.start()
        time.sleep(KILL_AFTER_MS / 1000)
    servers.node(master_port).stop(kill=True)  # SIGKILL: no goodbye to the replica
    writer.join(LONG)
    if stall:
        stall_thread.join(LONG)
    new_master = infra.redis_client(f"redis://127.0.0.1:{replica_port}/0", timeout=2.0)
    deadline = time.monotonic() + 6 * LONG
    while new_master.info("replication")["role"] != "master":
        assert time.monotonic() < deadline, "the replica was not promoted"
        time.sleep(0.05)
    present = {int(item.split(b":", 1)[0]) for item in new_master.lrange(key, 0, -1)}
    new_master.close()
    lost = sum(1 for seq in acknowledged if seq not in present)
    return FailoverRun(label, sent[0], len(acknowledged), unconfirmed[0], lost, f"127.0.0.1:{replica_port}")


SCENARIOS = {
    "async, plain kill": {"stall": False, "wait_ms": None},
    "async, replica stalled": {"stall": True, "wait_ms": None},
    "WAIT 1 50, replica stalled": {"stall": True, "wait_ms": 50},
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FailoverRun]:
    results = {}
    for label, settings in SCENARIOS.items():
        directory = Path(tmp_path_factory.mktemp("failover"))
        with RedisClusterServers(directory, masters=3, replicas=1, node_timeout_ms=1000) as servers:
            results[label] = run(servers, label, **settings)
    return results


@pytest.mark.timeout(240)
def test_failover_loses_acknowledged_writes_and_wait_reduces_the_loss(
    runs: dict[str, FailoverRun], report_figure: Any
) -> None:
    for result in runs.values():
        report_figure(f"failover on a real cluster ({result.label}): {result.sent} sent, "
                      f"{result.acknowledged} acknowledged, {result.unconfirmed} unconfirmed, "
                      f"{result.lost} acknowledged writes lost")
    plain, stalled, waited = runs.values()
    assert plain.acknowledged > 0 and stalled.acknowledged > 0 and waited.acknowledged > 0
    assert stalled.lost > 0  # asynchronous replication: acknowledged, then gone
    assert waited.lost < stalled.lost
    assert waited.unconfirmed > 0  # the stall shows up as timed-out WAITs instead
