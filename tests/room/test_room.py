"""Issue 11's room: N learners (default 10, PATTERNS_ROOM_PROCESSES) run each Redis/Kafka-using lab and
the package's defaults at once, on ONE Redis (an ACL user per learner, from scripts/workshop_servers.py)
and ONE broker, and each prints exactly what a solo run prints. See tests/room/harness.py."""

from __future__ import annotations

import os

import pytest

from tests.room import harness

PROCESSES = int(os.environ.get("PATTERNS_ROOM_PROCESSES", "0"))
TARGETS = [*harness.server_labs(), harness.DEFAULTS]

# Minutes of CPU for 10 learner processes per lab: it runs when asked for (make room sets the count).
pytestmark = [
    pytest.mark.slow,
    pytest.mark.room,
    pytest.mark.skipif(PROCESSES < 1, reason="the room runs with make room (PATTERNS_ROOM_PROCESSES=10)"),
]


@pytest.fixture(scope="module")
def learners():
    with harness.workshop_room(PROCESSES) as roster:
        yield harness.roster_envs(roster)


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("target", TARGETS, ids=lambda p: p.stem)
def test_every_learner_prints_what_a_solo_run_prints(target, learners):
    outcome = harness.run_room(target, learners)
    assert outcome.verdict == "pass", "\n".join(outcome.details[:5])


def test_the_harness_calls_a_shared_resource_a_collision(learners, tmp_path):
    shared = tmp_path / "shared.txt"
    envs = [{**env, "ROOM_SELFTEST_FILE": str(shared)} for env in learners]
    outcome = harness.run_room(harness.HERE / "selftest_shared_file.py", envs)
    assert outcome.verdict == "collide", outcome
    assert len(shared.read_text()) == 1 + len(learners)  # the solo run, then every learner once


def test_the_harness_reports_a_key_outside_the_namespace_as_an_error(learners):
    outcome = harness.run_room(harness.HERE / "selftest_outside_namespace.py", learners)
    assert outcome.verdict == "error", outcome
    assert any("NOPERM" in detail or "no permissions" in detail for detail in outcome.details), outcome
