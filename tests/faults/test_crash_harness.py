"""The SIGKILL harness itself: a kill lands inside the watched code and nothing after it runs."""

from __future__ import annotations

from pathlib import Path

from tests.faults.crash import count_points, kill_at, spread

SCRIPT = """
import sqlite3, sys
from patterns.storage import transaction
conn = sqlite3.connect(sys.argv[1] if len(sys.argv) > 1 else {path!r}, isolation_level=None)
conn.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
for i in range(5):
    with transaction(conn):
        conn.execute("INSERT INTO t VALUES (?)", (i,))
print("done")
"""


def test_kill_points_are_counted_and_a_kill_stops_the_run(tmp_path: Path) -> None:
    script = SCRIPT.format(path=str(tmp_path / "x.db"))
    total = count_points(script, watch="patterns/storage.py")
    assert total >= 10  # five transactions, several lines each
    (tmp_path / "x.db").unlink()
    run = kill_at(script, watch="patterns/storage.py", point=total // 2)
    assert run.killed and "done" not in run.stdout
    import sqlite3

    rows = sqlite3.connect(tmp_path / "x.db").execute("SELECT COUNT(*) FROM t").fetchone()[0]
    assert 0 <= rows < 5  # committed transactions survive, the rest never happened


def test_spread() -> None:
    assert spread(3, 50) == [1, 2, 3]
    points = spread(1000, 50)
    assert len(points) == 50 and points[0] == 1 and points[-1] == 1000
