# The room harness's own check (tests/room/test_room.py): a key outside the learner's namespace. The
# workshop's ACL users may touch only <namespace>:* keys, so Redis refuses it (NOPERM) and the harness
# must report an error, not a pass.
# %%
from patterns.infra import redis_client

client = redis_client()
# %%
print(client.incr("room-selftest:outside-every-namespace"))
