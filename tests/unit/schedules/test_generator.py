"""The generator's own error handling: one job's failure never costs another its units."""

import os
from types import SimpleNamespace

from ticketing_cron.schedules.generator import generate, timer_lines
from ticketing_cron.schedules.plan import Plan

CONFIG = ('[api]\nbase_url = "https://tickets.acme.test"\n\n'
          '[jobs.sla-check]\npath = "/s"\nschedule = "*/5 * * * *"\n\n'
          '[jobs.aaa]\npath = "/a"\nschedule = "@daily"\n\n'
          '[jobs.zzz]\npath = "/z"\nschedule = "@hourly"\n')


def test_a_job_whose_files_cannot_be_written_costs_no_other_job_its_timer(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    out = tmp_path / "normal"
    out.mkdir()
    # A file where aaa's drop-in directory must go: os.makedirs fails for aaa only.
    (out / "ticketing-cron@aaa.timer.d").write_text("")
    problems = generate(str(config), str(out))
    assert len(problems) == 1 and problems[0].startswith("[jobs.aaa] skipped: cannot write")
    assert os.path.isfile(out / "ticketing-cron@zzz.timer.d" / "ticketing-cron-generator.conf")
    assert os.path.islink(out / "timers.target.wants" / "ticketing-cron@zzz.timer")
    assert os.path.isfile(out / "ticketing-cron.timer.d" / "ticketing-cron-generator.conf")
    assert not os.path.lexists(out / "timers.target.wants" / "ticketing-cron@aaa.timer")


def test_a_name_too_long_for_a_file_name_is_skipped_the_others_generated(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(CONFIG + f'\n[jobs.{"l" * 233}]\npath = "/l"\nschedule = "@daily"\n')
    out = tmp_path / "normal"
    out.mkdir()
    problems = generate(str(config), str(out))
    assert len(problems) == 1 and "at most 64" in problems[0]
    for job in ("aaa", "zzz"):
        assert os.path.islink(out / "timers.target.wants" / f"ticketing-cron@{job}.timer")
    assert os.path.isfile(out / "ticketing-cron.timer.d" / "ticketing-cron-generator.conf")


def plan_of(oncalendar, normalized):
    """A Plan with only what timer_lines reads."""
    return Plan(job=SimpleNamespace(timezone="UTC"), oncalendar=tuple(oncalendar),
                normalized=tuple(normalized),
                next_runs=None, shortest_s=None, timeout_s=53)


def test_the_timer_is_ahead_when_every_line_can_be_shifted():
    plan = plan_of(["Fri *-*-* 04:30:00 UTC", "*-*-01,15 04:30:00 UTC"],
                   ["Fri *-*-* 04:30:00 UTC", "*-*-01,15 04:30:00 UTC"])
    assert timer_lines(plan) == ("Fri *-*-* 04:29:59 UTC", "*-*-01,15 04:29:59 UTC")


def test_one_line_that_cannot_be_shifted_keeps_all_the_jobs_own_lines():
    """A timer is ahead or not: mixed, a line at second 59 would share its elapse with
    the next second's line one second ahead."""
    plan = plan_of(["*-*-* *:*:59 UTC", "*-*-* *:05:00 UTC"],
                   ["*-*-* *:*:59 UTC", "*-*-* *:05:00 UTC"])
    assert timer_lines(plan) == plan.oncalendar
