"""The schedules part of `ticketing-cron check`: each job's timer, next runs, drift."""

import os
import tempfile

from ticketing_cron.config.keys import DEFAULT_CONFIG_PATH, DEFAULT_JOB
from ticketing_cron.config.load import each_job, read_toml
from ticketing_cron.config.validate import Config, table, validate_api
from ticketing_cron.base.errors import CronError
from ticketing_cron.schedules import generator
from ticketing_cron.schedules.ahead import bounded_forms
from ticketing_cron.schedules.match import unevaluated
from ticketing_cron.schedules.plan import plan_jobs

GENERATOR_DIR = "/run/systemd/generator"


def report_schedules(config, out, err, environ=os.environ):
    """Print each job's normalized schedule and next three runs; warn about stale units.

    Args:
        config: the validated Config.
        out, err: text streams for the schedules and for warnings.
        environ: the process environment (TICKETING_CRON_GENERATOR_DIR for tests).
    Returns:
        The problems, one line each with its key path.
    """
    scheduled = [job for job in config.jobs.values() if job.schedule is not None]
    try:
        plans, bad = plan_jobs(config, scheduled)
    except CronError as e:
        return [e.message]
    for job in config.jobs.values():
        if job.schedule is None:
            out.write(f"schedule {job.name}: none; run by hand with "
                      f"`ticketing-cron run {job.name}`\n")
        elif job.name in plans:
            plan = plans[job.name]
            unit = "ticketing-cron.timer" if job.name == DEFAULT_JOB else \
                f"ticketing-cron@{job.name}.timer"
            timeout = generator.sla_check_timeout(plan) if job.name == DEFAULT_JOB \
                else plan.timeout_s
            runs = ", ".join(t.strftime("%a %Y-%m-%d %H:%M:%S UTC") for t in plan.next_runs)
            either = "; either day matches, as in cron (node-cron required both)" \
                if len(plan.normalized) > 1 else ""
            out.write(f"schedule {job.name}: {job.schedule!r} -> "
                      f"{' | '.join(plan.normalized)} ({unit}, TimeoutStartSec="
                      f"{timeout}s{either}); next: {runs or 'never'}\n")
            misread = [pair for line in plan.normalized for pair in bounded_forms(line)]
            if misread:
                forms = ", ".join(f"{a!r} as {b!r}" for a, b in misread)
                err.write(f"ticketing-cron: warning: jobs.{job.name}.schedule: systemd "
                          f"252 skips runs of an open-ended repetition past the end of its "
                          f"field (\"*:00/7\" runs at 00:07 after 23:56, not 00:00); write "
                          f"{forms}\n")
            why = unevaluated(job.schedule)
            if why:
                err.write(f"ticketing-cron: warning: jobs.{job.name}.schedule: the run cannot "
                          f"compute its slot ({why}), so its Idempotency-Key is not the "
                          f"same on every server and several servers would each do its "
                          f"work; write it as a cron line or in plain calendar syntax "
                          f"(see /usr/share/doc/ticketing-cron/docs/servers.md, \"One key "
                          f"per scheduled run\")\n")
    stale = stale_units(config.path, environ)
    if stale:
        err.write(f"ticketing-cron: warning: the timers systemd runs differ from "
                  f"{config.path} ({stale}); run systemctl daemon-reload\n")
    return [bad[job.name] for job in scheduled if job.name in bad]


def schedule_problems(config_path):
    """The schedule problems of the jobs that are valid on their own, for a config that
    as a whole is not: check reports them in the same pass as the config's problems
    (other keys at fault fall back to their defaults here).

    Args:
        config_path: the config file.
    Returns:
        The problems, one line each with its key path ([] when it cannot be read).
    """
    try:
        data = read_toml(config_path)
    except CronError:
        return []  # already reported by load_config
    valid, _ = each_job(table(data, "jobs", [], default={}))
    scheduled = [job for job in valid.values() if job.schedule is not None]
    if not scheduled:
        return []
    api = validate_api(table(data, "api", [], default={}), [])
    try:
        _, bad = plan_jobs(Config(config_path, api, {}, None), scheduled)
    except CronError as e:
        return [e.message]
    return [bad[job.name] for job in scheduled if job.name in bad]


def stale_units(config_path, environ):
    """What differs between the generator's last output and what the config makes now.

    Compares the files, not systemd's state, so it needs no D-Bus. Only for the config
    the generator reads, and only where systemd has run generators.
    Returns:
        "" when they match (or cannot be compared), else a short description.
    """
    directory = environ.get("TICKETING_CRON_GENERATOR_DIR")
    if directory is None:
        if config_path != DEFAULT_CONFIG_PATH or not os.path.isdir(GENERATOR_DIR) \
                or not os.path.exists(generator.GENERATOR):
            return ""
        directory = GENERATOR_DIR
    with tempfile.TemporaryDirectory(prefix="ticketing-cron-check.") as scratch:
        generator.generate(config_path, scratch)
        wanted = generated_files(scratch)
    running = generated_files(directory)
    units = sorted({path.split("/")[-1 if path.startswith("timers.") else 0]
                    .removesuffix(".d") for path in set(wanted) ^ set(running)
                    | {k for k in set(wanted) & set(running) if wanted[k] != running[k]}})
    return ", ".join(units)


def generated_files(directory):
    """{relative path: text or '-> target'} of the generator's files under ``directory``."""
    found = {}
    for top in (directory, os.path.join(directory, "timers.target.wants")):
        try:
            names = os.listdir(top)
        except OSError:
            continue
        for name in names:
            if not name.startswith("ticketing-cron"):
                continue
            path = os.path.join(top, name)
            if os.path.islink(path):
                found[os.path.relpath(path, directory)] = "-> " + os.readlink(path)
            elif os.path.isdir(path):
                conf = os.path.join(path, "ticketing-cron-generator.conf")
                if os.path.isfile(conf):
                    with open(conf, encoding="utf-8", errors="replace") as f:
                        found[os.path.relpath(conf, directory)] = f.read()
    return found
