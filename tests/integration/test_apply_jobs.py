"""`ticketing-cron apply-jobs` (run by ticketing-cron-apply.path when config.toml
changes): what it asks systemctl, what it clears, and that a bad config changes
nothing. systemctl is a recorder here; the booted container (tests/system/
test_schedules.py) runs the real one."""

import io
import subprocess

import pytest

from support import EXIT
from ticketing_cron.base.errors import ConfigError
from ticketing_cron.base.log import Log
from ticketing_cron.schedules.apply import apply_jobs, instance_of

LOADED = """ticketing-cron@hourly.timer loaded active waiting hourly
ticketing-cron@old.timer not-found active waiting old
ticketing-cron@old.service not-found failed failed old
ticketing-cron-failure@ticketing-cron@old.service.service loaded failed failed alert
ticketing-cron-recovery@ticketing-cron@hourly.service.service loaded inactive dead x
"""


class Systemctl:
    def __init__(self):
        self.calls = []

    def __call__(self, *args, check=True):
        self.calls.append(args)
        out = LOADED if args[0] == "list-units" else ""
        return subprocess.CompletedProcess(("systemctl", *args), 0, out, "")


def write_config(tmp_path, jobs):
    path = tmp_path / "config.toml"
    path.write_text('[api]\nbase_url = "https://app.test"\n\n'
                    '[jobs.sla-check]\npath = "/api/cron/sla-check"\n\n' + jobs)
    return path


def test_a_good_config_reloads_starts_its_timers_and_clears_a_removed_job(tmp_path):
    config = write_config(tmp_path, '[jobs.hourly]\npath = "/h"\nschedule = "0 * * * *"\n\n'
                                    '[jobs.by-hand]\npath = "/b"\n')
    stamps = tmp_path / "timers"
    stamps.mkdir()
    for name in ("stamp-ticketing-cron.timer", "stamp-ticketing-cron@hourly.timer",
                 "stamp-ticketing-cron@old.timer", "unrelated"):
        (stamps / name).write_text("")
    systemctl, out = Systemctl(), io.StringIO()
    assert apply_jobs(str(config), Log(journal=False, stream=out), environ={},
                      systemctl=systemctl, stamp_dir=str(stamps)) == 0
    calls = systemctl.calls
    assert calls[0] == ("daemon-reload",)
    assert calls[1] == ("start", "--", "ticketing-cron@hourly.timer")
    assert calls[2][0] == "list-units"
    assert calls[3] == ("stop", "--", "ticketing-cron@old.timer")
    assert calls[4] == ("reset-failed", "--",
                        "ticketing-cron-failure@ticketing-cron@old.service.service",
                        "ticketing-cron@old.service", "ticketing-cron@old.timer")
    assert len(calls) == 5
    assert sorted(p.name for p in stamps.iterdir()) == [
        "stamp-ticketing-cron.timer", "stamp-ticketing-cron@hourly.timer", "unrelated"]
    assert "timers of hourly active; cleared old" in out.getvalue()


def test_a_config_with_a_problem_changes_nothing(tmp_path):
    config = write_config(tmp_path, '[jobs.month-end]\npath = "/m"\nschedule = "0 23 L * *"\n'
                                    '[jobs.bad]\npath = "/b"\ndeadline = -1\n')
    stamps = tmp_path / "timers"
    stamps.mkdir()
    (stamps / "stamp-ticketing-cron@old.timer").write_text("")
    systemctl = Systemctl()
    with pytest.raises(ConfigError) as raised:
        apply_jobs(str(config), Log(journal=False, stream=io.StringIO()), environ={},
                   systemctl=systemctl, stamp_dir=str(stamps))
    assert systemctl.calls == []
    assert (stamps / "stamp-ticketing-cron@old.timer").exists()
    message = raised.value.message
    assert "jobs left as they were" in message and "jobs.bad.deadline" in message
    assert "jobs.month-end.schedule" in message


@pytest.mark.parametrize("unit, job", [
    ("ticketing-cron@nightly.timer", "nightly"),
    ("ticketing-cron@nightly.service", "nightly"),
    ("ticketing-cron-failure@ticketing-cron@nightly.service.service", "nightly"),
    ("ticketing-cron-recovery@ticketing-cron@a-b.service.service", "a-b"),
    ("ticketing-cron.timer", None),
    ("ticketing-cron-failure@ticketing-cron.service.service", None),
    ("ticketing-cron@.service", None),
    ("other@x.timer", None),
])
def test_instance_of(unit, job):
    assert instance_of(unit) == job


def test_the_command_reports_a_bad_config_in_one_line_and_exits_78(cli):
    cli.write_config('[api]\nbase_url = "https://app.test"\n\n[jobs.x]\npath = "/x"\n'
                     'schedule = "61 * * * *"\n')
    result = cli.run("apply-jobs", verbose=False)
    assert result.status == EXIT["config"]
    (line,) = result.stderr.splitlines()
    assert "jobs left as they were" in line and "Traceback" not in result.stderr


def test_the_command_without_systemd_says_so_and_exits_69(cli):
    cli.write_config('[api]\nbase_url = "https://app.test"\n')
    result = cli.run("apply-jobs", verbose=False)
    assert result.status == EXIT["unavailable"], result.stderr
    (line,) = result.stderr.splitlines()
    assert "systemctl daemon-reload" in line


def test_a_save_during_a_pass_is_applied_by_another_pass(tmp_path):
    """A path unit misses a change made while its service runs: apply-jobs looks at the
    file again after each pass."""
    config = write_config(tmp_path, "")
    saved = []

    class Saving(Systemctl):
        def __call__(self, *args, check=True):
            if args[0] == "daemon-reload" and not saved:
                saved.append(1)  # the administrator saves again during the first pass
                config.write_text(config.read_text() + '\n[jobs.new]\npath = "/n"\n'
                                  'schedule = "0 * * * *"\n')
            return super().__call__(*args, check=check)
    systemctl = Saving()
    apply_jobs(str(config), Log(journal=False, stream=io.StringIO()), environ={},
               systemctl=systemctl, stamp_dir=str(tmp_path / "none"))
    reloads = [c for c in systemctl.calls if c[0] == "daemon-reload"]
    assert len(reloads) == 2
    assert ("start", "--", "ticketing-cron@new.timer") in systemctl.calls
