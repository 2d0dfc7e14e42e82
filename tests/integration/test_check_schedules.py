"""`ticketing-cron check` on schedules: systemd's verdict, next runs, stale units."""

import re
import subprocess
import sys

from support import REPO

JOBS = """
[jobs.sla-check]
path = "/api/cron/sla-check"

[jobs.daily-digest]
path = "/api/cron/daily-digest"
schedule = "0 7 * * 1-5"
timezone = "Europe/Berlin"
deadline = 300

[jobs.cleanup]
path = "/api/cron/cleanup"
"""
RUN = r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"


def run_check(cli, extra_env=None):
    return cli.run("check", verbose=False, env=extra_env)


def test_each_job_shows_its_normalized_schedule_and_next_three_runs(cli):
    cli.configure("https://tickets.acme.test", rest=JOBS)
    result = run_check(cli, {"TICKETING_CRON_GENERATOR_DIR": "/nonexistent"})
    assert result.status == 0, result.stderr
    lines = {line.split(":")[0]: line for line in result.stdout.splitlines()}
    assert re.fullmatch(
        rf"schedule sla-check: '\*-\*-\* \*:\*:00' -> \*-\*-\* \*:\*:00 UTC "
        rf"\(ticketing-cron.timer, TimeoutStartSec=58s\); next: {RUN}, {RUN}, {RUN}",
        lines["schedule sla-check"]), lines["schedule sla-check"]
    digest = lines["schedule daily-digest"]
    assert re.fullmatch(
        rf"schedule daily-digest: '0 7 \* \* 1-5' -> Mon..Fri \*-\*-\* 07:00:00 Europe/Berlin "
        rf"\(ticketing-cron@daily-digest.timer, TimeoutStartSec=303s\); next: "
        rf"{RUN}, {RUN}, {RUN}", digest), digest
    # 07:00 in Berlin is 06:00 (winter) or 05:00 (summer) UTC, on weekdays only.
    runs = [m.group(0) for m in re.finditer(RUN, digest)]
    assert all(r[:3] in ("Mon", "Tue", "Wed", "Thu", "Fri") for r in runs), runs
    assert all(r.endswith((" 06:00:00 UTC", " 05:00:00 UTC")) for r in runs), runs
    assert lines["schedule cleanup"] == ("schedule cleanup: none; run by hand with "
                                         "`ticketing-cron run cleanup`")
    # No generator output at all while a job has a schedule: systemd has not seen it.
    assert result.stderr.splitlines() == [
        f"ticketing-cron: warning: the timers systemd runs differ from {cli.config_path} "
        f"(ticketing-cron@daily-digest.service, ticketing-cron@daily-digest.timer); run "
        f"systemctl daemon-reload"]


def test_a_bad_schedule_is_a_config_error_named_by_its_key(cli):
    cli.configure("https://tickets.acme.test", rest=JOBS + """
[jobs.month-end]
path = "/api/cron/month-end"
schedule = "0 23 L * *"

[jobs.often]
path = "/api/cron/often"
schedule = "*/5 * * * * *"
""")
    result = run_check(cli, {"TICKETING_CRON_GENERATOR_DIR": "/nonexistent"})
    assert result.status == 78
    errors = [line for line in result.stderr.splitlines() if "warning" not in line]
    assert errors == [
        "ticketing-cron: jobs.month-end.schedule: day-of-month field 'L': L (last day) has "
        "no faithful translation; use systemd calendar syntax such as \"*-*~01\" for the "
        "last day of the month",
        "ticketing-cron: api.deadline (no jobs.often.deadline): 6 s, plus 3 s for the unit "
        "to end the run, must be shorter than the 5 s between runs of '*/5 * * * * *'; "
        "set a shorter jobs.often.deadline",
        "ticketing-cron: 2 problems; fix and run `ticketing-cron check` again"]
    # The good jobs are still shown.
    assert "schedule daily-digest:" in result.stdout


def test_stale_units_ask_for_daemon_reload(cli, tmp_path):
    cli.configure("https://tickets.acme.test", rest=JOBS)
    generated = tmp_path / "generator"
    generated.mkdir()
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO),
           "TICKETING_CRON_GENERATOR_CONFIG": str(cli.config_path)}
    subprocess.run([sys.executable, str(REPO / "systemd" / "ticketing-cron-generator"),
                    str(generated)], env=env, check=True)
    env_check = {"TICKETING_CRON_GENERATOR_DIR": str(generated)}
    assert "daemon-reload" not in run_check(cli, env_check).stderr

    # The administrator edits the schedule and forgets the reload.
    cli.write_config(cli.config_path.read_text().replace("0 7 * * 1-5", "0 8 * * 1-5"))
    result = run_check(cli, env_check)
    assert result.status == 0
    assert result.stderr.splitlines() == [
        f"ticketing-cron: warning: the timers systemd runs differ from {cli.config_path} "
        f"(ticketing-cron@daily-digest.timer); run systemctl daemon-reload"]


def test_an_open_ended_repetition_systemd_misreads_gets_its_bounded_form(cli):
    cli.configure("https://tickets.acme.test", rest=JOBS + """
[jobs.sevens]
path = "/api/cron/sevens"
schedule = "*:00/7"

[jobs.fives]
path = "/api/cron/fives"
schedule = "*:00/5"

[jobs.bounded]
path = "/api/cron/bounded"
schedule = "*:00..56/7"

[jobs.cron-sevens]
path = "/api/cron/cron-sevens"
schedule = "*/7 * * * *"
""")
    result = run_check(cli, {"TICKETING_CRON_GENERATOR_DIR": "/nonexistent"})
    assert result.status == 0, result.stderr
    warned = [line for line in result.stderr.splitlines() if "open-ended" in line]
    assert warned == [
        "ticketing-cron: warning: jobs.sevens.schedule: systemd 252 skips runs of an "
        "open-ended repetition past the end of its field (\"*:00/7\" runs at 00:07 after "
        "23:56, not 00:00); write '00/7' as '00..56/7'"], result.stderr
