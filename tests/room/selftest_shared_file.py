# The room harness's own check (tests/room/test_room.py): every learner appends to ONE file that all of
# them share and prints its length. A solo run prints 1; in a room each learner sees the others'
# writes, so what it prints differs from the solo run: the harness must call that a collision.
# %%
import os
from pathlib import Path

shared = Path(os.environ["ROOM_SELFTEST_FILE"])
# %%
with shared.open("a") as f:
    f.write("x")
print(len(shared.read_text()))
