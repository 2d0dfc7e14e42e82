"""The slot a run belongs to, from a fake clock and the job's schedule (ticketing_cron.run.slot)."""

import calendar
import datetime
import zoneinfo

import pytest

from ticketing_cron.config.keys import DEFAULT_SCHEDULE
from ticketing_cron.config.validate import JobConfig
from ticketing_cron.schedules import match
from ticketing_cron.run.slot import WINDOW_S, elapse_served, slot_for, wait_for_slot

RID = "0123456789abcdef0123456789abcdef"


def at(text, ms=0):
    """Epoch seconds of a UTC 'YYYY-MM-DD HH:MM:SS', plus milliseconds."""
    t = datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    return calendar.timegm(t.timetuple()) + ms / 1000


def job(schedule, timezone="UTC", name="sla-check"):
    return JobConfig(name=name, path="/x", schedule=schedule, timezone=timezone)


def test_every_minute_a_timer_run_gets_the_minute():
    slot = slot_for(job(DEFAULT_SCHEDULE), RID, True, at("2026-11-29 17:48:00", 312))
    assert slot.kind == "scheduled"
    assert slot.key == "sla-check:2026-11-29T17:48:00Z"
    assert slot.scheduled_at == "2026-11-29T17:48:00Z"


def test_two_servers_a_few_hundred_ms_apart_send_the_same_key():
    a = slot_for(job(DEFAULT_SCHEDULE), "a" * 32, True, at("2026-11-29 17:48:00", 40))
    b = slot_for(job(DEFAULT_SCHEDULE), "b" * 32, True, at("2026-11-29 17:48:00", 870))
    assert a.key == b.key == "sla-check:2026-11-29T17:48:00Z"


def test_the_next_minute_is_another_slot():
    a = slot_for(job(DEFAULT_SCHEDULE), RID, True, at("2026-11-29 17:48:00", 300))
    b = slot_for(job(DEFAULT_SCHEDULE), RID, True, at("2026-11-29 17:49:00", 300))
    assert a.key != b.key and b.key.endswith("17:49:00Z")


def test_minute_as_a_cron_line_and_a_shortcut():
    for schedule in ("* * * * *", "minutely", "*:*:00", "*/1 * * * *"):
        slot = slot_for(job(schedule, name="m"), RID, True, at("2026-01-01 00:00:00", 200))
        assert slot.key == "m:2026-01-01T00:00:00Z", schedule


def test_every_five_minutes():
    slot = slot_for(job("*/5 * * * *", name="five"), RID, True, at("2026-03-10 09:35:00", 250))
    assert slot.key == "five:2026-03-10T09:35:00Z"
    late = slot_for(job("*/5 * * * *", name="five"), RID, True, at("2026-03-10 09:37:00"))
    assert late.kind == "catchup" and late.key == "five:catchup:2026-03-10T09:35:00Z"


def test_hourly():
    for schedule in ("0 * * * *", "hourly", "@hourly", "*-*-* *:00:00"):
        slot = slot_for(job(schedule, name="h"), RID, True, at("2026-06-01 13:00:00", 400))
        assert (slot.kind, slot.key) == ("scheduled", "h:2026-06-01T13:00:00Z"), schedule


def test_daily_in_a_time_zone():
    # 07:00 on weekdays in Berlin: 06:00 UTC in winter, 05:00 UTC in summer.
    digest = job("0 7 * * 1-5", "Europe/Berlin", "digest")
    winter = slot_for(digest, RID, True, at("2026-01-13 06:00:00", 300))
    assert winter.key == "digest:2026-01-13T06:00:00Z"
    summer = slot_for(digest, RID, True, at("2026-07-14 05:00:00", 300))
    assert summer.key == "digest:2026-07-14T05:00:00Z"
    # At 07:00 UTC in winter (08:00 Berlin) it is an hour late: a catch-up.
    late = slot_for(digest, RID, True, at("2026-01-13 07:00:00", 300))
    assert late.key == "digest:catchup:2026-01-13T06:00:00Z"


