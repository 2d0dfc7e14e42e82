"""`ticketing-cron status [JOB] [--format=FMT]`: is it healthy, and how has it been today?

From systemd (the timer and service of each job) and the journal (each job's summary
records over the last 24 hours, and the alert handlers' streak file). Exit status: 0
when no scheduled job is failing or overdue, 1 when one is, 78 on a config error.
"""

import json
import os
import time

from ticketing_cron.config.load import job_deadline, load_config, unit_names, unknown_job
from ticketing_cron.base.errors import CronError, EXIT_STATUS, UnavailableError
from ticketing_cron.status import health, journal_runs, stats, units
from ticketing_cron.status.status_text import render
from ticketing_cron.alerts.run_record import uids_from
from ticketing_cron.base.timefmt import iso
from ticketing_cron.run.slot import elapse_served


def status(config_path, job_name, fmt, out, err, now=None, output=None):
    """Print the status of every job (or of ``job_name``) and return the exit status.

    Args:
        config_path: the TOML file.
        job_name: one [jobs.NAME] key, or None for all jobs.
        fmt: "text" (for people), "json" (one document) or "prometheus" (the text
            exposition format, for node_exporter's textfile collector).
        out, err: text streams.
        now: epoch seconds (default: the clock).
        output: a file to replace atomically (mode 0644) with the report instead of
            printing it, or None.
    Returns:
        0 healthy, 1 failing or overdue (or systemd/the journal could not be asked),
        78 config error. When the report cannot be made, json and prometheus still
        give one (with "error", or ticketing_cron_metrics_ok 0).
    Raises:
        UnavailableError when ``output`` cannot be written.
    """
    now = time.time() if now is None else now
    jobs = []
    try:
        config = load_config(config_path)
        jobs = select_jobs(config, job_name, config_path)
        report = collect(config, jobs, now)
        exit_status = 0 if report["healthy"] else 1
    except CronError as e:
        report = failed_report(e.message, jobs, now)
        exit_status = EXIT_STATUS["config"] if e.outcome == "config" else 1
    except (ImportError, OSError) as e:
        report = failed_report(f"cannot read the journal ({e}); status needs python3-systemd, "
                               f"and root or the systemd-journal or adm group", jobs, now)
        exit_status = 1
    if "error" in report:
        err.write(f"ticketing-cron: {report['error']}\n")
    text = render_as(fmt, report, now)
    if output is None:
        out.write(text)
    else:
        write_atomically(output, text)
    if "error" not in report and not can_read_system_journal():
        err.write("ticketing-cron: warning: only root and the systemd-journal and adm "
                  "groups can read the runs' records; what is shown may be incomplete\n")
    return exit_status


def render_as(fmt, report, now):
    """The report as text in ``fmt`` ("text", "json" or "prometheus"); for text, nothing
    when the report could not be made (the error went to stderr)."""
    if fmt == "json":
        return json.dumps(report, indent=2) + "\n"
    if fmt == "prometheus":
        from ticketing_cron.status import prometheus

        return prometheus.render(report, now, complete="error" not in report)
    return "" if "error" in report else render(report, now)


def write_atomically(path, text):
    """Replace ``path`` with ``text`` (mode 0644, owned by the caller): a reader such as
    node_exporter sees the old file or the new one, never a part.

    Raises:
        UnavailableError.
    """
    from ticketing_cron.base import atomic

    try:
        atomic.stage(path, text.encode(), 0o644, os.geteuid(), os.getegid()).commit()
    except OSError as e:
        raise UnavailableError(f"cannot write {path}: {e.strerror or e}") from None


def failed_report(message, jobs, now):
    """The report when status could not be worked out: "error", and what the config
    says of each job when it could be read, so that a script always has something
    to parse."""
    known = [{"job": job.name, "state": "unknown", "schedule": job.schedule,
              "timezone": job.timezone, "service": unit_names(job.name)[0],
              "timer": unit_names(job.name)[1] if job.schedule else None}
             for job in jobs]
    return {"healthy": False, "generated_at": iso(now), "error": message, "jobs": known}


def select_jobs(config, job_name, config_path):
    """The JobConfigs to report on, sorted by name.

    Raises:
        ConfigError for a job that is not in the config.
    """
    if job_name is None:
        return [config.jobs[name] for name in sorted(config.jobs)]
    if job_name not in config.jobs:
        raise unknown_job(job_name, config.jobs, config_path)
    return [config.jobs[job_name]]


