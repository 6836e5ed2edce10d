"""Sessions, locks, election, the fenced store, the scenarios, validation and backend selection."""

from __future__ import annotations

import random

import pytest

from patterns.clock import ManualClock, SystemClock
from patterns.coordination import (
    Election,
    EtcdLeaseService,
    FencedStore,
    LeaseExpired,
    Lock,
    MemoryLeaseService,
    Session,
    contention,
    coordination_prefix,
    lease_service,
    paused_client,
)
from patterns.errors import BackendUnavailable
from tests.helpers import closed_port


@pytest.fixture
def service(clock):
    return MemoryLeaseService(clock)


def test_paused_client_without_fencing_loses_the_other_clients_update(service):
    result = paused_client(service, fencing=False, ttl=10.0, pause=15.0)
    assert result.tokens == {"client-1": 1, "client-2": 2}
    assert result.ledger == ("opening", "client-1")
    assert result.lost == ("client-2",) and result.corrupted
    assert result.held["client-1"] == (0.0, 10.0)  # the service took the lock back at the TTL
    assert result.believed["client-1"] == (0.0, 15.0)  # the client believed it held it while paused


def test_paused_client_with_fencing_refuses_the_stale_write(service):
    result = paused_client(service, fencing=True, ttl=10.0, pause=15.0)
    assert result.ledger == ("opening", "client-2")
    assert not result.corrupted
    assert "refuses client-1's write: token 1 < 2" in result.story()


def test_a_pause_shorter_than_the_lease_is_harmless_even_without_fencing(service):
    result = paused_client(service, fencing=False, ttl=10.0, pause=8.0)
    assert not result.corrupted
    assert result.ledger == ("opening", "client-1", "client-2")  # client 2 waited for the lock
    assert result.tokens == {"client-1": 1, "client-2": 2}


def test_the_scenario_story_is_the_same_for_every_run(service):
    one = paused_client(service, fencing=False).story()
    two = paused_client(MemoryLeaseService(ManualClock(1000.0)), fencing=False).story()
    assert one == two


def test_contention_loses_increments_without_fencing_and_none_with_it(clock):
    loose = contention(MemoryLeaseService(ManualClock()), fencing=False, rng=random.Random(3))
    fenced = contention(MemoryLeaseService(ManualClock()), fencing=True, rng=random.Random(3))
    assert loose.lost > 0 and loose.refused == 0
    assert fenced.lost == 0 and fenced.refused > 0
    assert fenced.final == fenced.acknowledged


def test_contention_without_pauses_never_overlaps():
    result = contention(MemoryLeaseService(ManualClock()), fencing=False, pause_probability=0.0,
                        rng=random.Random(1))
    assert result.overlaps == 0 and result.lost == 0 and result.acknowledged > 100


def test_scenarios_need_a_manual_clock():
    with pytest.raises(TypeError, match="ManualClock"):
        paused_client(MemoryLeaseService(SystemClock()), fencing=True)


def test_fenced_store_rules():
    store: FencedStore[int] = FencedStore(fencing=True)
    assert not store.write("k", 1, token=None)  # no token, no write
    assert store.write("k", 1, token=5)
    assert store.write("k", 2, token=5)  # the same holder again
    assert not store.write("k", 3, token=4)
    assert store.write("other", 9, token=1)  # tokens are per key
    assert store.read("k") == 2 and store.highest_token("k") == 5
    assert [w.accepted for w in store.log] == [False, True, True, False, True]
    open_store: FencedStore[int] = FencedStore(fencing=False)
    assert open_store.write("k", 1, token=5) and open_store.write("k", 0, token=1)
    assert open_store.read("k") == 0


def test_session_close_releases_everything_at_once(service):
    session = Session(service, "a", ttl=30.0)
    lock = Lock(service, "job")
    election = Election(service, "job")
    assert lock.acquire(session) == 1 and election.campaign(session)
    session.close()
    assert lock.holder() is None and election.leader() is None
    assert not session.alive()
    with pytest.raises(LeaseExpired):
        session.keep_alive()
    session.close()  # twice is fine


def test_keep_alive_keeps_the_lock(service, clock):
    session = Session(service, "a", ttl=3.0)
    lock = Lock(service, "job")
    lock.acquire(session)
    for _ in range(10):  # renew every ttl/3, as etcd's clients do
        clock.advance(1.0)
        session.keep_alive()
    assert lock.holder() == "a"
    clock.advance(3.0)
    assert lock.holder() is None