def test_daily_in_a_time_zone_in_systemd_syntax():
    digest = job("Mon..Fri *-*-* 07:00:00", "America/New_York", "digest")
    slot = slot_for(digest, RID, True, at("2026-01-13 12:00:00", 300))
    assert slot.key == "digest:2026-01-13T12:00:00Z"


def test_weekend_skipped_when_catching_up():
    digest = job("0 7 * * 1-5", "Europe/Berlin", "digest")
    # Monday 2026-01-12 05:00 UTC: the last elapse was Friday 06:00 UTC.
    slot = slot_for(digest, RID, True, at("2026-01-12 05:00:00"))
    assert slot.key == "digest:catchup:2026-01-09T06:00:00Z"


def test_late_firing_after_downtime_is_a_catch_up_that_never_equals_a_slot():
    jobs = job(DEFAULT_SCHEDULE)
    on_time = slot_for(jobs, RID, True, at("2026-11-29 17:48:00", 500))
    boot = slot_for(jobs, RID, True, at("2026-11-29 17:48:00") + WINDOW_S + 5)
    assert boot.kind == "catchup"
    assert boot.key == "sla-check:catchup:2026-11-29T17:48:00Z" != on_time.key
    assert boot.scheduled_at == "2026-11-29T17:48:00Z"


def test_the_window_edge():
    jobs = job(DEFAULT_SCHEDULE)
    assert slot_for(jobs, RID, True, at("2026-11-29 17:48:00") + WINDOW_S).kind == \
        "scheduled"
    assert slot_for(jobs, RID, True, at("2026-11-29 17:48:00") + WINDOW_S + 1).kind == \
        "catchup"


def test_daily_catch_up_days_later():
    nightly = job("30 2 * * *", "UTC", "nightly")
    slot = slot_for(nightly, RID, True, at("2026-05-04 10:00:00"))
    assert slot.key == "nightly:catchup:2026-05-04T02:30:00Z"


def test_dst_spring_forward_skips_the_missing_time():
    # Europe/Berlin skips 02:00-03:00 on 2026-03-29: 02:30 does not happen that day.
    nightly = job("30 2 * * *", "Europe/Berlin", "nightly")
    before = slot_for(nightly, RID, True, at("2026-03-28 01:30:00", 200))
    assert before.key == "nightly:2026-03-28T01:30:00Z"  # 02:30 CET
    after = slot_for(nightly, RID, True, at("2026-03-29 03:00:00"))
    assert after.key == "nightly:catchup:2026-03-28T01:30:00Z"
    next_day = slot_for(nightly, RID, True, at("2026-03-30 00:30:00", 200))
    assert next_day.key == "nightly:2026-03-30T00:30:00Z"  # 02:30 CEST


def test_dst_fall_back_runs_the_repeated_time_once():
    # 2026-10-25: Berlin's clock goes from 03:00 CEST back to 02:00 CET; 02:30 occurs at
    # 00:30 UTC and again at 01:30 UTC. Like systemd, only the first counts.
    nightly = job("30 2 * * *", "Europe/Berlin", "nightly")
    first = slot_for(nightly, RID, True, at("2026-10-25 00:30:00", 300))
    assert first.key == "nightly:2026-10-25T00:30:00Z"
    second = slot_for(nightly, RID, True, at("2026-10-25 01:30:00", 300))
    assert second.kind == "catchup" and second.key == "nightly:catchup:2026-10-25T00:30:00Z"


def test_every_minute_across_a_dst_change_in_a_time_zone():
    minutely = job("* * * * *", "Europe/Berlin", "m")
    for moment in ("2026-03-29 00:59:00", "2026-03-29 01:00:00", "2026-10-25 00:59:00",
                   "2026-10-25 01:00:00", "2026-10-25 01:01:00"):
        slot = slot_for(minutely, RID, True, at(moment, 300))
        assert slot.key == "m:" + moment.replace(" ", "T") + "Z", moment


