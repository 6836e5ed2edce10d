"""The capstone API: idempotency by request id, per-tenant rate limit, outbox in one transaction."""

import random
import sqlite3

import pytest

from patterns.capstone import NotificationAPI, NotificationRequest
from patterns.clock import ManualClock
from patterns.ratelimit import TokenBucket


def make_api(limiter_burst=None, idempotency=True):
    clock = ManualClock()
    limiter = None
    if limiter_burst is not None:
        limiter = TokenBucket(limit=60, period=60.0, burst=limiter_burst, clock=clock)
    db = sqlite3.connect(":memory:", isolation_level=None)
    return NotificationAPI(db, clock=clock, rng=random.Random(1), limiter=limiter, idempotency=idempotency), clock


def req(rid="r1", tenant="t1", body="hello", channels=("email",)):
    return NotificationRequest(rid, tenant, "u1", channels, body)


def test_replay_returns_the_first_answer_and_creates_nothing():
    api, _ = make_api()
    first = api.submit(req())
    again = api.submit(req())
    assert first.status == 202 and again.status == 200
    assert again.notification_id == first.notification_id
    assert len(api.outbox.rows()) == 1 and api.replayed == 1


def test_same_id_different_body_is_a_conflict():
    api, _ = make_api()
    api.submit(req())
    assert api.submit(req(body="other")).status == 409
    assert len(api.outbox.rows()) == 1


def test_request_ids_are_scoped_per_tenant():
    api, _ = make_api()
    assert api.submit(req(tenant="a")).status == 202
    assert api.submit(req(tenant="b")).status == 202


def test_without_idempotency_a_retry_becomes_a_second_notification():
    api, _ = make_api(idempotency=False)
    api.submit(req())
    api.submit(req())
    assert len(api.outbox.rows()) == 2


def test_rate_limit_refuses_with_retry_after_and_replays_cost_no_quota():
    api, clock = make_api(limiter_burst=2)
    assert api.submit(req("a")).status == 202
    for _ in range(5):  # client retries of an accepted request never consume the tenant's quota
        assert api.submit(req("a")).status == 200
    assert api.submit(req("b")).status == 202
    refused = api.submit(req("c"))
    assert refused.status == 429 and "Retry-After" in refused.headers
    assert api.rate_limited_by_tenant == {"t1": 1}
    assert api.submit(req("c", tenant="t2")).status == 202  # another tenant is unaffected
    clock.advance(1.0)
    assert api.submit(req("c")).status == 202


def test_event_is_keyed_by_user_and_carries_the_request():
    api, clock = make_api()
    clock.advance(5.0)
    result = api.submit(req(channels=("email", "push")))
    row = api.outbox.rows()[0]
    assert row.key == "u1" and row.event_id == result.notification_id
    assert row.value["data"]["channels"] == ["email", "push"] and row.value["data"]["accepted_at"] == 5.0


@pytest.mark.parametrize(
    "kwargs, word",
    [({"request_id": ""}, "request_id"), ({"tenant": ""}, "tenant"), ({"channels": ()}, "channels"),
     ({"channels": ("fax",)}, "channels"), ({"channels": ("sms", "sms")}, "channels")],
)
def test_bad_requests_name_the_field(kwargs, word):
    base = {"request_id": "r", "tenant": "t", "user": "u", "channels": ("email",), "body": "b"}
    with pytest.raises(ValueError, match=word):
        NotificationRequest(**{**base, **kwargs})


def test_submit_rejects_other_types():
    api, _ = make_api()
    with pytest.raises(TypeError, match="request"):
        api.submit({"request_id": "r"})
