"""The systemd generator: a timer and service instance per scheduled job in config.toml.

Run by systemd at boot and on every daemon-reload (see systemd.generator(7)) as
/usr/lib/systemd/system-generators/ticketing-cron-generator NORMAL_DIR [EARLY LATE].
It writes into NORMAL_DIR only, calls no network, no D-Bus and no systemctl, reads no
secret, and never fails: a problem is logged to /dev/kmsg and the job skipped.
"""

import datetime
import functools
import os
import sys
import time

from ticketing_cron.base.errors import CronError
from ticketing_cron.base.text import one_line
from ticketing_cron.config.keys import DEFAULT_CONFIG_PATH, DEFAULT_JOB, DEFAULT_SCHEDULE
from ticketing_cron.config.load import each_job, read_toml
from ticketing_cron.config.validate import Config, table, validate_api
from ticketing_cron.schedules.ahead import LEAD_S, ahead_lines
from ticketing_cron.schedules.unit_dir import system_unit_dir

GENERATOR = "/usr/lib/systemd/system-generators/ticketing-cron-generator"
KMSG = "/dev/kmsg"
# What ticketing-cron.service's TimeoutStartSec= covers without a drop-in: a deadline of
# up to 55 s (api.deadline's maximum).
PACKAGED_TIMEOUT_S = 58
# Any time zone: every minute at second 0 is the same instants in all of them.
PACKAGED_NORMALIZED = DEFAULT_SCHEDULE


def main(argv, environ=os.environ):
    """Entry point: generate into argv[1]; always returns 0 so boot never fails."""
    # The variables exist for the tests, which run the generator on fixtures.
    config_path = environ.get("TICKETING_CRON_GENERATOR_CONFIG", DEFAULT_CONFIG_PATH)
    kmsg = environ.get("TICKETING_CRON_GENERATOR_KMSG", KMSG)
    if len(argv) < 2:
        log(kmsg, "usage: ticketing-cron-generator NORMAL_DIR [EARLY_DIR LATE_DIR]")
        return 0
    try:
        for problem in generate(config_path, argv[1]):
            log(kmsg, problem)
    except Exception as e:  # noqa: BLE001 - a generator must never fail boot
        log(kmsg, f"unexpected {type(e).__name__}: {e}; no job timers generated")
    return 0