def test_manual_runs_get_their_own_key():
    slot = slot_for(job(DEFAULT_SCHEDULE), RID, False, at("2026-11-29 17:48:00", 300))
    assert slot.kind == "manual"
    assert slot.key == f"sla-check:manual:{RID}"
    assert slot.scheduled_at == "2026-11-29T17:48:00Z"


def test_a_job_without_schedule_started_as_scheduled_is_unscheduled():
    slot = slot_for(job(None, name="adhoc"), RID, True, at("2026-11-29 17:48:00"))
    assert (slot.kind, slot.key) == ("unscheduled", f"adhoc:unscheduled:{RID}")


@pytest.mark.parametrize("schedule", ["*-*~01 00:00:00", "*:*:00.5", "*-*-* 07:00 UTC"])
def test_a_schedule_not_evaluated_here_is_unscheduled(schedule):
    slot = slot_for(job(schedule, name="odd"), RID, True, at("2026-11-29 17:48:00"))
    assert slot.kind == "unscheduled" and slot.key == f"odd:unscheduled:{RID}"


def test_keys_of_different_kinds_never_collide():
    jobs = job(DEFAULT_SCHEDULE)
    keys = {slot_for(jobs, RID, True, at("2026-11-29 17:48:00") + 0.3).key,
            slot_for(jobs, RID, True, at("2026-11-29 17:48:00") + 40).key,
            slot_for(jobs, RID, False, at("2026-11-29 17:48:00") + 0.3).key,
            slot_for(job(None), RID, True, at("2026-11-29 17:48:00") + 0.3).key}
    assert len(keys) == 4


@pytest.mark.parametrize("schedule,now,expected", [
    ("Mon *-*-* 00:00:00", "2026-11-29 12:00:00", "2026-11-23 00:00:00"),  # a Sunday
    ("weekly", "2026-11-30 00:00:01", "2026-11-30 00:00:00"),
    ("*-02-29 12:00:00", "2026-11-29 12:00:00", "2024-02-29 12:00:00"),
    ("*-*-01 06:00", "2026-11-29 12:00:00", "2026-11-01 06:00:00"),
    ("2025-*-* 00/6:00:00", "2026-11-29 12:00:00", "2025-12-31 18:00:00"),
    ("*:0/15", "2026-11-29 12:44:59", "2026-11-29 12:30:00"),
    ("*:00:10..20/5", "2026-11-29 12:44:59", "2026-11-29 12:00:20"),
    ("0 9 1 * mon", "2026-11-29 12:00:00", "2026-11-23 09:00:00"),  # cron's day OR weekday
    ("quarterly", "2026-11-29 12:00:00", "2026-10-01 00:00:00"),
])
def test_latest_due_matches_systemds_calendar(schedule, now, expected):
    due = match.latest_due(match.specs_for(schedule), match.UTC,
                           datetime.datetime.fromtimestamp(at(now), match.UTC))
    assert due == datetime.datetime.fromtimestamp(at(expected), match.UTC)


def test_latest_due_never_elapsed():
    due = match.latest_due(match.specs_for("1999-01-01 00:00:00"), match.UTC,
                           datetime.datetime(2026, 1, 1, tzinfo=match.UTC))
    assert due is None


def test_latest_due_in_a_zone_is_the_first_of_two_wall_times():
    tz = zoneinfo.ZoneInfo("America/New_York")
    # 2026-11-01 01:30 occurs at 05:30 and 06:30 UTC.
    due = match.latest_due(match.specs_for("*-*-* 01:30:00"), tz,
                           datetime.datetime(2026, 11, 1, 6, 45, tzinfo=match.UTC))
    assert due == datetime.datetime(2026, 11, 1, 5, 30, tzinfo=match.UTC)


# The timers elapse TIMER_LEAD_S (one second) ahead: the run claims the coming elapse
# and sends at it, never before.

