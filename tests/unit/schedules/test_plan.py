"""Job schedules as the generator and `check` judge them, with systemd-analyze."""

import datetime
import zoneinfo

import pytest

from ticketing_cron.config.validate import validate
from ticketing_cron.schedules import calendar
from ticketing_cron.schedules.plan import instants, plan_jobs

# A Friday evening before the spring-forward Sunday in Europe.
BASE = datetime.datetime(2026, 3, 27, 18, 0, 0, tzinfo=datetime.timezone.utc)


def plan(jobs, api=None):
    problems = []
    config = validate({"api": {"base_url": "https://a.test", **(api or {})},
                       "jobs": {name: {"path": "/x", **job} for name, job in jobs.items()}},
                      "/c.toml", problems)
    assert problems == []
    return plan_jobs(config, [j for j in config.jobs.values() if j.schedule], BASE)


def test_a_job_gets_its_lines_normal_form_next_runs_and_timeout():
    plans, problems = plan({"digest": {"schedule": "0 7 * * 1-5", "deadline": 300}})
    assert problems == {}
    p = plans["digest"]
    assert p.oncalendar == ("Mon..Fri *-*-* 07:00:00 UTC",)
    assert p.normalized == ("Mon..Fri *-*-* 07:00:00 UTC",)
    assert [t.isoformat() for t in p.next_runs] == [
        "2026-03-30T07:00:00+00:00", "2026-03-31T07:00:00+00:00", "2026-04-01T07:00:00+00:00"]
    assert p.shortest_s == 86400 and p.timeout_s == 303


def test_sla_check_defaults_to_every_minute():
    plans, problems = plan({"sla-check": {}})
    assert problems == {} and plans["sla-check"].oncalendar == ("*-*-* *:*:00 UTC",)
    assert plans["sla-check"].shortest_s == 60 and plans["sla-check"].timeout_s == 53


def test_a_time_zone_moves_the_runs_and_daylight_saving_shortens_a_day():
    plans, problems = plan({"daily": {"schedule": "30 6 * * *", "timezone": "Europe/Berlin"}})
    assert problems == {}
    p = plans["daily"]
    # 06:30 CET is 05:30 UTC; from Sunday (summer time) 04:30 UTC.
    assert [t.strftime("%d %H:%M") for t in p.next_runs] == ["28 05:30", "29 04:30", "30 04:30"]
    assert p.shortest_s == 23 * 3600


def test_the_deadline_must_leave_room_before_the_next_run():
    plans, problems = plan({"fast": {"schedule": "*/10 * * * * *"},
                            "ok": {"schedule": "*/10 * * * * *", "deadline": 6},
                            "daily": {"schedule": "30 6 * * *", "timezone": "Europe/Berlin",
                                      "deadline": 23 * 3600 - 3}})
    assert sorted(plans) == ["ok"]
    assert problems["fast"] == (
        "api.deadline (no jobs.fast.deadline): 50 s, plus 3 s for the unit to end the run, "
        "must be shorter than the 10 s between runs of '*/10 * * * * *'; set a shorter "
        "jobs.fast.deadline")
    assert problems["daily"].startswith("jobs.daily.deadline: 82797 s, plus 3 s")
    assert "82800 s between runs" in problems["daily"]


def test_dom_or_dow_runs_on_either_day():
    plans, _ = plan({"both": {"schedule": "0 0 30 * sat", "deadline": 3600}})
    assert plans["both"].oncalendar == ("Sat *-*-* 00:00:00 UTC", "*-*-30 00:00:00 UTC")
    assert [t.strftime("%a %d %b") for t in plans["both"].next_runs] == [
        "Sat 28 Mar", "Mon 30 Mar", "Sat 04 Apr"]
    assert plans["both"].shortest_s == 86400  # e.g. Saturday the 29th, then the 30th


@pytest.mark.parametrize("schedule,words", [
    ("0 0 L * *", "jobs.bad.schedule: day-of-month field 'L': L (last day)"),
    ("Mon 07:00 Europe/Berlin", "give the time zone as jobs.bad.timezone, not in the schedule"),
    ("sometimes", "jobs.bad.schedule: 'sometimes' as OnCalendar=sometimes UTC: systemd "
                  "cannot parse it"),
    ("0 0 31 2 *", "it never elapses"),
])
def test_bad_schedules_are_named_and_the_good_ones_kept(schedule, words):
    plans, problems = plan({"bad": {"schedule": schedule}, "good": {"schedule": "@hourly"}})
    assert sorted(plans) == ["good"] and words in problems["bad"]


def test_systemd_calendar_syntax_is_taken_as_is():
    plans, problems = plan({"sd": {"schedule": "Mon..Fri 07:00", "timezone": "America/New_York"}})
    assert problems == {}
    assert plans["sd"].normalized == ("Mon..Fri *-*-* 07:00:00 America/New_York",)
    assert plans["sd"].next_runs[0].isoformat() == "2026-03-30T11:00:00+00:00"


def test_parse_output_without_original_form_line():
    text = ("Normalized form: *-*-* *:00/5:00 UTC\n"
            "    Next elapse: Sun 2026-11-29 17:25:00 UTC\n"
            "       From now: 4min 7s left\n"
            "       Iter. #2: Sun 2026-11-29 17:30:00 UTC\n\n"
            "  Original form: 2020-01-01\nNormalized form: 2020-01-01 00:00:00\n"
            "    Next elapse: never\n")
    blocks = calendar.parse_output(text)
    assert [(n, [t.strftime("%H:%M") for t in e]) for n, e in blocks] == [
        ("*-*-* *:00/5:00 UTC", ["17:25", "17:30"]), ("2020-01-01 00:00:00", [])]


@pytest.mark.parametrize("expression,base", [
    ("*-*-* *:30:00", datetime.datetime(2026, 3, 28, 20, 0, tzinfo=datetime.timezone.utc)),
    ("*-*-* *:30:00", datetime.datetime(2026, 10, 24, 20, 0, tzinfo=datetime.timezone.utc)),
    ("*-*-* 02:30:00", datetime.datetime(2026, 3, 25, 0, 0, tzinfo=datetime.timezone.utc)),
    ("*-*-* 02:30:00", datetime.datetime(2026, 10, 22, 0, 0, tzinfo=datetime.timezone.utc)),
    ("*-*-* *:*/20:00", datetime.datetime(2026, 10, 25, 0, 0, tzinfo=datetime.timezone.utc)),
])
def test_wall_clock_elapses_become_the_instants_systemd_fires_at(expression, base):
    """Across both daylight-saving changes: a skipped hour is not run, a repeated one once."""
    zone_name = "Europe/Berlin"
    real = calendar.analyze([f"{expression} {zone_name}"], 30, base)[f"{expression} {zone_name}"]
    local_base = base.astimezone(zoneinfo.ZoneInfo(zone_name)).replace(
        tzinfo=datetime.timezone.utc)
    wall = calendar.analyze([f"{expression} UTC"], 40, local_base - datetime.timedelta(hours=2))
    converted = [t for t in instants(wall[f"{expression} UTC"].elapses, zone_name) if t > base]
    assert converted[:30] == list(real.elapses)


def test_an_hourly_job_over_the_spring_change_keeps_an_hour_between_runs():
    plans, problems = plan({"hourly": {"schedule": "30 * * * *", "timezone": "Europe/Berlin",
                                       "deadline": 3500}})
    assert problems == {} and plans["hourly"].shortest_s == 3600