def collect(config, jobs, now, show=units.show, history=None, load_streak=None):
    """The whole report as a JSON-ready dict: healthy, generated_at and jobs (a list).

    Args:
        show, history, load_streak: where unit state, journal history and the alert
            streak come from; replaceable in tests (history as journal_runs.job_history;
            by default every job's day is read from the journal in one pass).
    """
    load_streak = load_streak or alert_streak
    names = {job.name: unit_names(job.name) for job in jobs}
    props = show([u for job in jobs for u in names[job.name]])
    users = {job.name: uids_from(props.get(names[job.name][0], {})) for job in jobs}
    if history is None:
        found = journal_runs.histories(
            {job.name: (names[job.name][0], users[job.name]) for job in jobs}, now)

        def history(_service, name, _now, _uids):
            return found[name]
    reports = []
    for job in jobs:
        service, timer = names[job.name]
        service_props = props.get(service, {})
        history_of = history(service, job.name, now, users[job.name])
        reports.append(job_report(job, config, now, service, timer, service_props,
                                  props.get(timer, {}), history_of, load_streak(service)))
    return {"healthy": health.exit_status([r["state"] for r in reports]) == 0,
            "generated_at": iso(now), "jobs": reports}


def job_report(job, config, now, service, timer, service_props, timer_props, history,
               streak_state):
    """One job's entry of the report.

    Args:
        job: its JobConfig; config: the Config.
        service, timer: its unit names; service_props, timer_props: their properties.
        history: journal_runs.job_history()'s dict.
        streak_state: (alert state dict or None, True if that file could be read).
    """
    timer_info = units.timer_state(timer_props, service) if job.schedule else None
    last_run, last_success = history["last_run"], history["last_success"]
    state, problem = health.judge(timer_info, last_run, now, job_deadline(config, job),
                                  service_props.get("ActiveState", "inactive"),
                                  units.service_run(service_props))
    return {
        "job": job.name, "state": state, "problem": problem,
        "schedule": job.schedule, "timezone": job.timezone,
        "service": service, "timer": timer if job.schedule else None,
        "timer_enabled": None if timer_info is None else
        timer_info["unit_file_state"] in health.ENABLED_STATES,
        "timer_active": None if timer_info is None else timer_info["active_state"] == "active",
        "next_run": iso(timer_info and timer_info["next_elapse"] and
                        elapse_served(job, timer_info["next_elapse"])),
        "last_run": run_json(last_run),
        "last_success": iso(last_success and last_success["at"]),
        "failure_streak": streak_json(history["day"], last_run, streak_state),
        "last_24h": stats.summarize_day(history["day"], now),
    }


def run_json(run):
    """A run dict for --json: times as ISO 8601 UTC."""
    if run is None:
        return None
    return {"at": iso(run["at"]), "outcome": run["outcome"], "message": run["message"],
            "duration_ms": run["duration_ms"], "exit_status": run["exit_status"],
            "http_status": run["http_status"], "unassigned": run["unassigned"],
            "request_id": run["request_id"]}


def streak_json(day, last_run, streak_state):
    """The current failure streak: failures, since, alerted, alerts_sent.

    From the alert handlers' state file when it is there (it also knows about
    alerts); else counted from the day's records, with alerted false when there is no
    file and null (unknown) when it could not be read.
    """
    if last_run is None or last_run["outcome"] == "ok":
        return {"failures": 0, "since": None, "alerted": False, "alerts_sent": 0}
    state, readable = streak_state
    if state is not None:
        return {"failures": int(state["consecutive_failures"]),
                "since": iso(state["first_failure_at"]),
                "alerted": state["last_alert_at"] is not None,
                "alerts_sent": int(state["alerts_sent"])}
    count, since = stats.streak(day)
    if not day:
        count, since = 1, last_run["at"]
    return {"failures": count, "since": iso(since), "alerted": False if readable else None,
            "alerts_sent": 0 if readable else None}


def alert_streak(service):
    """(the alert handlers' streak for ``service`` or None, whether it could be read)."""
    from ticketing_cron.alerts.state import DEFAULT_STATE_DIR, load_state, state_path

    path = state_path(DEFAULT_STATE_DIR, service)
    state, problem = load_state(path)
    return state, problem is None or os.path.exists(path) and os.access(path, os.R_OK)


def can_read_system_journal():
    """True for root and members of the groups that may read the system journal."""
    if os.geteuid() == 0:
        return True
    import grp

    wanted = set()
    for name in ("systemd-journal", "adm"):
        try:
            wanted.add(grp.getgrnam(name).gr_gid)
        except KeyError:
            pass
    return bool(wanted & set(os.getgroups() + [os.getegid()]))