def test_a_run_started_ahead_claims_the_coming_minute_and_waits_for_it():
    slot = slot_for(job(DEFAULT_SCHEDULE), RID, True, at("2026-11-29 17:47:59", 40))
    assert (slot.kind, slot.key) == ("scheduled", "sla-check:2026-11-29T17:48:00Z")
    assert slot.scheduled_at == "2026-11-29T17:48:00Z"
    assert slot.send_at == at("2026-11-29 17:48:00")


def test_ahead_and_on_time_runs_of_two_servers_send_the_same_key():
    ahead = slot_for(job(DEFAULT_SCHEDULE), "a" * 32, True, at("2026-11-29 17:47:59", 2))
    late = slot_for(job(DEFAULT_SCHEDULE), "b" * 32, True, at("2026-11-29 17:48:00", 900))
    assert ahead.key == late.key and late.send_at is None


def test_more_than_the_lead_ahead_is_not_the_coming_elapse():
    early = slot_for(job(DEFAULT_SCHEDULE), RID, True, at("2026-11-29 17:47:58", 900))
    assert early.send_at is None and early.kind == "catchup"
    assert early.key == "sla-check:catchup:2026-11-29T17:47:00Z"


def test_a_run_by_hand_never_waits():
    slot = slot_for(job(DEFAULT_SCHEDULE), RID, False, at("2026-11-29 17:47:59", 500))
    assert slot.kind == "manual" and slot.send_at is None


def test_ahead_of_an_hourly_and_a_daily_job_in_a_zone():
    hourly = slot_for(job("0 * * * *", name="h"), RID, True, at("2026-06-01 12:59:59", 10))
    assert hourly.key == "h:2026-06-01T13:00:00Z" and hourly.send_at == at("2026-06-01 13:00:00")
    digest = job("0 7 * * 1-5", "Europe/Berlin", "digest")
    summer = slot_for(digest, RID, True, at("2026-07-14 04:59:59", 100))
    assert summer.key == "digest:2026-07-14T05:00:00Z"
    # Sunday: no elapse a second ahead, and the last one was Friday's.
    sunday = slot_for(digest, RID, True, at("2026-07-12 04:59:59", 100))
    assert sunday.kind == "catchup" and sunday.send_at is None


def test_the_elapse_a_timer_firing_serves():
    every = job(DEFAULT_SCHEDULE)
    assert elapse_served(every, at("2026-11-29 17:47:59")) == at("2026-11-29 17:48:00")
    assert elapse_served(every, at("2026-11-29 17:48:00")) == at("2026-11-29 17:48:00")
    assert elapse_served(job(None), at("2026-11-29 17:47:59")) == at("2026-11-29 17:47:59")
    daily = job("30 2 * * *", "America/New_York", "nightly")
    assert elapse_served(daily, at("2026-11-29 07:29:59")) == at("2026-11-29 07:30:00")


def test_the_wait_ends_at_the_slot_and_never_lasts_more_than_the_lead():
    slept = []
    slot = slot_for(job(DEFAULT_SCHEDULE), RID, True, at("2026-11-29 17:47:59", 250))
    assert wait_for_slot(slot, lambda: at("2026-11-29 17:47:59", 600), slept.append) \
        == pytest.approx(0.4)
    # The clock stepped back an hour meanwhile: still at most the lead.
    assert wait_for_slot(slot, lambda: at("2026-11-29 16:47:59", 600), slept.append) == 1
    # Past the slot, or no slot to wait for: no sleep at all.
    assert wait_for_slot(slot, lambda: at("2026-11-29 17:48:00", 1), slept.append) == 0
    on_time = slot_for(job(DEFAULT_SCHEDULE), RID, True, at("2026-11-29 17:48:00", 5))
    assert wait_for_slot(on_time, lambda: at("2026-11-29 17:47:00"), slept.append) == 0
    assert slept == [pytest.approx(0.4), 1]