def test_keys_are_namespaced(monkeypatch):
    monkeypatch.setenv("PATTERNS_NAMESPACE", "alice")
    assert coordination_prefix("lock", "ledger") == "/alice/coordination/lock/ledger/"
    monkeypatch.setenv("PATTERNS_NAMESPACE", "bob")
    assert coordination_prefix("lock", "ledger").startswith("/bob/")


def test_learners_sharing_a_service_do_not_share_locks(monkeypatch, clock):
    service = MemoryLeaseService(clock)
    monkeypatch.setenv("PATTERNS_NAMESPACE", "alice")
    alice = Lock(service, "ledger")
    assert alice.acquire(Session(service, "alice", 10.0)) == 1
    monkeypatch.setenv("PATTERNS_NAMESPACE", "bob")
    bob = Lock(service, "ledger")
    assert bob.acquire(Session(service, "bob", 10.0)) == 1


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda s: s.grant(0), ValueError, "ttl"),
        (lambda s: s.grant(float("inf")), ValueError, "ttl"),
        (lambda s: s.grant(1e300), ValueError, "ttl"),
        (lambda s: s.grant("5"), TypeError, "ttl"),
        (lambda s: s.keep_alive(0), ValueError, "lease"),
        (lambda s: s.keep_alive(True), TypeError, "lease"),
        (lambda s: s.create("", "v", 1), ValueError, "key"),
        (lambda s: s.create("k", 5, 1), TypeError, "value"),
        (lambda s: s.acquire("k", "v", 1, "k"), ValueError, "counter"),
        (lambda s: Session(s, "", 5.0), ValueError, "owner"),
        (lambda s: Session(s, "a", -1), ValueError, "ttl"),
        (lambda s: Session("not a backend", "a", 5.0), TypeError, "backend"),
        (lambda s: Lock(s, "a/b"), ValueError, "name"),
        (lambda s: Election(s, ""), ValueError, "name"),
        (lambda s: Lock(s, "x").acquire("session"), TypeError, "session"),
        (lambda s: paused_client(s, fencing="yes"), TypeError, "fencing"),
        (lambda s: paused_client(s, fencing=True, ttl=0), ValueError, "ttl"),
        (lambda s: contention(s, fencing=True, clients=0), ValueError, "clients"),
        (lambda s: contention(s, fencing=True, pause_probability=2), ValueError, "pause_probability"),
        (lambda s: contention(s, fencing=True, rng=3), TypeError, "rng"),
        (lambda s: FencedStore(fencing=1), TypeError, "fencing"),
        (lambda s: FencedStore().write("k", 1, token=0), ValueError, "token"),
        (lambda s: MemoryLeaseService(clock="now"), TypeError, "clock"),
    ],
)
def test_bad_arguments_are_refused_at_the_door(service, call, error, match):
    with pytest.raises(error, match=match):
        call(service)


def test_lease_service_picks_the_embedded_service_by_default(monkeypatch, clock):
    monkeypatch.delenv("PATTERNS_ETCD_URL", raising=False)
    assert isinstance(lease_service(clock), MemoryLeaseService)


def test_lease_service_stays_embedded_in_the_browser(monkeypatch, clock):
    """No sockets in Pyodide: even with an etcd configured, the lab runs on the embedded service."""
    monkeypatch.setenv("PATTERNS_ETCD_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("PATTERNS_BROWSER_MODE", "1")
    service = lease_service(clock)
    assert isinstance(service, MemoryLeaseService)
    assert paused_client(service, fencing=True).tokens == {"client-1": 1, "client-2": 2}


def test_an_unreachable_etcd_is_backend_unavailable():
    port = closed_port()
    with pytest.raises(BackendUnavailable, match=f"etcd at http://127.0.0.1:{port}"):
        EtcdLeaseService(f"http://127.0.0.1:{port}", timeout=0.5)


def test_etcd_url_is_checked():
    with pytest.raises(ValueError, match="url"):
        EtcdLeaseService("redis://127.0.0.1:6379")
    with pytest.raises(BackendUnavailable) as info:
        EtcdLeaseService(f"http://user:secret@127.0.0.1:{closed_port()}", timeout=0.5)
    assert "secret" not in str(info.value)


def test_a_read_with_a_token_fences_the_old_holder_out():
    store: FencedStore[int] = FencedStore(fencing=True)
    store.seed("k", 0)
    assert store.read("k", token=1) == 0  # old holder reads with token 1, then pauses
    assert store.read("k", token=2) == 0  # new holder reads with token 2
    assert not store.write("k", 1, token=1)  # the old holder's late write: refused already
    assert store.write("k", 1, token=2)
