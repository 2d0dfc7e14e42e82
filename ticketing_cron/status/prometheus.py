"""`status --format=prometheus`: the report in Prometheus' text exposition format.

For node_exporter's textfile collector (ticketing-cron-metrics.timer writes it to
/var/lib/prometheus/node-exporter/ticketing-cron.prom). Pure functions of the report
that status.collect() makes; Debian's python3-prometheus-client is not needed for
a few gauges (and would cost its import on every scrape).

Every series of a job carries job_name="NAME" (not "job": Prometheus sets that label
itself, to the scrape job). A time that never happened (no run, no success yet) is 0,
so that "time() - ..._last_success_timestamp_seconds > 180" also fires for a job that
never succeeded.
"""

from ticketing_cron.base.errors import EXIT_STATUS
from ticketing_cron.base.timefmt import from_iso
from ticketing_cron.status.health import STATES

PREFIX = "ticketing_cron_"
OUTCOMES = tuple(EXIT_STATUS)

# name -> (type, help). The order is the file's.
METRICS = {
    "metrics_ok": ("gauge", "1 when systemd and the journal could be read and the "
                   "figures are complete, 0 when not (then only the config's jobs are known)."),
    "metrics_generated_timestamp_seconds": ("gauge", "When these figures were made."),
    "job_healthy": ("gauge", "1 unless the job is failing or overdue (as ticketing-cron "
                    "status judges it)."),
    "job_state": ("gauge", "The job's state as ticketing-cron status names it: 1 for the "
                  "current one."),
    "job_timer_active": ("gauge", "1 when the job's timer is enabled and active."),
    "job_next_run_timestamp_seconds": ("gauge", "When the job's timer fires next."),
    "job_last_run_timestamp_seconds": ("gauge", "When the last run started (0: never)."),
    "job_last_success_timestamp_seconds": ("gauge", "When the last successful run "
                                           "started (0: never)."),
    "job_last_run_exit_status": ("gauge", "The last run's exit status (0 ok; see "
                                 "ticketing-cron(8))."),
    "job_last_run_outcome": ("gauge", "The last run's outcome: 1 for the one it had."),
    "job_last_run_duration_seconds": ("gauge", "How long the last run took."),
    "job_last_run_unassigned": ("gauge", "Requests the last successful run unassigned."),
    "job_failure_streak": ("gauge", "Failed runs in a row, now (0: the last run "
                           "succeeded)."),
    "job_failure_streak_alerted": ("gauge", "1 when the current failure streak has been "
                                   "alerted, 0 when not (absent when unknown)."),
    "job_runs_24h": ("gauge", "Runs over the last 24 hours, by outcome."),
    "job_unassigned_24h": ("gauge", "Requests unassigned over the last 24 hours."),
}


def label_value(text):
    """A label value as the format wants it: backslash, double quote and newline
    escaped."""
    return str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def number(value):
    """A sample value: integers as such, other numbers in Python's shortest form."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def samples_of(job):
    """One job's samples.

    Args:
        job: one entry of the report's "jobs" (status.job_report's dict).
    Returns:
        list of (metric name without prefix, labels dict, value).
    """
    name = {"job_name": job["job"]}
    out = [("job_healthy", name, job["state"] not in ("failing", "overdue"))]
    out += [("job_state", dict(name, state=state), job["state"] == state) for state in STATES]
    if job.get("timer"):
        out.append(("job_timer_active", name,
                    bool(job.get("timer_enabled") and job.get("timer_active"))))
        if job.get("next_run"):
            out.append(("job_next_run_timestamp_seconds", name, from_iso(job["next_run"])))
    run = job.get("last_run")
    out.append(("job_last_run_timestamp_seconds", name, from_iso(run["at"]) if run else 0))
    out.append(("job_last_success_timestamp_seconds", name,
                from_iso(job["last_success"]) if job.get("last_success") else 0))
    if run:
        out.append(("job_last_run_exit_status", name,
                    run["exit_status"] if run["exit_status"] is not None
                    else EXIT_STATUS.get(run["outcome"], EXIT_STATUS["bug"])))
        out += [("job_last_run_outcome", dict(name, outcome=outcome),
                 run["outcome"] == outcome) for outcome in OUTCOMES]
        if run["duration_ms"] is not None:
            out.append(("job_last_run_duration_seconds", name, run["duration_ms"] / 1000))
        if run["outcome"] == "ok":
            out.append(("job_last_run_unassigned", name, run["unassigned"] or 0))
    streak = job["failure_streak"]
    out.append(("job_failure_streak", name, streak["failures"]))
    if streak["alerted"] is not None:
        out.append(("job_failure_streak_alerted", name, streak["alerted"]))
    day = job["last_24h"]
    failures = day["failures"]
    by_outcome = dict(failures, ok=day["runs"] - sum(failures.values()))
    out += [("job_runs_24h", dict(name, outcome=outcome), by_outcome.get(outcome, 0))
            for outcome in OUTCOMES]
    out.append(("job_unassigned_24h", name, day["unassigned"]))
    return out


def render(report, now, complete=True):
    """The whole exposition, one metric family after another.

    Args:
        report: status.collect()'s dict, or for an incomplete one (complete=False)
            {"jobs": []} or whatever could be known.
        now: epoch seconds.
        complete: whether systemd and the journal could be read.
    Returns:
        text ending in a newline.
    """
    samples = [("metrics_ok", {}, complete), ("metrics_generated_timestamp_seconds", {}, now)]
    for job in report.get("jobs", []) if complete else []:
        samples += samples_of(job)
    lines = []
    for metric, (kind, text) in METRICS.items():
        family = [(labels, value) for name, labels, value in samples if name == metric]
        if not family:
            continue
        lines += [f"# HELP {PREFIX}{metric} {text}", f"# TYPE {PREFIX}{metric} {kind}"]
        for labels, value in family:
            inner = ",".join(f'{key}="{label_value(val)}"' for key, val in labels.items())
            lines.append(f"{PREFIX}{metric}{{{inner}}} {number(value)}" if inner
                         else f"{PREFIX}{metric} {number(value)}")
    return "\n".join(lines) + "\n"
