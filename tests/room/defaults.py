# The package's Redis- and Kafka-backed components with their DEFAULT key prefixes, checkpoint names
# and topic names (nothing passed to keep learners apart): what a learner gets who writes the
# shortest code. tests/room/harness.py runs this file (cells split at "# %%") as N learners at once,
# each with its own PATTERNS_NAMESPACE, and compares what each prints with a solo run. Everything
# printed must depend only on this learner's own actions.
# %%
import random

from patterns.api import IdempotencyKeys, RedisIdempotencyStore, Request, Response, idempotent
from patterns.caching import CacheAside
from patterns.clock import ManualClock
from patterns.cqrs import (
    ORDER_SUMMARIES,
    CreateOrder,
    Projector,
    RedisReadStore,
    RegisterCustomer,
    WriteModel,
)
from patterns.infra import redis_client
from patterns.keys import clear_namespace, namespace
from patterns.messaging import InMemoryBroker, broker_from_env
from patterns.ratelimit import LIMITERS

r = redis_client()
# start clean in this learner's own namespace (a re-run sees nothing of an earlier run)
cleared = clear_namespace(r)
# %%
# every rate limiter, default prefix: 10 requests for one key against a limit of 5 per 10 s
for algorithm in LIMITERS:
    limiter = algorithm(limit=5, period=10.0, clock=ManualClock(), backend=r)
    admitted = sum(limiter.allow("user:42").allowed for _ in range(10))
    print(f"{algorithm.__name__}: {admitted} of 10 admitted")
# %%
# cache-aside, default prefix: the price this learner stored is the price this learner reads
prices = {"item:1": random.Random(namespace()).randint(1, 10**6)}
mine = prices["item:1"]
cache = CacheAside(r, lambda key: prices[key], ttl=60.0, clock=ManualClock())
first = cache.get("item:1")
prices["item:1"] = -1  # the store changes; the cache still serves what it loaded
print("cache-aside serves this learner's value:", first == mine and cache.get("item:1") == mine)
# %%
# idempotency keys, default prefix: one charge per key, per learner
charges = []


def charge(request):
    charges.append(request)
    return Response(201, {"charged": len(charges)})


api = idempotent(charge, IdempotencyKeys(RedisIdempotencyStore(r, clock=ManualClock()), ttl=3600.0))
for _ in range(3):
    api(Request("POST", "/payments", headers={"Idempotency-Key": "order-1"}, body={"amount": 10}))
print("charges for one Idempotency-Key sent 3 times:", len(charges))
# %%
# a CQRS read model on Redis, default prefix and default projector name (its checkpoint)
clock = ManualClock()
write = WriteModel(clock=clock, rng=random.Random(4))
broker = InMemoryBroker(clock=clock)
relay = write.relay(broker)
store = RedisReadStore(r)
projector = Projector(store, clock=clock)
consumer = broker.subscribe(write.topic, group="read-model")
write.handle(RegisterCustomer(customer_id="c-1", name="Ada"))
for n in range(6):
    write.handle(CreateOrder(order_id=f"o-{n}", customer_id="c-1"))
relay.run_until_empty()
applied = projector.run_until_idle(consumer)
print("events applied by this learner's projector:", applied, "of 7")
print("orders this learner's read model shows:", len(store.rows(ORDER_SUMMARIES)))
store.clear()
print("this learner's orders after clear():", len(store.rows(ORDER_SUMMARIES)))
# %%
# Kafka (when PATTERNS_KAFKA_BOOTSTRAP is set), default topic name: only this learner's events
kafka = broker_from_env(clock=ManualClock())
kafka.create_topic("order-events", partitions=1)
for n in range(3):
    kafka.publish("order-events", {"learner": namespace(), "n": n}, key=f"o-{n}")
seen = [record.value for record in kafka.read("order-events")]
others = {v.get("learner") for v in seen if v.get("learner") != namespace()}
print("events on 'order-events' from other learners:", len(others))
kafka.close()
