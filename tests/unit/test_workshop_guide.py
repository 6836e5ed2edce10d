"""book/workshop.md: its lab-time table is what scripts/lab_times.py measures, and each agenda gives a
lab exactly its measured minutes, in contiguous slots from 09:00 to 17:00."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import lab_times  # noqa: E402

GUIDE = (ROOT / "book" / "workshop.md").read_text()
SIZES = {s.lab: s for s in (lab_times.measure(p) for p in lab_times.student_edition.lab_paths())}


def minutes(clock: str) -> int:
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


def test_the_lab_time_table_is_the_measurement():
    rows = re.findall(r"^\| (\d\d-[a-z-]+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| \d+ \|$", GUIDE, re.MULTILINE)
    assert {r[0] for r in rows} == set(SIZES), "every lab has a row, and only labs"
    for lab, words, cells, lines, exercises, mins in rows:
        s = SIZES[lab]
        hint = f"{lab} changed: re-run scripts/lab_times.py and update book/workshop.md (table and agendas)"
        # the minutes (and so the agendas) exactly; the sizes they come from within 15 % (prose edits)
        assert (int(exercises), int(mins)) == (s.exercises, s.minutes), hint
        for shown, measured in ((words, s.words), (cells, s.code_cells), (lines, s.code_lines)):
            assert abs(int(shown) - measured) <= 0.15 * measured, hint
    total = sum(s.minutes for s in SIZES.values())
    assert f"about {round(total / 60)} hours" in GUIDE


def agendas() -> list[list[tuple[int, int, str]]]:
    """Each agenda table as [(start, end, text)], in order."""
    out = []
    for table in re.split(r"\n\n", GUIDE):
        slots = re.findall(r"^\| (\d\d:\d\d)–(\d\d:\d\d) \| (.*) \|$", table, re.MULTILINE)
        if slots:
            out.append([(minutes(a), minutes(b), text) for a, b, text in slots])
    return out


def test_each_agenda_gives_a_lab_its_measured_minutes_in_a_full_contiguous_day():
    days = agendas()
    assert len(days) == 3  # one day; two days
    for day in days:
        assert day[0][0] == minutes("09:00") and day[-1][1] == minutes("17:00")
        for (_, end, _), (start, _, _) in zip(day, day[1:], strict=False):
            assert end == start, "slots must follow each other"
        labs = 0
        for start, end, text in day:
            lab = re.search(r"labs/(\d\d-[a-z-]+)>", text)
            if lab:
                labs += 1
                assert end - start == SIZES[lab.group(1)].minutes, f"{lab.group(1)} slot is not its measured time"
            elif "lunch" in text:
                assert end - start == 60
            elif text.startswith("break"):
                assert end - start == 15
        assert labs == 4
