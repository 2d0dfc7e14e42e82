"""The generator's plans (schedules.window) against plan.plan_jobs, systemd and zoneinfo.

plan.plan_jobs asks systemd-analyze for every elapse; window.plan_jobs counts them in
Python. These tests hold the second to the first: the same plans and problems for
hundreds of jobs at moments around daylight-saving changes, the same wall-clock elapses
as systemd-analyze prints, the same instants as zoneinfo gives.
"""

import datetime
import importlib.util
import tomllib
import zoneinfo

import pytest

from support import REPO
from ticketing_cron.config.load import each_job
from ticketing_cron.config.validate import Config, validate_api
from ticketing_cron.schedules import calendar, match, plan, window, zonetable

UTC = datetime.timezone.utc


def bench_config(n):
    """dev/bench_jobs.py's config text of ``n`` jobs."""
    spec = importlib.util.spec_from_file_location("bench_jobs", REPO / "dev" / "bench_jobs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.config_text(n)


def jobs_of(text):
    """(Config, scheduled JobConfigs) of a config text, as the generator reads them."""
    data = tomllib.loads(text)
    valid, _ = each_job(data["jobs"])
    api = validate_api({k: v for k, v in data["api"].items() if k != "base_url"}, [])
    return Config("/c.toml", api, {}, None), [j for j in valid.values() if j.schedule]


def comparable(plans):
    """What the generator writes from plans (and what window cannot omit)."""
    return {name: (p.oncalendar, p.normalized, p.timeout_s) for name, p in plans.items()}


@pytest.mark.parametrize("moment", [
    datetime.datetime(2026, 3, 28, 22, 30, 17, tzinfo=UTC),   # Europe springs forward
    datetime.datetime(2026, 10, 3, 14, 0, 0, tzinfo=UTC),     # Lord Howe springs forward
    datetime.datetime(2026, 11, 1, 4, 59, 59, tzinfo=UTC),    # New York falls back
])
def test_plans_and_problems_are_those_of_plan_jobs(moment):
    config, jobs = jobs_of(bench_config(150))
    fast, fast_problems = window.plan_jobs(config, jobs, moment)
    slow, slow_problems = plan.plan_jobs(config, jobs, moment)
    assert list(fast_problems.items()) == list(slow_problems.items())  # order: kmsg's
    assert comparable(fast) == comparable(slow)
    counted = [name for name, p in fast.items() if p.shortest_s is not None]
    assert counted, "no job's interval was counted"
    for name in counted:
        assert fast[name].shortest_s == slow[name].shortest_s, name


def test_what_python_cannot_count_is_planned_by_systemd_alone():
    config, jobs = jobs_of('[api]\nbase_url = "https://a.test"\n\n'
                           '[jobs.eom]\npath = "/e"\nschedule = "*-*~01 06:00"\n'
                           'timezone = "Europe/Berlin"\n\n'
                           '[jobs.year]\npath = "/y"\nschedule = "2027-*-* 10:00"\n\n'
                           '[jobs.often]\npath = "/o"\nschedule = "*/5 * * * *"\n'
                           'timezone = "Europe/Berlin"\n')
    plans, problems = window.plan_jobs(config, jobs, datetime.datetime(2026, 3, 1, tzinfo=UTC))
    assert problems == {}
    assert plans["eom"].next_runs[0].isoformat() == "2026-03-31T04:00:00+00:00"
    assert plans["year"].next_runs[0].isoformat() == "2027-01-01T10:00:00+00:00"
    assert plans["often"].next_runs is None and plans["often"].timeout_s == 53


def test_a_wider_gap_is_not_counted_but_a_change_of_offset_that_shortens_it_is():
    config, jobs = jobs_of('[api]\nbase_url = "https://a.test"\n\n'
                           '[jobs.daily]\npath = "/d"\nschedule = "30 2 * * *"\n'
                           'timezone = "Europe/Berlin"\n\n'
                           '[jobs.odd-hours]\npath = "/o"\nschedule = "0 1-23/2 * * *"\n'
                           'timezone = "Europe/Berlin"\ndeadline = 3597\n')
    plans, problems = window.plan_jobs(config, jobs,
                                       datetime.datetime(2026, 3, 28, 20, tzinfo=UTC))
    assert plans["daily"].shortest_s is None and plans["daily"].timeout_s == 53
    # 01:00 CET and 03:00 CEST on the 29th are an hour apart, not two.
    assert problems == {"odd-hours": "jobs.odd-hours.deadline: 3597 s, plus 3 s for the unit "
                        "to end the run, must be shorter than the 3600 s between runs of "
                        "'0 1-23/2 * * *'; set a shorter jobs.odd-hours.deadline"}


EXPRESSIONS = ["*-*-* *:*:00", "*-*-* *:00/5:00", "Mon..Fri *-*-* 07:00:00", "Sun *-*-* 03:15:00",
               "*-*-01 06:00:00", "*-02-29 12:00:00", "*-01,04,07,10-01 00:00:00", "weekly",
               "*-*-* 00/3:00:00", "*:0/15", "*-*-* *:*:0/20", "Sat,Sun *-*-* 01..03:07:00",
               "*-*-28..31 23:00:00", "Mon *-*-01..07 00:00:00", "*-*-* 09..17:30:00",
               "*-03-30 02:30:45", "Tue,Thu *-06..08-* 12:00:00", "*-*-* 00,23:00,59:00,59",
               "*-*-* 10:05/20:13", "*-12-31 23:59:59", "*-*-* 04:00:00"]


def test_wall_elapses_are_the_ones_systemd_analyze_prints():
    base = datetime.datetime(2026, 12, 30, 23, 59, 59, tzinfo=UTC)
    printed = calendar.analyze([f"{e} UTC" for e in EXPRESSIONS], 500, base)
    for expression in EXPRESSIONS:
        (spec,) = match.specs_for(expression)
        counted = window.wall_elapses(spec, int(base.timestamp()), 500)
        assert counted == [int(t.timestamp()) for t in printed[f"{expression} UTC"].elapses], \
            expression


def test_yearly_elapses_end_where_systemds_calendar_does():
    base = datetime.datetime(2026, 6, 1, tzinfo=UTC)
    (spec,) = match.specs_for("*-06-01 00:00:00")
    counted = window.wall_elapses(spec, int(base.timestamp()), 500)
    printed = calendar.analyze(["*-06-01 00:00:00 UTC"], 500, base)["*-06-01 00:00:00 UTC"]
    assert len(counted) == len(printed.elapses) == 2199 - 2026
    assert counted[-1] == int(printed.elapses[-1].timestamp())


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_the_lower_bound_is_never_above_a_gap(expression):
    specs = match.specs_for(expression)
    walls = window.wall_elapses(specs[0], int(datetime.datetime(2027, 1, 1).timestamp()), 3000)
    bound = window.lower_bound(specs)
    assert bound <= min(b - a for a, b in zip(walls, walls[1:]))


def zone_names():
    return sorted(z for z in zoneinfo.available_timezones()
                  if not z.startswith(("right/", "posix/")) and z != "Factory")


def test_every_zone_converts_wall_times_as_zoneinfo_does():
    since = int(datetime.datetime(2026, 1, 1, tzinfo=UTC).timestamp())
    walls_checked = 0
    for name in zone_names():
        table = zonetable.table(name, since)
        walls = {since + 86400 * k + 1799 for k in range(0, 12 * 365, 29)}
        for t, before, after in table.changes[:8]:
            walls.update(t + edge + d for edge in (before, after)
                         for d in (-3601, -1, 0, 1, 899, 1800, 3599, 3600))
        walls = sorted(w for w in walls if table.known_until is None or
                       w + 86400 < table.known_until)
        reference = [int(t.timestamp()) for t in plan.instants(
            tuple(datetime.datetime.fromtimestamp(w, UTC) for w in walls), name)]
        assert zonetable.to_instants(walls, table) == reference, name
        walls_checked += len(walls)
    assert walls_checked > 100000


def test_beyond_its_table_a_zone_with_daylight_saving_is_left_to_zoneinfo():
    table = zonetable.table("Europe/Berlin", int(datetime.datetime(2026, 1, 1).timestamp()))
    assert table.offsets == {3600, 7200}
    far = int(datetime.datetime(2040, 1, 1).timestamp())
    assert zonetable.to_instants([far], table) is None
    fixed = zonetable.table("Asia/Kolkata", int(datetime.datetime(2026, 1, 1).timestamp()))
    assert fixed.known_until is None and zonetable.to_instants([far], fixed) == [far - 19800]


@pytest.mark.parametrize("content", [b"", b"TZif2" + b"\0" * 15, b"not a zone file\n",
                                     (REPO / "config.toml.example").read_bytes()])
def test_a_file_that_is_not_a_whole_tzif_file_is_unknown(tmp_path, content):
    (tmp_path / "Bad").write_bytes(content)
    with pytest.raises(zonetable.Unknown):
        zonetable.change_times("Bad", str(tmp_path))


def test_a_truncated_tzif_file_is_unknown(tmp_path):
    whole = open("/usr/share/zoneinfo/Europe/Berlin", "rb").read()
    (tmp_path / "Cut").write_bytes(whole[:len(whole) // 2])
    with pytest.raises(zonetable.Unknown):
        zonetable.change_times("Cut", str(tmp_path))