def generate(config_path, out_dir):
    """Write the units for every good scheduled job of ``config_path`` into ``out_dir``.

    Returns:
        The problems, one line each (a skipped job, an unreadable config).
    """
    if any(not c.isprintable() for c in config_path):
        return [f"config path {config_path!r} is not printable; nothing generated"]
    try:
        data = read_toml(config_path)
    except CronError as e:
        return [f"{e.message}; no job timers generated"]
    problems = []
    # Only api.deadline matters here: base_url's checks would import urllib3.
    api = validate_api({key: value for key, value in table(data, "api", [], default={}).items()
                        if key != "base_url"}, [])
    jobs_table = table(data, "jobs", problems, default={DEFAULT_JOB: {"path": "/"}})
    valid, skipped = each_job(jobs_table)
    problems.extend(f"[jobs.{safe(name)}] skipped: {'; '.join(job_problems)}"
                    for name, job_problems in skipped.items())
    jobs = [job for job in valid.values()
            if job.schedule is not None and not is_packaged_sla_check(job, api)]
    if not jobs:
        return problems
    from ticketing_cron.schedules.window import plan_jobs  # runs systemd-analyze

    try:
        # From this process's clock, not systemd-analyze's: one instant for every job.
        plans, bad = plan_jobs(Config(config_path, api, {}, None), jobs,
                               datetime.datetime.now(datetime.timezone.utc))
    except CronError as e:
        return problems + [f"{e.message}; no job timers generated"]
    problems.extend(f"[jobs.{name}] skipped: {problem}" for name, problem in bad.items())
    try:
        out = os.open(out_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as e:
        return problems + [f"cannot open {safe(out_dir)}: {e.strerror or e}; no job timers "
                           f"generated"]
    try:
        for name, plan in sorted(plans.items()):
            try:
                if name == DEFAULT_JOB:
                    write_sla_check(out, config_path, plan)
                else:
                    write_job(out, config_path, plan)
            except OSError as e:  # this job's units only: the others still get theirs
                problems.append(f"[jobs.{safe(name)}] skipped: cannot write its units: "
                                f"{e.strerror or e}")
    finally:
        os.close(out)
    return problems


def is_packaged_sla_check(job, api):
    """True for sla-check as ticketing-cron.timer/.service ship it: nothing to generate."""
    deadline = job.deadline if job.deadline is not None else api.deadline
    return job.name == DEFAULT_JOB and job.schedule == DEFAULT_SCHEDULE and \
        job.timezone == "UTC" and deadline + 3 <= PACKAGED_TIMEOUT_S


def write_job(out, config_path, plan):
    """The drop-ins of ticketing-cron@NAME.timer/.service and the link that enables it,
    under the directory open as file descriptor ``out``."""
    name = plan.job.name
    write_timer(out, f"ticketing-cron@{name}.timer", config_path, plan)
    write_service(out, f"ticketing-cron@{name}.service", config_path, plan)
    if not is_directory(out, "timers.target.wants"):
        make_directory(out, "timers.target.wants")
    os.symlink(f"{system_unit_dir()}/ticketing-cron@.timer",
               f"timers.target.wants/ticketing-cron@{name}.timer", dir_fd=out)


def write_sla_check(out_dir, config_path, plan):
    """Drop-ins for ticketing-cron.timer/.service, only where the config departs from them."""
    if not packaged_schedule(plan):
        write_timer(out_dir, "ticketing-cron.timer", config_path, plan)
    if sla_check_timeout(plan) != PACKAGED_TIMEOUT_S:
        write_service(out_dir, "ticketing-cron.service", config_path, plan)


def packaged_schedule(plan):
    """True when a plan's schedule is ticketing-cron.timer's own, every minute."""
    return all(without_zone(n) == PACKAGED_NORMALIZED for n in plan.normalized)


def sla_check_timeout(plan):
    """ticketing-cron.service's TimeoutStartSec= in seconds for sla-check's plan: the
    packaged 58 s while it keeps the packaged schedule and its deadline fits."""
    if packaged_schedule(plan) and plan.timeout_s <= PACKAGED_TIMEOUT_S:
        return PACKAGED_TIMEOUT_S
    return plan.timeout_s


def without_zone(normalized):
    """A normalized calendar expression without its trailing time zone, if it has one."""
    words = normalized.split()
    return " ".join(words[:-1]) if len(words) > 2 else normalized


def write_timer(out_dir, unit, config_path, plan):
    """The timer drop-in: the job's OnCalendar= lines, replacing the packaged ones, one
    second ahead where every line can be shifted exactly (see schedules.ahead)."""
    lines = timer_lines(plan)
    note = ""
    if lines != plan.oncalendar:
        note = ("# The job's schedule: " + "; ".join(plan.oncalendar) + ".\n# The timer "
                f"elapses {LEAD_S} s ahead of it: the run gets ready and sends on the "
                "second\n# (see ticketing-cron(8)).\n")
    body = note + "[Timer]\nOnCalendar=\n" + "".join(f"OnCalendar={line}\n" for line in lines)
    write_dropin(out_dir, unit, config_path, plan.job.name, body)


def timer_lines(plan):
    """The timer's OnCalendar= values for ``plan``: every line's ahead values, or the
    job's own lines when any of them cannot be shifted (a timer is ahead or not)."""
    fixed = fixed_offset(plan.job.timezone)
    shifted = [ahead_lines(n, fixed) for n in plan.normalized]
    if any(values is None for values in shifted):
        return plan.oncalendar
    return tuple(value for values in shifted for value in values)


@functools.lru_cache(maxsize=None)
def fixed_offset(zone):
    """True when time zone ``zone`` keeps one offset from UTC from now on (UTC does);
    False when it changes or its file cannot be read."""
    if zone == "UTC":
        return True
    from ticketing_cron.schedules import zonetable

    try:
        table = zonetable.table(zone, int(time.time()))
    except (zonetable.Unknown, ValueError, OSError, KeyError):  # KeyError: no such zone
        return False
    return not table.changes and table.known_until is None


def write_service(out_dir, unit, config_path, plan):
    """The service drop-in: TimeoutStartSec= a little above the job's deadline."""
    write_dropin(out_dir, unit, config_path, plan.job.name,
                 f"[Service]\nTimeoutStartSec={plan.timeout_s}s\n")


def write_dropin(out, unit, config_path, name, body):
    """Write UNIT.d/ticketing-cron-generator.conf, naming its source, under ``out`` (a
    directory's file descriptor). Plain system calls: thousands of jobs, at every boot."""
    make_directory(out, unit + ".d")
    text = (f"# Generated by {GENERATOR}\n# from [jobs.{name}] in {config_path}: edit "
            f"that file and run \"systemctl daemon-reload\".\n"
            f"[Unit]\nSourcePath={config_path}\n\n{body}").encode("ascii")
    fd = os.open(f"{unit}.d/ticketing-cron-generator.conf",
                 os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644,
                 dir_fd=out)
    try:
        while text:
            text = text[os.write(fd, text):]
    finally:
        os.close(fd)


def make_directory(out, name):
    """The directory ``name`` under ``out``, made unless it is there already."""
    try:
        os.mkdir(name, 0o755, dir_fd=out)
    except FileExistsError:
        if not is_directory(out, name):
            raise


def is_directory(out, name):
    """True when ``name`` under the directory ``out`` is a directory."""
    import stat

    try:
        return stat.S_ISDIR(os.stat(name, dir_fd=out).st_mode)
    except OSError:
        return False


def safe(text):
    """``text`` cut to one short printable line for the kernel log."""
    return one_line(str(text), 80)


def log(kmsg, message):
    """One warning record in the kernel log (stderr when /dev/kmsg cannot be opened)."""
    line = f"<4>ticketing-cron-generator: {one_line(message, 900)}\n"
    try:
        # Never O_CREAT: without a kernel log there must not appear a file in /dev.
        fd = os.open(kmsg, os.O_WRONLY | os.O_APPEND | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        sys.stderr.write(line[3:])
        return
    try:
        os.write(fd, line.encode("utf-8", "replace"))
    except OSError:
        sys.stderr.write(line[3:])
    finally:
        os.close(fd)
