"""`ticketing-cron apply-jobs`: make systemd follow config.toml's jobs (the path unit
ticketing-cron-apply.path runs it when the file changes).

A config with any problem `check` would report changes nothing: the generator would
otherwise drop a broken job's timer, or every job's. Else: `systemctl daemon-reload`
(the generator writes the jobs' units), the configured jobs' timers started (a
plain daemon-reload leaves a new one inactive), and what is left of a removed job
(its timer stopped, its failed service reset, its Persistent= stamp) cleared, so
that no removed job lingers in `systemctl --failed`.
"""

import io
import os
import subprocess

from ticketing_cron.base.errors import ConfigError, CronError, UnavailableError
from ticketing_cron.config.keys import DEFAULT_JOB
from ticketing_cron.config.load import load_config

STAMP_DIR = "/var/lib/systemd/timers"
SYSTEMCTL_TIMEOUT_S = 60
PREFIX = "ticketing-cron@"
HANDLERS = ("ticketing-cron-failure@", "ticketing-cron-recovery@")
MAX_PASSES = 5


def job_timer(name):
    """The timer unit the generator makes for job ``name``."""
    return f"{PREFIX}{name}.timer"


def instance_of(unit):
    """The job name in 'ticketing-cron@NAME.timer' (or .service, or an alert handler's
    'ticketing-cron-failure@ticketing-cron@NAME.service.service'), else None."""
    for handler in HANDLERS:
        if unit.startswith(handler):
            unit = unit[len(handler):].removesuffix(".service")
    if not unit.startswith(PREFIX):
        return None
    name, dot, _ = unit[len(PREFIX):].rpartition(".")
    return name if dot and name else None


def config_problems(config_path, environ):
    """Every problem `check` finds in the config and its schedules (not the secret).

    Returns:
        (config or None, a list of one-line problems).
    """
    from ticketing_cron.schedules.report import report_schedules, schedule_problems

    try:
        config = load_config(config_path)
    except CronError as e:
        return None, list(e.details or [e.message]) + schedule_problems(config_path)
    return config, report_schedules(config, io.StringIO(), io.StringIO(), environ)


def apply_jobs(config_path, log, environ=os.environ, systemctl=None, stamp_dir=STAMP_DIR):
    """apply_once() until the config file stays unchanged through a pass (at most
    MAX_PASSES): a path unit does not see a change made while its service runs, so a
    second save during a pass would otherwise never be applied.

    Returns and raises as apply_once().
    """
    for _ in range(MAX_PASSES):
        before = file_state(config_path)
        apply_once(config_path, log, environ, systemctl, stamp_dir)
        if file_state(config_path) == before:
            break
    return 0


def file_state(path):
    """What changes when a file is written or replaced: inode, size, mtime, ctime."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def apply_once(config_path, log, environ=os.environ, systemctl=None, stamp_dir=STAMP_DIR):
    """Reload systemd for the config's jobs and clear what removed jobs left.

    Args:
        config_path: the config file.
        log: a log.Log.
        systemctl: runs `systemctl ARGS...` and returns the CompletedProcess
            (replaceable in tests).
        stamp_dir: where systemd keeps Persistent= timers' stamps.
    Returns:
        0.
    Raises:
        ConfigError when the config has a problem (nothing was changed);
        UnavailableError when systemctl fails.
    """
    systemctl = systemctl or run_systemctl
    config, problems = config_problems(config_path, environ)
    if problems:
        raise ConfigError(f"{config_path}: {len(problems)} problem"
                          f"{'s' if len(problems) > 1 else ''}, jobs left as they were "
                          f"(run `ticketing-cron check`): {'; '.join(problems)}")
    scheduled = sorted(name for name, job in config.jobs.items()
                       if job.schedule is not None and name != DEFAULT_JOB)
    systemctl("daemon-reload")
    if scheduled:
        systemctl("start", "--", *[job_timer(name) for name in scheduled])
    listed = systemctl("list-units", "--all", "--plain", "--no-legend", "--full", "--",
                       f"{PREFIX}*", *[f"{h}{PREFIX}*" for h in HANDLERS]).stdout
    loaded = {line.split()[0] for line in listed.splitlines() if line.split()}
    gone = sorted(unit for unit in loaded
                  if instance_of(unit) and instance_of(unit) not in config.jobs)
    gone_timers = [u for u in gone if u.endswith(".timer")]
    if gone_timers:
        systemctl("stop", "--", *gone_timers)
    if gone:
        systemctl("reset-failed", "--", *gone, check=False)
    stamps = remove_stamps(stamp_dir, set(scheduled))
    removed = sorted({instance_of(u) for u in gone} | stamps)
    log.record(f"jobs applied from {config_path}: timers of {', '.join(scheduled) or 'none'}"
               f" active; cleared {', '.join(removed) or 'nothing'}", "info",
               {"JOBS": " ".join(scheduled), "REMOVED_JOBS": " ".join(removed) or None})
    return 0


def remove_stamps(stamp_dir, scheduled):
    """Remove the Persistent= stamps of job timers not in ``scheduled``; their names."""
    removed = set()
    try:
        names = os.listdir(stamp_dir)
    except OSError:
        return removed
    for name in names:
        job = instance_of(name.removeprefix("stamp-")) if name.startswith("stamp-") else None
        if job and job not in scheduled:
            try:
                os.unlink(os.path.join(stamp_dir, name))
            except FileNotFoundError:
                continue
            removed.add(job)
    return removed


def run_systemctl(*args, check=True):
    """`systemctl ARGS...`; raises UnavailableError when it fails and ``check``."""
    try:
        proc = subprocess.run(["systemctl", *args], capture_output=True, text=True,
                              timeout=SYSTEMCTL_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError) as e:
        raise UnavailableError(f"systemctl {args[0]}: {e}") from None
    if check and proc.returncode != 0:
        raise UnavailableError(f"systemctl {' '.join(args)}: exit {proc.returncode}: "
                               f"{proc.stderr.strip()[:300]}")
    return proc
