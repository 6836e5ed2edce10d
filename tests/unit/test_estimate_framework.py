"""The interview framework as data, its schedule and checklist, and the worked URL shortener."""

from __future__ import annotations

import math

import pytest

from patterns.estimate import (
    INTERVIEW_MINUTES,
    SINGLE_MACHINE_LIMITS,
    STEPS,
    Limit,
    capacity_model,
    design_implications,
    render_checklist,
    schedule,
    url_shortener,
)


def test_steps_fill_a_45_minute_interview_in_order() -> None:
    assert sum(s.minutes for s in STEPS) == INTERVIEW_MINUTES == 45
    assert [s.name for s in STEPS] == ["Clarify requirements", "Estimate", "API", "Data model",
                                       "High-level design", "Deep dives", "Bottlenecks and trade-offs", "Wrap-up"]
    assert all(s.goal and s.good and s.failure and s.checklist for s in STEPS)
    assert max(STEPS, key=lambda s: s.minutes).name == "Deep dives"


@pytest.mark.parametrize("total", [8, 30, 45, 60, 90])
def test_schedule_is_contiguous_and_exact(total: int) -> None:
    plan = schedule(total)
    assert plan[0][1] == 0 and plan[-1][2] == total
    assert all(end - start >= 1 for _, start, end in plan)
    assert all(a[2] == b[1] for a, b in zip(plan, plan[1:], strict=False))


def test_schedule_at_45_minutes_is_the_table() -> None:
    assert [end - start for _, start, end in schedule(45)] == [s.minutes for s in STEPS]


def test_schedule_rejects_too_short_interviews() -> None:
    with pytest.raises(ValueError, match=r"total_minutes must be an integer in \[8, "):
        schedule(7)
    with pytest.raises(TypeError, match="total_minutes"):
        schedule(30.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="total_minutes"):
        schedule(10**19)


def test_checklist_lists_every_step_with_times() -> None:
    text = render_checklist(45)
    assert "[00-05 min] Clarify requirements" in text
    assert "[42-45 min] Wrap-up" in text
    assert text.count("avoid:") == len(STEPS)
    assert "[ ] requests/s average and peak" in text


def test_url_shortener_numbers() -> None:
    design = url_shortener()
    est = design.estimate
    assert est["average_rps"] == pytest.approx(100e6 * 10.1 / 86_400)
    assert est["peak_rps"] == pytest.approx(3 * est["average_rps"])
    assert est["storage_per_day"] == pytest.approx(100e6 * 0.1 * 500 * 3)
    assert est["links_total"] == pytest.approx(10e6 * 365 * 10)
    assert est["code_length"] == 7
    assert 62**7 >= est["links_total"] * 10 > 62**6
    assert est["servers"] == math.ceil(est["peak_rps"] / (5_000 * 0.7))
    text = design.render()
    for heading in ("Functional requirements", "Estimate:", "API:", "Data model:", "High-level design:",
                    "Deep dives:", "Bottlenecks and trade-offs:"):
        assert heading in text
    assert "CHAR(7)" in text


def test_url_shortener_overrides_flow_through() -> None:
    base = url_shortener().estimate
    bigger = url_shortener(daily_active_users=1e9, peak_factor=6).estimate
    assert bigger["peak_rps"] == pytest.approx(base["peak_rps"] * 10 * 2)
    with pytest.raises(ValueError, match="daily_active_users"):
        url_shortener(daily_active_users=0)


def test_implications_for_the_url_shortener() -> None:
    found = {i.topic: i for i in design_implications(url_shortener().estimate)}
    assert found["cache in front of the database"].needed
    assert found["shard the database"].needed  # 55 TB over ten years
    assert found["shard the cache (consistent hashing)"].needed  # 100 GB > one 64 GB node
    assert not found["serve responses through a CDN"].needed  # 0.139 Gbit/s
    assert not found["objects in an object store, metadata in the database"].needed  # 500-byte rows
    assert found["spare servers, timeouts, retries, breakers"].needed
    assert found["shard the database"].chapter == "08-database-scaling"
    assert "54.8 TB" in found["shard the database"].because


def test_a_photo_service_needs_an_object_store_and_a_cdn() -> None:
    """32.9 PB of 3 MB photos are not database rows, and 7.4 Gbit/s of thumbnails is a job for a CDN
    (lab 12's checker for exercise 3 says the same). The database still shards: its metadata rows
    outgrow one node."""
    photos = capacity_model("photo service", daily_active_users=20e6, reads_per_user=5, writes_per_user=0.1,
                            object_size=3e6, response_size=200e3, peak_factor=4, replication=3, years=5)
    found = {i.topic: i for i in design_implications(photos)}
    blob = found["objects in an object store, metadata in the database"]
    assert blob.needed and "32.9 PB goes to the object store" in blob.because
    shard = found["shard the database"]
    assert shard.needed and "3.65G rows of metadata take 10.9 TB" in shard.because
    assert "storage_total 32.9 PB is above" not in shard.because
    cdn = found["serve responses through a CDN"]
    assert cdn.needed and "7.41 Gbit/s" in cdn.because
    smaller_rows = dict(SINGLE_MACHINE_LIMITS, metadata_row=Limit(100, "B", "a lean row"))
    assert not {i.topic: i for i in design_implications(photos, smaller_rows)}["shard the database"].needed


def test_a_small_service_needs_none_of_it() -> None:
    est = capacity_model("tiny", daily_active_users=10_000, reads_per_user=5, writes_per_user=5,
                         object_size=1_000, response_size=1_000, peak_factor=2, server_rps=1_000, years=1)
    assert not any(i.needed for i in design_implications(est))


def test_limits_can_be_overridden() -> None:
    est = url_shortener().estimate
    lenient = dict(SINGLE_MACHINE_LIMITS, db_storage=Limit(1e15, "B", "a huge node"))
    lenient["cache_memory"] = Limit(1e12, "B", "a huge node")
    found = {i.topic: i.needed for i in design_implications(est, lenient)}
    assert not found["shard the database"]
    assert not found["shard the cache (consistent hashing)"]
